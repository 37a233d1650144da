/*
 * Promotion benchmark: promotions of git-clone → yaml-update → git-commit → git-push
 * against the loopback Git server (@stagecoach/git-server), run by the engine's promotion
 * queue, next to a shell script that runs the same git commands, in the same run:
 *  - serially: BENCH_PROMOTIONS promotions queued on one stage (the queue runs them one
 *    after another) vs the script BENCH_PROMOTIONS times in a row;
 *  - at once: one promotion on each of BENCH_STAGES stages vs BENCH_STAGES scripts at once.
 * Before measuring, one promotion and one script run with a `git` on PATH that records its
 * arguments, to check that the script runs exactly the steps' git commands.
 * Progress goes to stderr; the last line of stdout is one JSON object. See bench/README.md.
 *
 *   yarn bench:promotion
 *   BENCH_PROMOTIONS=20 BENCH_STAGES=20 yarn bench:promotion
 */
import { EgressPolicy } from '../plugins/stagecoach-backend/src/integrations/http/egress';
import { execFile, execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Knex } from 'knex';
import readline from 'node:readline';
import { git, startGitHttpServer } from '@stagecoach/git-server';
import { StagecoachEngine } from '../plugins/stagecoach-backend/src/app';
import {
  createQueueFreight,
  createQueueRepo,
  freightCommit,
  freightTag,
  queuePipelineYaml,
  GitServe,
  QueueRepo,
  stageBranch,
  stageNames,
} from '../plugins/stagecoach-backend/src/__testUtils__/promotionQueue';
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

/** Promotions run one after another on one stage (and script runs in a row). */
const PROMOTIONS = intFromEnv('BENCH_PROMOTIONS', 50);
/** Stages promoted at once (and scripts run at once). */
const STAGES = intFromEnv('BENCH_STAGES', 100);
/** Serial promotions (and script runs) per turn: the two sides take turns. */
const BLOCK = intFromEnv('BENCH_BLOCK', 5);
/** Rounds of promotions on every stage at once (and of scripts at once), after a warm-up round. */
const ROUNDS = intFromEnv('BENCH_ROUNDS', 4);
/** Promotions the worker runs at once: enough for every stage by default. */
const WORKER_CONCURRENCY = intFromEnv('BENCH_WORKER_CONCURRENCY', STAGES);
/** How often the idle worker looks for work; unset: the engine's default. */
const POLL_MS = process.env.BENCH_POLL_MS
  ? intFromEnv('BENCH_POLL_MS', 1000)
  : undefined;
/**
 * The engine's database: unset for a SQLite file in a temp folder, or a PostgreSQL server's
 * URL (e.g. postgresql://postgres@127.0.0.1:5432), on which a scratch database is made and dropped.
 */
/** PostgreSQL connections the engine may open (the server allows 100, shared with others). */
const POOL = intFromEnv('BENCH_POOL', 20);
const PROJECT = 'bench';

/**
 * The git commands of one promotion, in the order the steps run them, with the environment
 * runGit gives git (src/integrations/git/GitCli.ts). Taken from git-clone.ts (bare clone
 * with the identity in its config, one for-each-ref for the checkout's branch, one worktree
 * add), git-commit.ts (add; commit, whose summary line gives the full SHA) and git-push.ts
 * (remote get-url and rev-parse, which the step runs side by side; push --porcelain). The
 * file change stands for yaml-update (which runs no git); the last line is the engine
 * removing the work directory. The benchmark checks this list against the steps' own.
 * Arguments: repository URL, branch, work directory, new value, commit message.
 */
