import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import readline from 'node:readline';
import knexFactory, { Knex } from 'knex';

/**
 * Engine processes (engineProcess.ts) for tests and benchmarks: started, watched through
 * their output, killed like a crashed backend. And the scratch databases they share.
 */

export const ENGINE_PROCESS_SCRIPT = path.join(__dirname, 'engineProcess.ts');

/** The first line an engine process prints once its worker runs; JSON follows. */
export const READY_PREFIX = 'ready ';

export const isPostgresUrl = (database: string) => /^postgres(ql)?:\/\//.test(database);

/** A Knex on a PostgreSQL connection string or an SQLite file. */
export function openDatabase(database: string, poolMax = 10): Knex {
  if (isPostgresUrl(database)) {
    return knexFactory({ client: 'pg', connection: database, pool: { min: 0, max: poolMax } });
  }
  return knexFactory({ client: 'better-sqlite3', connection: { filename: database }, useNullAsDefault: true });
}

export interface EngineProcessOptions {
  /** A PostgreSQL connection string or an SQLite file. */
  database: string;
  workDir: string;
  concurrency?: number;
  claimTtlMs?: number;
  pollIntervalMs?: number;
  maxAttempts?: number;
  /** The database is migrated already (two processes starting at once would race for the migration lock). */
  skipMigrations?: boolean;
  /** Called with every line the process prints after its ready line. */
  onLine?: (line: string) => void;
}

export interface EngineProcess {
  pid: number;
  /** The id its promotion worker claims with. */
  workerId: string;
  /** Every line printed so far (the ready line first). */
  lines: string[];
  /** Resolves when the process has exited, with its code or the signal that ended it. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /**
   * SIGKILL to the process and everything it started (its git commands): a backend whose
   * machine or container died. Resolves once it is gone.
   */
  kill9(): Promise<void>;
  /** SIGTERM: the backend shuts down (it gives its running promotions back). */
  stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function flags(o: EngineProcessOptions): string[] {
  const out = ['--database', o.database, '--work-dir', o.workDir];
  if (o.concurrency) out.push('--concurrency', String(o.concurrency));
  if (o.claimTtlMs) out.push('--claim-ttl-ms', String(o.claimTtlMs));
  if (o.pollIntervalMs) out.push('--poll-interval-ms', String(o.pollIntervalMs));
  if (o.maxAttempts) out.push('--max-attempts', String(o.maxAttempts));
  if (o.skipMigrations) out.push('--skip-migrations');
  return out;
}

/**
 * Starts an engine process (node with Backstage's TypeScript transform, as the benchmarks
 * run) and resolves once it printed its ready line. It leads its own process group, so
 * kill9 takes its git commands with it.
 */
export function startEngineProcess(options: EngineProcessOptions): Promise<EngineProcess> {
  const child: ChildProcess = spawn(
    process.execPath,
    ['--require', require.resolve('@backstage/cli/config/nodeTransform.cjs'), ENGINE_PROCESS_SCRIPT, ...flags(options)],
    { detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: process.env },
  );
  const lines: string[] = [];
  let stderr = '';
  child.stderr!.on('data', d => {
    stderr = (stderr + d).slice(-4000);
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>(resolve => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
    // a process that cannot be started reports 'error' instead: without a listener it would end the test run
    child.once('error', e => {
      stderr += `\ncannot start the engine process: ${e.message}`;
      resolve({ code: null, signal: null });
    });
  });
  const signalGroup = (signal: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, signal);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ESRCH') throw e;
    }
  };
  return new Promise((resolve, reject) => {
    let ready = false;
    readline.createInterface({ input: child.stdout! }).on('line', text => {
      lines.push(text);
      if (ready) {
        options.onLine?.(text);
        return;
      }
      if (!text.startsWith(READY_PREFIX)) return;
      ready = true;
      const info = JSON.parse(text.slice(READY_PREFIX.length)) as { pid: number; workerId: string };
      resolve({
        pid: info.pid,
        workerId: info.workerId,
        lines,
        exited,
        async kill9() {
          signalGroup('SIGKILL');
          await exited;
        },
        async stop() {
          signalGroup('SIGTERM');
          return exited;
        },
      });
    });
    void exited.then(({ code, signal }) => {
      if (!ready) {
        reject(
          new Error(
            `the engine process exited before it was ready (code ${code}, signal ${signal}):\n${lines.join('\n')}\n${stderr}`,
          ),
        );
      }
    });
  });
}

