import fs from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createBareRepo, git, GitHttpServer, startGitHttpServer } from '.';

/** The `git http-backend` processes this test process started that are still running (Linux /proc). */
async function runningBackends(): Promise<number> {
  let count = 0;
  for (const pid of await fs.readdir('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    const [stat, cmdline] = await Promise.all([
      fs.readFile(`/proc/${pid}/stat`, 'utf8').catch(() => ''),
      fs.readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => ''),
    ]);
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    const state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
    if (ppid === process.pid && state !== 'Z' && cmdline.split('\0').includes('http-backend')) count++;
  }
  return count;
}

/** Waits until no git http-backend of ours runs; fails after a generous 30 s of them staying. */
async function noBackendLeft(): Promise<number> {
  for (let i = 0; i < 300; i++) {
    const n = await runningBackends();
    if (n === 0) return 0;
    await new Promise(resolve => setTimeout(resolve, 100));
  }
  return runningBackends();
}

/** A raw request to the server; resolves with the status (or the error when the server hung up). */
function post(url: string, body: Buffer): Promise<number | string> {
  return new Promise(resolve => {
    const req = http.request(
      url,
      { method: 'POST', headers: { 'content-type': 'application/x-git-upload-pack-request', 'content-length': body.length } },
      res => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', e => resolve(String(e)));
      },
    );
    // the server may answer (and close) before the whole body went out
    req.on('error', e => resolve(String(e)));
    req.end(body);
  });
}

describe('startGitHttpServer when git or the client stops early (real git http-backend on loopback)', () => {
  let root: string;
  let server: GitHttpServer;

  beforeEach(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'git-server-robust-'));
    await createBareRepo(path.join(root, 'repos'), 'app', [{ files: { 'README.md': 'hello\n' }, message: 'first' }]);
    server = await startGitHttpServer({ root: path.join(root, 'repos') });
  });

  afterEach(async () => {
    await server.close();
    await fs.rm(root, { recursive: true, force: true });
  });

  const stillServes = async () =>
    expect(await git(root, 'ls-remote', '--heads', `${server.url}/app.git`)).toMatch(/\trefs\/heads\/main$/);

  it('keeps serving after git exits without reading a large request body (EPIPE on its stdin)', async () => {
    // no such repository: http-backend answers 404 at once and never reads the 8 MiB sent to it
    const body = Buffer.alloc(8 * 1024 * 1024, 'x');
    for (let i = 0; i < 3; i++) {
      const answer = await post(`${server.url}/missing.git/git-upload-pack`, body);
      expect([404, 'Error: write EPIPE', 'Error: socket hang up', 'Error: read ECONNRESET']).toContain(answer);
    }
    await stillServes();
  });

  it('keeps serving after a client hangs up in the middle of sending its request', async () => {
    for (let i = 0; i < 3; i++) {
      const socket = net.connect(server.port, '127.0.0.1');
      await new Promise<void>(resolve => socket.once('connect', () => resolve()));
      socket.write(
        [
          'POST /app.git/git-upload-pack HTTP/1.1',
          'Host: 127.0.0.1',
          'Content-Type: application/x-git-upload-pack-request',
          'Content-Length: 1000000',
          '',
          '0032want ',
        ].join('\r\n'),
      );
      // once the server has started git for it, go away
      for (let tries = 0; tries < 300 && (await runningBackends()) === 0; tries++) {
        await new Promise(resolve => setTimeout(resolve, 10));
      }
      socket.destroy();
    }
    // git, left waiting for the rest of the request, is ended rather than kept forever
    expect(await noBackendLeft()).toBe(0);
    await stillServes();
  });

  it('keeps serving after a client hangs up while the answer is being sent', async () => {
    const socket = net.connect(server.port, '127.0.0.1');
    await new Promise<void>(resolve => socket.once('connect', () => resolve()));
    socket.write('GET /app.git/info/refs?service=git-upload-pack HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    await new Promise<void>(resolve => socket.once('data', () => resolve()));
    socket.destroy();
    expect(await noBackendLeft()).toBe(0);
    await stillServes();
  });

  it('answers 400 to a path it cannot decode, or one that climbs out once decoded', async () => {
    expect(await post(`${server.url}/app.git/%E0%A4%A`, Buffer.alloc(0))).toBe(400);
    expect(await post(`${server.url}/app.git/..%2f..%2f..%2fetc/git-upload-pack`, Buffer.alloc(0))).toBe(400);
    await stillServes();
  });
});
