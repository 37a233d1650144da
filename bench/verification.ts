/*
 * Verification benchmark: what the engine's verification machinery (VerificationWorker:
 * claims, stage health, the web provider, the records it keeps) costs per measurement, as
 * a ratio against the bare HTTP requests in the same run:
 *  - engine: one verification on each of BENCH_STAGES stages (`engine.reverify`), each one
 *    `web` metric with count 3 and interval 0s against a loopback endpoint answering
 *    {"status":"ok"}, run by the worker's ticks until all have ended (reverify itself is
 *    timed apart: `reverifySeconds`);
 *  - baseline: the same requests with fetch to the same endpoint, three in a row per stage,
 *    as many stages side by side as the worker advances at once (8).
 * The two sides take turns, BENCH_ROUNDS rounds after a warm-up round that is not counted.
 * Progress goes to stderr; the last line of stdout is one JSON object (its fields are
 * described where it is made, at the end of main).
 *
 *   yarn bench:verification
 *   BENCH_STAGES=20 BENCH_ROUNDS=2 yarn bench:verification
 *   BENCH_POSTGRES_URL=postgresql://postgres@127.0.0.1:5432 yarn bench:verification
 *   BENCH_DRIVE=worker BENCH_ROUNDS=1 yarn bench:verification   # the worker's own timer
 *
 * Setup, chosen as the simplest honest way to stages that can be re-verified: each stage has
 * one compose-output step and is promoted once by the engine's promotion worker (a
 * re-verification needs a stage with steps and current freight, and only a Succeeded
 * promotion makes a stage without Argo CD apps Healthy, which a verification waits for).
 * Those promotions queue one verification per stage, which run before measuring.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { StagecoachEngine } from '../plugins/stagecoach-backend/src/app';
import { EgressPolicy } from '../plugins/stagecoach-backend/src/integrations/http/egress';
import type { Logger } from '../plugins/stagecoach-backend/src/util/types';
import {
  intFromEnv,
  log,
  openDatabase,
  POSTGRES_URL,
  reportFailure,
  round2,
  runCleanup,
  seconds,
  statementMeter,
} from './common';

/** Stages verified at once (and request sequences run side by side by the baseline). */
const STAGES = intFromEnv('BENCH_STAGES', 50);
/** Counted rounds of each side, after one warm-up round. */
const ROUNDS = intFromEnv('BENCH_ROUNDS', 10);
/** Measurements per verification: the web metric's `count`. */
const COUNT = 3;
/**
 * Verifications the worker advances at once: VerificationWorker's default, which the engine
 * does not change. The baseline runs as many request sequences side by side.
 */
const CONCURRENCY = 8;
/**
 * `tick` (default): the benchmark calls `verificationWorker.tick()` back to back until a tick
 * finds nothing due, so that no timer is part of the figure: it is the machinery's own cost.
 * `worker`: the worker runs on its own timer (`verification.pollIntervalMs` = BENCH_POLL_MS,
 * default the engine's 2 s), as it does in a backend: that figure includes its waits between ticks.
 */
const DRIVE = process.env.BENCH_DRIVE ?? 'tick';
if (DRIVE !== 'tick' && DRIVE !== 'worker')
  throw new Error(`BENCH_DRIVE must be "tick" or "worker", not "${DRIVE}"`);
const POLL_MS = process.env.BENCH_POLL_MS
  ? intFromEnv('BENCH_POLL_MS', 2000)
  : undefined;
