import { ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

/**
 * A real Prometheus (Debian's /usr/bin/prometheus) on a free loopback port, with its own
 * temporary storage, scraping one loopback target every second.
 */

const BINARY = process.env.STAGECOACH_TEST_PROMETHEUS ?? '/usr/bin/prometheus';

export interface TestPrometheus {
  /** `http://127.0.0.1:<port>` */
  url: string;
  /** Runs an instant query through the HTTP API; the parsed answer. */
  query(promql: string): Promise<any>;
  /** Resolves once `promql` gives a sample for which `accept` holds (polling the API). */
  waitFor(promql: string, accept?: (values: number[]) => boolean, timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise(resolve => server.close(resolve));
  return port;
}

const pause = (ms: number) => new Promise(resolve => setTimeout(resolve, ms));

/**
 * Starts Prometheus scraping `target` (`127.0.0.1:<port>`, path /metrics) every second, and
 * waits until it is ready and has scraped the target once.
 */
export async function startPrometheus(target: string): Promise<TestPrometheus> {
  if (!fs.existsSync(BINARY)) {
    throw new Error(`${BINARY} is missing: install Debian's prometheus package (apt-get install prometheus)`);
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stagecoach-prometheus-'));
  const config = path.join(dir, 'prometheus.yml');
  fs.writeFileSync(
    config,
    [
      'global:',
      '  scrape_interval: 1s',
      '  scrape_timeout: 1s',
      '  evaluation_interval: 1s',
      'scrape_configs:',
      '  - job_name: stagecoach-test',
      '    static_configs:',
      `      - targets: ['${target}']`,
      '',
    ].join('\n'),
  );
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  let output = '';
  const child: ChildProcess = spawn(
    BINARY,
    [
      `--config.file=${config}`,
      `--storage.tsdb.path=${path.join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--storage.tsdb.retention.time=1h',
      '--log.level=warn',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child.stdout?.on('data', d => (output += d));
  child.stderr?.on('data', d => (output += d));
  let exited = false;
  const exit = new Promise<void>(resolve => {
    child.once('exit', () => {
      exited = true;
      resolve();
    });
    // a process that cannot be started reports 'error' instead: without a listener it would end the test run
    child.once('error', e => {
      output += `\ncannot start ${BINARY}: ${e.message}`;
      exited = true;
      resolve();
    });
  });

  const stop = async () => {
    if (!exited) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exit;
      clearTimeout(timer);
    }
    fs.rmSync(dir, { recursive: true, force: true });
  };

  const query = async (promql: string) => {
    const res = await fetch(`${url}/api/v1/query?${new URLSearchParams({ query: promql })}`);
    return res.json();
  };

  const waitFor = async (promql: string, accept: (values: number[]) => boolean = v => v.length > 0, timeoutMs = 30_000) => {
    const deadline = Date.now() + timeoutMs;
    let last: unknown;
    while (Date.now() < deadline) {
      if (exited) throw new Error(`prometheus exited: ${output}`);
      try {
        last = await query(promql);
        const result = (last as any)?.data?.result;
        if (Array.isArray(result) && accept(result.map((s: any) => Number(s.value[1])))) return;
      } catch (e) {
        last = e;
      }
      await pause(200);
    }
    throw new Error(`prometheus: ${promql} gave no acceptable sample within ${timeoutMs}ms (last: ${JSON.stringify(last)})`);
  };

  try {
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (exited) throw new Error(`prometheus exited before it was ready: ${output}`);
      if (Date.now() > deadline) throw new Error(`prometheus was not ready within 30s: ${output}`);
      try {
        if ((await fetch(`${url}/-/ready`)).ok) break;
      } catch {
        // not listening yet
      }
      await pause(100);
    }
    await waitFor('up{job="stagecoach-test"} == 1');
  } catch (e) {
    await stop();
    throw e;
  }
  return { url, query, waitFor, stop };
}