const SCRIPT = `#!/bin/sh
set -eu
url=$1 branch=$2 work=$3 value=$4 message=$5
export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null GIT_TERMINAL_PROMPT=0 GIT_ASKPASS=echo
export GIT_AUTHOR_NAME=Stagecoach GIT_AUTHOR_EMAIL=stagecoach@localhost
export GIT_COMMITTER_NAME=Stagecoach GIT_COMMITTER_EMAIL=stagecoach@localhost
mkdir -p "$work/hooks" "$work/home"
export HOME="$work/home" GIT_CONFIG_COUNT=10
export GIT_CONFIG_KEY_0=core.hooksPath GIT_CONFIG_VALUE_0="$work/hooks"
export GIT_CONFIG_KEY_1=core.fsmonitor GIT_CONFIG_VALUE_1=false
export GIT_CONFIG_KEY_2=credential.helper GIT_CONFIG_VALUE_2=
export GIT_CONFIG_KEY_3=commit.gpgSign GIT_CONFIG_VALUE_3=false
export GIT_CONFIG_KEY_4=tag.gpgSign GIT_CONFIG_VALUE_4=false
export GIT_CONFIG_KEY_5=protocol.allow GIT_CONFIG_VALUE_5=never
export GIT_CONFIG_KEY_6=protocol.file.allow GIT_CONFIG_VALUE_6=never
export GIT_CONFIG_KEY_7=protocol.ext.allow GIT_CONFIG_VALUE_7=never
export GIT_CONFIG_KEY_8=protocol.http.allow GIT_CONFIG_VALUE_8=always
export GIT_CONFIG_KEY_9=protocol.https.allow GIT_CONFIG_VALUE_9=always
# the clone store beside the work directory, as the runner lays out an attempt
repo=$work/repos/step-1
mkdir -p "$work/repos" "$work/work"
# git-clone
git clone -q --bare -c user.name=Stagecoach -c user.email=stagecoach@localhost -- "$url" "$repo"
cd "$repo"
git for-each-ref '--format=%(HEAD)%09%(refname)%09%(objectname)%09%(*objectname)' "refs/heads/$branch" >/dev/null
git worktree add -q -- "$work/work/out" "$branch"
# yaml-update
printf '# managed by Stagecoach\\nimage:\\n  tag: %s\\n' "$value" >"$work/work/out/values.yaml"
# git-commit
cd "$work/work/out"
git add -A
git -c core.abbrev=no commit --no-verify -m "$message" >/dev/null
# git-push
git remote get-url origin >/dev/null
git rev-parse HEAD --abbrev-ref HEAD >/dev/null
git push --porcelain -- origin "HEAD:refs/heads/$branch" >/dev/null
cd /
rm -rf "$work"
`;

/** A `git` that appends its working directory and arguments to `logFile`, then runs the real one. */
function tracingGit(dir: string, logFile: string): string {
  const realGit = execFileSync('sh', ['-c', 'command -v git'])
    .toString()
    .trim();
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(
    path.join(dir, 'git'),
    `#!/bin/sh\n{ printf '%s\\037' "$PWD" "$@"; printf '\\n'; } >>'${logFile}'\nexec '${realGit}' "$@"\n`,
    { mode: 0o755 },
  );
  return dir;
}

/** The recorded commands with what differs between two runs (paths, branch, message) named. */
function readTrace(
  logFile: string,
  names: { work: RegExp; branch: string },
): string[] {
  if (!fs.existsSync(logFile)) return [];
  return (
    fs
      .readFileSync(logFile, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map(line => line.split('\x1f').slice(0, -1))
      // the Git server's CGI, were it started with this PATH, is no part of a promotion
      .filter(([, command]) => command !== 'http-backend')
      .map(([cwd, ...args]) => {
        for (let i = 0; i < args.length; i++)
          if (args[i - 1] === '-m') args[i] = '<message>';
        return [`(in ${cwd})`, 'git', ...args]
          .join(' ')
          .replace(names.work, '<work>')
          .split(names.branch)
          .join('<branch>');
      })
  );
}

function runScript(
  script: string,
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('sh', [script, ...args], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env,
    });
    let stderr = '';
    child.stderr.on('data', d => (stderr += d));
    child.on('error', reject);
    child.on('exit', code =>
      code === 0
        ? resolve()
        : reject(new Error(`script exited ${code}: ${stderr}`)),
    );
  });
}

/**
 * The Git server runs in a process of its own, as a Git host is another machine: its
 * request handling (and the `git http-backend` it starts per request) shares no event loop
 * with the engine or with the scripts' runner.
 */