/** PostgreSQL connections the engine may open (the server allows 100, shared with others). */
const POOL = intFromEnv('BENCH_POOL', 10);
const PROJECT = 'bench';
const WAREHOUSE = 'app';
/** Never fetched: freight is made in the store and no discovery runs. */
const APP_REPO = 'https://git.invalid/bench/app.git';

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
const median = (xs: number[]) => {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
const stageName = (i: number) => `s${String(i).padStart(3, '0')}`;

/**
 * Every stage runs one trivial step (compose-output): a stage needs steps to be verified at
 * all (a control-flow stage passes its freight through verified), and a Succeeded promotion
 * is what makes a stage without Argo CD apps Healthy, which a verification waits for. The
 * promotions run once, in setup; every round then re-verifies the stages' current freight.
 */
function pipelineYaml(webURL: string): string {
  const warehouse = `apiVersion: kargo.akuity.io/v1alpha1
kind: Warehouse
metadata: {name: ${WAREHOUSE}, namespace: ${PROJECT}}
spec:
  interval: 24h
  freightCreationPolicy: Manual
  subscriptions:
    - git: {repoURL: ${APP_REPO}, commitSelectionStrategy: SemVer}
`;
  const template = `apiVersion: argoproj.io/v1alpha1
kind: AnalysisTemplate
metadata: {name: smoke, namespace: ${PROJECT}}
spec:
  metrics:
    - name: smoke
      count: ${COUNT}
      # "no interval": a count above 1 needs one, and 0s takes the next measurement as soon
      # as the last one is in, so the figure is the machinery and not waiting
      interval: 0s
      successCondition: result == "ok"
      provider:
        web:
          url: ${webURL}/healthz
          jsonPath: "{$.status}"
`;
  const stage = (name: string) => `apiVersion: kargo.akuity.io/v1alpha1
kind: Stage
metadata: {name: ${name}, namespace: ${PROJECT}}
spec:
  requestedFreight:
    - origin: {kind: Warehouse, name: ${WAREHOUSE}}
      sources: {direct: true}
  promotionTemplate:
    spec:
      steps:
        - uses: compose-output
          config: {stage: ${name}}
  verification:
    analysisTemplates:
      - name: smoke
`;
  const stages = Array.from({ length: STAGES }, (_, i) => stage(stageName(i)));
  return [warehouse, template, ...stages].join('---\n');
}

/**
 * The endpoint runs in a process of its own, as a checked service is another machine: its
 * request handling shares no event loop with the engine or the baseline. `GET /requests`
 * says how many `/healthz` requests it has answered.
 */
async function startEndpoint(): Promise<{
  url: string;
  requests: () => Promise<number>;
  close: () => Promise<void>;
}> {
  const child = spawn(
    process.execPath,
    [
      '--require',
      require.resolve('@backstage/cli/config/nodeTransform.cjs'),
      __filename,
      '--serve-web',
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const url = await new Promise<string>((resolve, reject) => {
    readline
      .createInterface({ input: child.stdout! })
      .once('line', line => resolve(line.trim()));
    child.once('exit', code =>
      reject(new Error(`the endpoint process exited (${code})`)),
    );
  });
  return {
    url,
    requests: async () => Number(await (await fetch(`${url}/requests`)).text()),
    close: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise(resolve => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** `--serve-web`: answers `/healthz` with {"status":"ok"}, prints its URL, runs until told to stop. */
function serveWeb() {
  let answered = 0;
  const server = http.createServer((req, res) => {
    if (req.url === '/requests') {
      res.end(String(answered));
      return;
    }
    answered++;
    res.setHeader('content-type', 'application/json');
    res.end('{"status":"ok"}');
  });
  server.listen(0, '127.0.0.1', () => {
    const { port } = server.address() as AddressInfo;
    process.stdout.write(`http://127.0.0.1:${port}\n`);
  });
  process.once('SIGTERM', () => {
    server.closeAllConnections();
    server.close(() => process.exit(0));
  });
}

/** CPU seconds used so far by this process (user + system), from /proc (Linux). */
function cpuSeconds(): number {
  try {
    const stat = fs.readFileSync('/proc/self/stat', 'utf8');
    const f = stat
      .slice(stat.lastIndexOf(')') + 2)
      .split(' ')
      .map(Number);
    return (f[11] + f[12]) / 100; // utime, stime, in clock ticks
  } catch {
    return NaN;
  }
}

/** Resolves once `count` verifications in all have ended, as the worker logs them. */
class FinishWatch {
  private waiting?: { count: number; resolve: () => void };
  ended = 0;

  readonly logger: Logger = {
    debug: () => undefined,
    info: m => this.line(m),
    warn: m => log(`engine warn: ${m}`),
    error: m => log(`engine error: ${m}`),
  };

  private line(message: string) {
    // `verification <id> of <project>/<stage>: <phase>` (not `... requested by ...`)
    if (!/^verification \S+ of [^/\s]+\/\S+: \w+/.test(message)) return;
    this.ended++;
    if (this.waiting && this.ended >= this.waiting.count)
      this.waiting.resolve();
  }

  until(count: number): Promise<void> {
    if (this.ended >= count) return Promise.resolve();
    return new Promise(resolve => {
      this.waiting = { count, resolve };
    });
  }
}

async function main() {
  const benchStarted = Date.now();
  const tmp = fs.mkdtempSync(
    path.join(os.tmpdir(), 'stagecoach-bench-verify-'),
  );
  const cleanup: Array<() => unknown> = [
    () => fs.rmSync(tmp, { recursive: true, force: true }),
  ];
  try {
    const endpoint = await startEndpoint();
    cleanup.unshift(() => endpoint.close());
    const healthz = `${endpoint.url}/healthz`;
    log(`endpoint at ${endpoint.url}`);

    const knex = await openDatabase(tmp, cleanup, { pool: POOL });
    const watch = new FinishWatch();
    const engine = await StagecoachEngine.create({
      knex,
      logger: watch.logger,
      workDir: path.join(tmp, 'engine'),
      worker: { concurrency: STAGES, pollIntervalMs: 50 },
      verification: { pollIntervalMs: POLL_MS },
      // the endpoint is on loopback, as in the demo config
      egress: new EgressPolicy({ allowLoopback: true }),
    });
    cleanup.unshift(() => engine.close());
    await engine.projects.applyManifests(PROJECT, pipelineYaml(endpoint.url));
    const stages = Array.from({ length: STAGES }, (_, i) => stageName(i));

    // setup: one promotion per stage (compose-output), which also queues one verification
    // per stage; those run as a first warm-up, uncounted
    const artifacts = {
      commits: [{ repoURL: APP_REPO, id: 'a'.repeat(40), tag: 'v1.0.0' }],
      images: [],
      charts: [],
    };
    const { freight } = await engine.stores.freight.ensure(
      PROJECT,
      WAREHOUSE,
      artifacts,
      new Date().toISOString(),
    );
    for (const s of stages)
      await engine.promotions.promote(PROJECT, s, freight.id, 'bench');
    // only the promotion worker: the verification worker is driven below
    engine.workers.promotion.start();
    for (;;) {
      const open = await knex('stagecoach_promotions')
        .whereIn('phase', ['Pending', 'Running'])
        .count({ n: '*' });
      if (Number(open[0].n) === 0) break;
      await new Promise(r => setTimeout(r, 20));
    }
    await engine.workers.promotion.stop();
    const notSucceeded = await knex('stagecoach_promotions')
      .whereNot('phase', 'Succeeded')
      .select('stage', 'phase', 'message');
    if (notSucceeded.length)
      throw new Error(
        `${
          notSucceeded.length
        } setup promotions did not succeed, e.g. ${JSON.stringify(
          notSucceeded[0],
        )}`,
      );
    log(`setup: ${STAGES} stages promoted`);

    const statements = statementMeter(knex);
    // ticks counted in either drive (the worker's timer calls the instance's tick too);
    // the last one of a round, which finds nothing due, is counted as well
    let ticks = 0;
    const tick = engine.workers.verification.tick.bind(engine.workers.verification);
    engine.workers.verification.tick = () => {
      ticks++;
      return tick();
    };
    // Where a tick's time goes: claiming comes before any verification of the tick is
    // advanced, so its time is on the critical path. Timed from outside, by wrapping the
    // store's method on this engine's instance; the engine's code is unchanged.
    let claimMs = 0;
    let timing = false;
    const claimDue = engine.stores.verifications.claimDue.bind(engine.stores.verifications);
    engine.stores.verifications.claimDue = async (...args) => {
      const started = performance.now();
      try {
        return await claimDue(...args);
      } finally {
        if (timing) claimMs += performance.now() - started;
      }
    };
    /** Runs the worker until `target` verifications in all have ended. */
    const runWorker = async (target: number) => {
      if (DRIVE === 'tick') {
        // back to back: a verification with no interval is due again as soon as its tick ends
        while ((await engine.workers.verification.tick()) > 0);
        if (watch.ended < target)
          throw new Error(
            `the worker found nothing due with ${
              target - watch.ended
            } verifications not ended`,
          );
        return;
      }
      engine.workers.verification.start();
      await watch.until(target);
      await engine.workers.verification.stop();
    };
    await runWorker(STAGES);

    /** Every verification of `ids` ended Successful with COUNT Successful measurements. */
    const checkVerifications = async (ids: string[]) => {
      for (const id of ids) {
        const v = await engine.verifications.get(PROJECT, id);
        const ok = v.metrics[0]?.measurements.filter(
          m => m.phase === 'Successful',
        ).length;
        if (v.phase !== 'Successful' || ok !== COUNT)
          throw new Error(
            `verification ${id} of ${v.stage} ended ${v.phase} with ${ok} successful measurements: ${v.message}`,
          );
      }
    };

    const engineRounds: number[] = [];
    const reverifyRounds: number[] = [];
    const baselineRounds: number[] = [];
    const engineCpu: number[] = [];
    const baselineCpu: number[] = [];
    const requestsPerRound: { engine: number[]; baseline: number[] } = {
      engine: [],
      baseline: [],
    };
    let countedTicks = 0;
    /** Round 0 is not counted: statements and ticks are counted from round 1 on. */
    const engineRound = async (counted: boolean) => {
      const served = await endpoint.requests();
      const started = performance.now();
      const ids: string[] = [];
      for (const s of stages)
        ids.push((await engine.verifications.reverify(PROJECT, s, 'bench')).id);
      const created = performance.now();
      const cpu = cpuSeconds();
      const ticksBefore = ticks;
      if (counted) statements.start();
      timing = counted;
      await runWorker(watch.ended + STAGES);
      statements.pause();
      timing = false;
      if (counted) countedTicks += ticks - ticksBefore;
      engineCpu.push(cpuSeconds() - cpu);
      engineRounds.push(performance.now() - created);
      reverifyRounds.push(created - started);
      requestsPerRound.engine.push((await endpoint.requests()) - served);
      await checkVerifications(ids);
    };
    const baselineRound = async () => {
      const served = await endpoint.requests();
      const cpu = cpuSeconds();
      const started = performance.now();
      let next = 0;
      // CONCURRENCY lanes, each taking the next stage and making its requests in a row;
      // each answer is read whole and checked, as the web metric reads and judges it
      const lane = async () => {
        for (let i = next++; i < STAGES; i = next++) {
          for (let m = 0; m < COUNT; m++) {
            const res = await fetch(healthz);
            const body = JSON.parse(await res.text());
            if (!res.ok || body.status !== 'ok')
              throw new Error(
                `${healthz} answered ${res.status}: ${JSON.stringify(body)}`,
              );
          }
        }
      };
      await Promise.all(Array.from({ length: CONCURRENCY }, lane));
      baselineRounds.push(performance.now() - started);
      baselineCpu.push(cpuSeconds() - cpu);
      requestsPerRound.baseline.push((await endpoint.requests()) - served);
    };

    log(
      `${STAGES} verifications of ${COUNT} web measurements (driven by ${
        DRIVE === 'tick'
          ? 'back-to-back ticks'
          : `the worker's timer, poll ${POLL_MS ?? 'default'} ms`
      }) against ${STAGES}×${COUNT} fetches, ${CONCURRENCY} at once; ${ROUNDS} rounds after a warm-up`,
    );
    // round 0 warms both sides up (connections to the endpoint and the database, JIT) and is not counted
    for (let round = 0; round <= ROUNDS; round++) {
      if (round % 2 === 0) {
        await baselineRound();
        await engineRound(round > 0);
      } else {
        await engineRound(true);
        await baselineRound();
      }
      log(
        `round ${round}${round === 0 ? ' (warm-up)' : ''}: engine ${seconds(
          engineRounds.at(-1)!,
        )}s, baseline ${seconds(baselineRounds.at(-1)!)}s`,
      );
      if (round === 0) {
        for (const xs of [
          engineRounds,
          reverifyRounds,
          baselineRounds,
          engineCpu,
          baselineCpu,
          requestsPerRound.engine,
          requestsPerRound.baseline,
        ])
          xs.length = 0;
      }
    }
    const want = STAGES * COUNT;
    for (const [side, counts] of Object.entries(requestsPerRound))
      if (counts.some(n => n !== want))
        throw new Error(
          `${side} made ${counts.join(', ')} requests per round, not ${want}`,
        );

    const engineMs = sum(engineRounds) / ROUNDS;
    const baselineMs = sum(baselineRounds) / ROUNDS;
    const measurements = want;
    const allCounts = statements.counts();
    const perMeasurement = (n: number) => round2(n / (measurements * ROUNDS));
    /*
     * ratio: engine time / baseline time, the mean round of each (roundRatios: per round,
     * roundRatioMedian). engine*: from the first tick to the last verification ended;
     * baseline*: the same number of fetches. reverifySeconds: creating the round's
     * verifications (not in the ratio). claimSecondsPerRound, claimShare: time inside
     * VerificationStore.claimDue, which runs before a tick advances anything. ticksPerRound:
     * worker ticks per round. statementsPerMeasurement: database statements by kind
     * (`begin;`/`commit;` are transactions); statementMsPerRound: their send-to-answer times
     * added up (for PostgreSQL several are under way at once); slowestStatements: the ones
     * that took longest in all. cpuSecondsPerRound: this process's CPU time per round (the
     * endpoint and the database are other processes).
     */
    const result = {
      stages: STAGES,
      measurementsPerVerification: COUNT,
      measurements,
      concurrency: CONCURRENCY,
      drive: DRIVE,
      pollIntervalMs: DRIVE === 'worker' ? POLL_MS ?? 2000 : undefined,
      ratio: round2(engineMs / baselineMs),
      roundRatios: engineRounds.map((e, i) => round2(e / baselineRounds[i])),
      roundRatioMedian: round2(
        median(engineRounds.map((e, i) => e / baselineRounds[i])),
      ),
      engineSeconds: seconds(engineMs),
      baselineSeconds: seconds(baselineMs),
      engineMeasurementsPerSecond: Math.round(measurements / (engineMs / 1000)),
      baselineMeasurementsPerSecond: Math.round(
        measurements / (baselineMs / 1000),
      ),
      enginePerMeasurementMs: round2(engineMs / measurements),
      baselinePerMeasurementMs: round2(baselineMs / measurements),
      engineRunsSeconds: engineRounds.map(seconds),
      baselineRunsSeconds: baselineRounds.map(seconds),
      reverifySeconds: seconds(sum(reverifyRounds) / ROUNDS),
      claimSecondsPerRound: seconds(claimMs / ROUNDS),
      claimShare: round2(claimMs / sum(engineRounds)),
      ticksPerRound: round2(countedTicks / ROUNDS),
      statementsPerMeasurement: Object.fromEntries(
        Object.entries(allCounts).map(([k, n]) => [k, perMeasurement(n)]),
      ),
      statementsPerMeasurementTotal: perMeasurement(
        sum(Object.values(allCounts)),
      ),
      statementMsPerRound: Math.round(statements.busyMs() / ROUNDS),
      slowestStatements: statements.slowest(6, ROUNDS),
      cpuSecondsPerRound: {
        engine: round2(sum(engineCpu) / ROUNDS),
        baseline: round2(sum(baselineCpu) / ROUNDS),
      },
      database: POSTGRES_URL ? 'postgresql' : 'sqlite',
      totalSeconds: seconds(Date.now() - benchStarted),
      node: process.version,
      cpus: os.cpus().length,
    };
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    await runCleanup(cleanup);
  }
}

if (process.argv[2] === '--serve-web') serveWeb();
else main().catch(reportFailure);
