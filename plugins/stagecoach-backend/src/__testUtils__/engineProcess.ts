/*
 * A Stagecoach engine alone in its own process: a Knex on one database, the promotion
 * worker started, nothing else (no Backstage, no HTTP). Tests kill it with SIGKILL to
 * play a crashed backend, or run two of it as two replicas; benchmarks run it as it is.
 *
 *   node --require @backstage/cli/config/nodeTransform.cjs \
 *     plugins/stagecoach-backend/src/__testUtils__/engineProcess.ts \
 *     --database postgresql://postgres@127.0.0.1:5432/stagecoach --work-dir /tmp/engine \
 *     [--concurrency 4] [--claim-ttl-ms 60000] [--poll-interval-ms 1000] [--max-attempts 3] \
 *     [--skip-migrations]
 *
 * Every option can come from the environment too (STAGECOACH_ENGINE_DATABASE,
 * STAGECOACH_ENGINE_WORK_DIR, STAGECOACH_ENGINE_CONCURRENCY, ..._CLAIM_TTL_MS,
 * ..._POLL_INTERVAL_MS, ..._MAX_ATTEMPTS, ..._SKIP_MIGRATIONS=1). `--database` is a
 * PostgreSQL connection string or an SQLite file path.
 *
 * Output, one line each, on stdout: `ready {"pid":…,"workerId":…}` once the worker runs,
 * then `<level> <message>` for every log line. SIGTERM or SIGINT stops it the way a
 * backend shuts down (running promotions are given back to the queue).
 */
import { parseArgs } from 'node:util';
import { StagecoachEngine } from '../app';
import type { Logger } from '../util/types';
import { openDatabase, READY_PREFIX } from './engineProcesses';
import { LOOPBACK_ALLOWED } from './loopbackHttp';

interface EngineProcessConfig {
  database: string;
  workDir: string;
  concurrency?: number;
  claimTtlMs?: number;
  pollIntervalMs?: number;
  maxAttempts?: number;
  skipMigrations: boolean;
}

function readConfig(argv: string[]): EngineProcessConfig {
  const { values } = parseArgs({
    args: argv,
    options: {
      database: { type: 'string' },
      'work-dir': { type: 'string' },
      concurrency: { type: 'string' },
      'claim-ttl-ms': { type: 'string' },
      'poll-interval-ms': { type: 'string' },
      'max-attempts': { type: 'string' },
      'skip-migrations': { type: 'boolean' },
    },
    strict: true,
  });
  const env = process.env;
  const database = values.database ?? env.STAGECOACH_ENGINE_DATABASE;
  const workDir = values['work-dir'] ?? env.STAGECOACH_ENGINE_WORK_DIR;
  if (!database) throw new Error('--database (or STAGECOACH_ENGINE_DATABASE) is required: a PostgreSQL URL or an SQLite file');
  if (!workDir) throw new Error('--work-dir (or STAGECOACH_ENGINE_WORK_DIR) is required');
  const int = (flag: string, raw: string | undefined) => {
    if (raw === undefined || raw === '') return undefined;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 1) throw new Error(`--${flag} must be a positive integer, not "${raw}"`);
    return n;
  };
  return {
    database,
    workDir,
    concurrency: int('concurrency', values.concurrency ?? env.STAGECOACH_ENGINE_CONCURRENCY),
    claimTtlMs: int('claim-ttl-ms', values['claim-ttl-ms'] ?? env.STAGECOACH_ENGINE_CLAIM_TTL_MS),
    pollIntervalMs: int('poll-interval-ms', values['poll-interval-ms'] ?? env.STAGECOACH_ENGINE_POLL_INTERVAL_MS),
    maxAttempts: int('max-attempts', values['max-attempts'] ?? env.STAGECOACH_ENGINE_MAX_ATTEMPTS),
    skipMigrations: values['skip-migrations'] ?? env.STAGECOACH_ENGINE_SKIP_MIGRATIONS === '1',
  };
}

const line = (text: string) => process.stdout.write(`${text.replace(/\n/g, '\\n')}\n`);

const stdoutLogger: Logger = {
  debug: () => undefined,
  info: m => line(`info ${m}`),
  warn: m => line(`warn ${m}`),
  error: m => line(`error ${m}`),
};

async function main() {
  const config = readConfig(process.argv.slice(2));
  // each running promotion and its heartbeat want a connection now and then: a pool that
  // grows with the worker's concurrency keeps them from queueing for one
  const knex = openDatabase(config.database, Math.max(10, (config.concurrency ?? 4) + 2));
  const engine = await StagecoachEngine.create({
    knex,
    logger: stdoutLogger,
    workDir: config.workDir,
    skipMigrations: config.skipMigrations,
    // the Git server of these tests is on loopback
    egress: LOOPBACK_ALLOWED,
    worker: {
      concurrency: config.concurrency,
      claimTtlMs: config.claimTtlMs,
      pollIntervalMs: config.pollIntervalMs,
      maxAttempts: config.maxAttempts,
    },
  });
  // the worker's timers are unref'd: this keeps the process alive until a signal
  const keepAlive = setInterval(() => undefined, 60_000);
  let stopping = false;
  const shutdown = async () => {
    if (stopping) return;
    stopping = true;
    await engine.close();
    await knex.destroy();
    clearInterval(keepAlive);
  };
  process.on('SIGTERM', () => void shutdown());
  process.on('SIGINT', () => void shutdown());
  engine.start();
  line(`${READY_PREFIX}${JSON.stringify({ pid: process.pid, workerId: engine.workers.promotion.id })}`);
}

main().catch(e => {
  line(`error engine process failed: ${e instanceof Error ? e.stack ?? e.message : String(e)}`);
  // a Knex pool may still hold the process open
  process.exit(1);
});