const serveInChildProcess: GitServe = async reposRoot => {
  const child = spawn(
    process.execPath,
    [
      '--require',
      require.resolve('@backstage/cli/config/nodeTransform.cjs'),
      __filename,
      '--serve-git',
      reposRoot,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const url = await new Promise<string>((resolve, reject) => {
    child.once('error', e =>
      reject(new Error(`cannot start the Git server process: ${e.message}`)),
    );
    readline
      .createInterface({ input: child.stdout! })
      .once('line', line => resolve(line.trim()));
    child.once('exit', code =>
      reject(new Error(`the Git server process exited (${code})`)),
    );
  });
  return {
    url,
    close: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise(resolve => child.once('exit', resolve));
      child.kill('SIGTERM');
      // a client still connected could keep it open: it gets three seconds
      const late = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(late);
    },
  };
};

/** `--serve-git <folder>`: serves it, prints the URL, and runs until told to stop. */
async function serveGit(reposRoot: string) {
  const server = await startGitHttpServer({ root: reposRoot });
  process.stdout.write(`${server.url}\n`);
  process.once(
    'SIGTERM',
    () => void server.close().then(() => process.exit(0)),
  );
}

/** Resolves as the runner logs promotions as ended: `promotion <id> of <project>/<stage>: <phase>`. */
class FinishWatch {
  private waiting?: { count: number; resolve: () => void };
  readonly ended: { id: string; phase: string; message: string }[] = [];

  readonly logger: Logger = {
    debug: () => undefined,
    info: m => this.line(m),
    warn: m => log(`engine warn: ${m}`),
    error: m => log(`engine error: ${m}`),
  };

  private line(message: string) {
    const m = /^promotion (\S+) of [^/\s]+\/\S+: (\w+)/.exec(message);
    if (!m) return;
    this.ended.push({ id: m[1], phase: m[2], message });
    if (this.waiting && this.ended.length >= this.waiting.count)
      this.waiting.resolve();
  }

  /** Waits until `count` promotions in all have ended. */
  until(count: number): Promise<void> {
    if (this.ended.length >= count) return Promise.resolve();
    return new Promise(resolve => {
      this.waiting = { count, resolve };
    });
  }
}

/**
 * CPU seconds used so far by this process (`self`: the engine, or the scripts' runner) and
 * by the child processes it has waited for (`children`: git, sh), from /proc (Linux).
 * The Git server and the database are other processes, counted by neither.
 */
function cpuSeconds(): { self: number; children: number } {
  try {
    const stat = fs.readFileSync('/proc/self/stat', 'utf8');
    const f = stat
      .slice(stat.lastIndexOf(')') + 2)
      .split(' ')
      .map(Number);
    // fields 14-17 of stat(5), counted from after the command name: utime, stime, cutime, cstime
    const tick = 100;
    return {
      self: (f[11] + f[12]) / tick,
      children: (f[13] + f[14]) / tick,
    };
  } catch {
    return { self: NaN, children: NaN };
  }
}

class CpuMeter {
  readonly used: Record<string, { self: number; children: number }> = {};

  async measure<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const before = cpuSeconds();
    try {
      return await fn();
    } finally {
      const after = cpuSeconds();
      const u = (this.used[name] ??= { self: 0, children: 0 });
      u.self = round2(u.self + after.self - before.self);
      u.children = round2(u.children + after.children - before.children);
    }
  }
}

/**
 * What starting a process costs from here (this process, as big as the engine is) and from
 * `sh`: `/bin/true` run 50 times in a row each way. `fromNodeBlockingMs` is the part of a
 * start during which this process's event loop can do nothing else (the fork).
 */
async function processStartCost() {
  const runs = 50;
  let blocking = 0;
  const started = performance.now();
  for (let i = 0; i < runs; i++) {
    await new Promise<void>((resolve, reject) => {
      const before = performance.now();
      execFile('/bin/true', [], e => (e ? reject(e) : resolve()));
      blocking += performance.now() - before;
    });
  }
  const fromNodeMs = (performance.now() - started) / runs;
  const shStarted = performance.now();
  execFileSync('sh', [
    '-c',
    `i=0; while [ $i -lt ${runs} ]; do /bin/true; i=$((i+1)); done`,
  ]);
  const fromShMs = (performance.now() - shStarted) / runs;
  return {
    fromNodeMs: round2(fromNodeMs),
    fromNodeBlockingMs: round2(blocking / runs),
    fromShMs: round2(fromShMs),
    rssMB: Math.round(process.memoryUsage().rss / 1e6),
  };
}

/**
 * Where a promotion's time went, from the times the engine recorded (milliseconds, means):
 * waiting to be claimed, from its claim to its first step, each step, the engine's work
 * between steps, and from its last step to its end. `serial` counts the wait from the end
 * of the promotion before; `concurrent` from `since`, when the worker was started.
 */