export interface ScratchDatabase {
  kind: 'postgresql' | 'sqlite';
  /** What an engine process takes as --database. */
  connection: string;
  knex: Knex;
  /** Closes the Knex and drops the database. */
  drop(): Promise<void>;
}

/** PostgreSQL servers to try, in order: the test environment's, then the local one. */
function postgresCandidates(): string[] {
  const fromTestEnv = Object.keys(process.env)
    .filter(k => /^BACKSTAGE_TEST_DATABASE_POSTGRES\d+_CONNECTION_STRING$/.test(k))
    .sort()
    .reverse()
    .map(k => process.env[k]!);
  // as in ./stagecoachw: STAGECOACH_TEST_POSTGRES_URL replaces the local default
  const local = process.env.STAGECOACH_TEST_POSTGRES_URL || 'postgresql://postgres@127.0.0.1:5432';
  return [...new Set([...fromTestEnv, local])];
}

async function reachablePostgres(): Promise<{ url: string; admin: Knex } | undefined> {
  for (const url of postgresCandidates()) {
    const admin = knexFactory({
      client: 'pg',
      connection: { connectionString: url, connectionTimeoutMillis: 3000 },
      pool: { min: 0, max: 2 },
      acquireConnectionTimeout: 5000,
      // a server that does not answer is an expected answer here, not a warning
      log: { warn: () => undefined, error: () => undefined, deprecate: () => undefined, debug: () => undefined },
    });
    try {
      await admin.raw('select 1');
      return { url, admin };
    } catch {
      await admin.destroy();
    }
  }
  return undefined;
}

/**
 * A fresh database for one test run: on PostgreSQL when a server answers (a database named
 * `<prefix>_<random>`, dropped afterwards), else an SQLite file in `sqliteDir` (unless
 * STAGECOACH_REQUIRE_POSTGRES=1, or `postgresOnly`: then a missing server is an error).
 */
export async function createScratchDatabase(
  prefix: string,
  options: { sqliteDir: string; postgresOnly?: boolean; poolMax?: number },
): Promise<ScratchDatabase> {
  const server = await reachablePostgres();
  if (server) {
    const name = `${prefix}_${randomBytes(4).toString('hex')}`;
    await server.admin.raw(`create database ${name}`);
    const url = new URL(server.url);
    url.pathname = `/${name}`;
    const knex = openDatabase(url.href, options.poolMax);
    return {
      kind: 'postgresql',
      connection: url.href,
      knex,
      async drop() {
        await knex.destroy();
        await server.admin.raw(`drop database if exists ${name} with (force)`);
        await server.admin.destroy();
      },
    };
  }
  const tried = postgresCandidates().map(u => u.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@')).join(', ');
  if (options.postgresOnly) {
    throw new Error(
      `this test needs PostgreSQL (several processes share its database; SQLite serves one) and none answered ` +
        `(tried ${tried}): start one on 127.0.0.1:5432 or set STAGECOACH_TEST_POSTGRES_URL`,
    );
  }
  if (process.env.STAGECOACH_REQUIRE_POSTGRES === '1') {
    throw new Error(`STAGECOACH_REQUIRE_POSTGRES=1 but no PostgreSQL answered (tried ${tried})`);
  }
  const file = path.join(options.sqliteDir, `${prefix}.sqlite`);
  const knex = openDatabase(file);
  return { kind: 'sqlite', connection: file, knex, drop: () => knex.destroy() };
}