async function breakdown(
  knex: Knex,
  ids: string[],
  kind: 'serial' | 'concurrent',
  since?: number,
): Promise<Record<string, number>> {
  const promotions = await knex('stagecoach_promotions')
    .whereIn('id', ids)
    .orderBy('created_at');
  const steps = await knex('stagecoach_promotion_steps')
    .whereIn('promotion_id', ids)
    .orderBy(['promotion_id', 'idx']);
  const t = (iso: string) => Date.parse(iso);
  const parts: Record<string, number[]> = {};
  const add = (k: string, v: number) => (parts[k] ??= []).push(v);
  promotions.forEach((p, i) => {
    const own = steps.filter(s => s.promotion_id === p.id);
    const previous = promotions[i - 1];
    // (not across a restart of the worker: one queued after the one before had ended)
    if (
      kind === 'serial' &&
      previous &&
      t(p.created_at) < t(previous.finished_at)
    )
      add('claimAfterPrevious', t(p.started_at) - t(previous.finished_at));
    if (kind === 'concurrent') add('claimAfterStart', t(p.started_at) - since!);
    add('claimToFirstStep', t(own[0].started_at) - t(p.started_at));
    own.forEach((st, j) => {
      add(st.uses, t(st.finished_at) - t(st.started_at));
      if (j > 0)
        add('betweenSteps', t(st.started_at) - t(own[j - 1].finished_at));
    });
    add('lastStepToEnd', t(p.finished_at) - t(own[own.length - 1].finished_at));
    add('total', t(p.finished_at) - t(p.started_at));
  });
  const mean = (xs: number[]) =>
    round2(xs.reduce((a, b) => a + b, 0) / xs.length);
  const out = Object.fromEntries(
    Object.entries(parts).map(([k, xs]) => [k, mean(xs)]),
  );
  if (kind === 'concurrent')
    out.lastClaimAfterStart = Math.max(...parts.claimAfterStart);
  return out;
}

async function main() {
  const benchStarted = Date.now();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'stagecoach-bench-'));
  const cleanup: Array<() => Promise<unknown> | unknown> = [
    () => fs.rmSync(tmp, { recursive: true, force: true }),
  ];
  try {
    const concurrentStages = stageNames(STAGES, 'c');
    const engineStages = ['trace', 'serial', ...concurrentStages];
    const rawStages = engineStages.map(s => `raw-${s}`);
    log(
      `${PROMOTIONS} promotions in a row, ${STAGES} at once; worker concurrency ${WORKER_CONCURRENCY}; ` +
        `${POSTGRES_URL ? 'PostgreSQL' : 'SQLite'}`,
    );
    const repo: QueueRepo = await createQueueRepo(
      tmp,
      [...engineStages, ...rawStages],
      serveInChildProcess,
    );
    cleanup.unshift(() => repo.close());
    const knex = await openDatabase(tmp, cleanup, { pool: POOL });
    const watch = new FinishWatch();
    const engine = await StagecoachEngine.create({
      knex,
      logger: watch.logger,
      workDir: path.join(tmp, 'engine'),
      // the registry and Git server of the benchmark are on loopback
      egress: new EgressPolicy({ allowLoopback: true }),
      worker: { concurrency: WORKER_CONCURRENCY, pollIntervalMs: POLL_MS },
    });
    cleanup.unshift(() => engine.close());
    await engine.projects.applyManifests(
      PROJECT,
      queuePipelineYaml(PROJECT, repo, engineStages),
    );
    const freight = await createQueueFreight(
      engine,
      PROJECT,
      repo.appURL,
      Math.max(PROMOTIONS, ROUNDS + 1),
    );
    const script = path.join(tmp, 'promotion.sh');
    fs.writeFileSync(script, SCRIPT, { mode: 0o755 });
    const rawWork = (name: string) => path.join(tmp, 'raw', name);
    const rawArgs = (stage: string, work: string, i: number) => [
      repo.gitopsURL,
      stageBranch(stage),
      work,
      freightCommit(i),
      `${stage}: ${freightTag(i)} by promotion ${stage}-${i}`,
    ];
    const promote = (stage: string, i: number) =>
      engine.promotions.promote(PROJECT, stage, freight[i].id, 'bench');
    const runQueued = async (count: number) => {
      const target = watch.ended.length + count;
      const started = performance.now();
      engine.start();
      await watch.until(target);
      const ms = performance.now() - started;
      await engine.workers.promotion.stop();
      // a failed promotion did not do the work the script did: the figures would mean nothing
      const failed = watch.ended.filter(e => e.phase !== 'Succeeded');
      if (failed.length)
        throw new Error(
          `${failed.length} promotions did not succeed, e.g. ${failed[0].message}`,
        );
      return ms;
    };

    // the script's git commands against the steps', recorded by a tracing git
    const pathBefore = process.env.PATH;
    const engineTrace = path.join(tmp, 'trace-engine.log');
    const scriptTrace = path.join(tmp, 'trace-script.log');
    process.env.PATH = `${tracingGit(
      path.join(tmp, 'trace-engine-bin'),
      engineTrace,
    )}:${pathBefore}`;
    await promote('trace', 0);
    await runQueued(1);
    process.env.PATH = pathBefore;
    await runScript(script, rawArgs('raw-trace', rawWork('trace'), 0), {
      ...process.env,
      PATH: `${tracingGit(
        path.join(tmp, 'trace-script-bin'),
        scriptTrace,
      )}:${pathBefore}`,
    });
    const steps = readTrace(engineTrace, {
      work: /\/\S*\/promotion-[^/\s]+-1/g,
      branch: stageBranch('trace'),
    });
    const scripted = readTrace(scriptTrace, {
      work: new RegExp(
        rawWork('trace').replace(/[.*+?^${}()|[\]\\]/g, '\\$&'),
        'g',
      ),
      branch: stageBranch('raw-trace'),
    });
    const scriptMatchesSteps =
      steps.length > 0 && JSON.stringify(steps) === JSON.stringify(scripted);
    log(`the steps ran ${steps.length} git commands:\n  ${steps.join('\n  ')}`);
    if (!scriptMatchesSteps)
      log(
        `THE SCRIPT DIFFERS from the steps; it ran:\n  ${scripted.join(
          '\n  ',
        )}`,
      );

    // The two sides take turns, in blocks (serial) or rounds (at once), the one that goes
    // first alternating, so that the machine getting busier or quieter during the run
    // weighs on both alike; the ratios of the pairs are reported too.
    const blocks: [number, number][] = [];
    for (let from = 0; from < PROMOTIONS; from += BLOCK)
      blocks.push([from, Math.min(PROMOTIONS, from + BLOCK)]);
    const rawBlocks: number[] = [];
    const engineBlocks: number[] = [];
    const serialIds: string[] = [];
    const statements = statementMeter(knex);
    const cpu = new CpuMeter();
    const rawSerial = async ([from, to]: [number, number]) => {
      const started = performance.now();
      await cpu.measure('rawSerial', async () => {
        for (let i = from; i < to; i++)
          await runScript(
            script,
            rawArgs('raw-serial', rawWork(`serial-${i}`), i),
          );
      });
      rawBlocks.push(performance.now() - started);
    };
    const engineSerial = async ([from, to]: [number, number]) => {
      for (let i = from; i < to; i++)
        serialIds.push((await promote('serial', i)).id);
      statements.start();
      engineBlocks.push(
        await cpu.measure('engineSerial', () => runQueued(to - from)),
      );
      statements.pause();
    };
    log(
      `serial: ${PROMOTIONS} script runs in a row and ${PROMOTIONS} promotions queued on one stage, ${BLOCK} at a time`,
    );
    for (const [j, block] of blocks.entries()) {
      if (j % 2 === 0) {
        await rawSerial(block);
        await engineSerial(block);
      } else {
        await engineSerial(block);
        await rawSerial(block);
      }
    }
    const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
    const median = (xs: number[]) => {
      const sorted = [...xs].sort((a, b) => a - b);
      const mid = Math.floor(sorted.length / 2);
      return sorted.length % 2
        ? sorted[mid]
        : (sorted[mid - 1] + sorted[mid]) / 2;
    };
    const rawMs = sum(rawBlocks);
    const engineMs = sum(engineBlocks);
    const serialStatements = statements.counts();
    log(`serial: script ${seconds(rawMs)}s, engine ${seconds(engineMs)}s`);

    const rawRounds: number[] = [];
    const engineRounds: number[] = [];
    const concurrentIds: string[][] = [];
    const roundStarts: number[] = [];
    const rawConcurrent = async (round: number) => {
      const started = performance.now();
      await cpu.measure('rawConcurrent', () =>
        Promise.all(
          concurrentStages.map(s =>
            runScript(
              script,
              rawArgs(`raw-${s}`, rawWork(`${s}-${round}`), round),
            ),
          ),
        ),
      );
      rawRounds.push(performance.now() - started);
    };
    const engineConcurrent = async (round: number) => {
      const ids: string[] = [];
      for (const s of concurrentStages) ids.push((await promote(s, round)).id);
      concurrentIds.push(ids);
      roundStarts.push(Date.now());
      engineRounds.push(
        await cpu.measure('engineConcurrent', () => runQueued(STAGES)),
      );
    };
    log(
      `at once: ${STAGES} scripts at once and ${STAGES} promotions on ${STAGES} stages, ${ROUNDS} rounds`,
    );
    // round 0 warms both sides up (the database pool opens its connections, the Git
    // server's repository is in the page cache) and is not counted
    for (let round = 0; round <= ROUNDS; round++) {
      if (round % 2 === 0) {
        await rawConcurrent(round);
        await engineConcurrent(round);
      } else {
        await engineConcurrent(round);
        await rawConcurrent(round);
      }
      if (round === 0) {
        rawRounds.length = 0;
        engineRounds.length = 0;
        concurrentIds.length = 0;
        roundStarts.length = 0;
        for (const k of Object.keys(cpu.used))
          if (/Concurrent$/.test(k)) delete cpu.used[k];
      }
    }
    const concurrentMs = sum(engineRounds) / engineRounds.length;
    const rawConcurrentMs = sum(rawRounds) / rawRounds.length;
    log(
      `at once: scripts ${rawRounds
        .map(seconds)
        .join(', ')}s, engine ${engineRounds.map(seconds).join(', ')}s`,
    );

    // the work was done: one commit per promotion and per script run
    const commits = async (stage: string) =>
      Number(
        await git(
          repo.bare,
          'rev-list',
          '--count',
          `main..${stageBranch(stage)}`,
        ),
      );
    for (const [stage, want] of [
      ['serial', PROMOTIONS],
      ['raw-serial', PROMOTIONS],
      [concurrentStages[STAGES - 1], ROUNDS + 1],
      [`raw-${concurrentStages[STAGES - 1]}`, ROUNDS + 1],
    ] as const) {
      const got = await commits(stage);
      if (got !== want)
        throw new Error(
          `${stageBranch(stage)} has ${got} new commits, not ${want}`,
        );
    }

    const perStatement = (n: number) => round2(n / PROMOTIONS);
    const result = {
      promotions: PROMOTIONS,
      seconds: seconds(engineMs),
      rawSeconds: seconds(rawMs),
      ratio: round2(engineMs / rawMs),
      blockRatioMedian: round2(
        median(engineBlocks.map((e, i) => e / rawBlocks[i])),
      ),
      perPromotionMs: Math.round(engineMs / PROMOTIONS),
      rawPerPromotionMs: Math.round(rawMs / PROMOTIONS),
      concurrentPromotions: STAGES,
      concurrentSeconds: seconds(concurrentMs),
      concurrentRawSeconds: seconds(rawConcurrentMs),
      concurrentRatio: round2(concurrentMs / rawConcurrentMs),
      concurrentRoundRatios: engineRounds.map((e, i) =>
        round2(e / rawRounds[i]),
      ),
      concurrentRunsSeconds: engineRounds.map(seconds),
      concurrentRawRunsSeconds: rawRounds.map(seconds),
      workerConcurrency: WORKER_CONCURRENCY,
      statementsPerPromotion: Object.fromEntries(
        Object.entries(serialStatements).map(([k, n]) => [k, perStatement(n)]),
      ),
      serialBreakdownMs: await breakdown(knex, serialIds, 'serial'),
      concurrentBreakdownMs: await breakdown(
        knex,
        concurrentIds[0],
        'concurrent',
        roundStarts[0],
      ),
      cpuSeconds: cpu.used,
      processStart: await processStartCost(),
      gitCommandsPerPromotion: steps.length,
      scriptMatchesSteps,
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

if (process.argv[2] === '--serve-git') void serveGit(process.argv[3]);
else main().catch(reportFailure);
