/** What the benchmarks share: settings from the environment, logging, and the database they run on. */
import path from 'node:path';
import knexFactory, { Knex } from 'knex';

export function intFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1)
    throw new Error(`${name} must be a positive integer, not "${raw}"`);
  return n;
}

/** A PostgreSQL server to run on instead of a SQLite file. */
export const POSTGRES_URL = process.env.BENCH_POSTGRES_URL;

export const log = (message: string) =>
  process.stderr.write(`[bench ${new Date().toISOString()}] ${message}\n`);

export const seconds = (ms: number) => Math.round(ms) / 1000;

export const round2 = (x: number) => Math.round(x * 100) / 100;

/** Runs every cleanup step (newest first, as they were unshifted), logging a failing one and going on. */
export async function runCleanup(cleanup: Array<() => unknown>): Promise<void> {
  for (const step of cleanup) {
    try {
      await step();
    } catch (e) {
      log(`cleanup: ${(e as Error).message}`);
    }
  }
}

/** How a benchmark that failed says so: the stack, and the error's cause (a fetch failure names it there). */
export function reportFailure(e: unknown): void {
  const cause =
    e instanceof Error && e.cause ? ` (cause: ${String(e.cause)})` : '';
  log(
    `failed: ${e instanceof Error ? e.stack ?? e.message : String(e)}${cause}`,
  );
  process.exitCode = 1;
}

/**
 * The database a run uses: a SQLite file in `tmp` (journal and sync settings are the
 * engine's own: it turns on write-ahead logging), or, with BENCH_POSTGRES_URL, a database
 * of its own on that server, dropped afterwards. Closing is added to `cleanup`.
 */
export async function openDatabase(
  tmp: string,
  cleanup: Array<() => unknown>,
  options: { pool?: number } = {},
): Promise<Knex> {
  if (!POSTGRES_URL) {
    const knex = knexFactory({
      client: 'better-sqlite3',
      connection: { filename: path.join(tmp, 'stagecoach.sqlite') },
      useNullAsDefault: true,
    });
    cleanup.unshift(() => knex.destroy());
    return knex;
  }
  const database = `stagecoach_bench_${process.pid}_${Date.now()}`;
  const admin = knexFactory({ client: 'pg', connection: POSTGRES_URL });
  await admin.raw(`create database ${database}`);
  cleanup.unshift(async () => {
    await admin.raw(`drop database if exists ${database} with (force)`);
    await admin.destroy();
  });
  const url = new URL(POSTGRES_URL);
  url.pathname = `/${database}`;
  const knex = knexFactory({
    client: 'pg',
    connection: url.href,
    ...(options.pool ? { pool: { min: 0, max: options.pool } } : {}),
  });
  cleanup.unshift(() => knex.destroy());
  return knex;
}

/**
 * Counts the statements the engine sends, by kind, while on, and adds up how long each took
 * from being sent to its answer (for PostgreSQL several are under way at once, so the sum
 * can exceed the wall time; better-sqlite3 runs one at a time, in this process).
 */
export function statementMeter(knex: Knex) {
  const counts: Record<string, number> = {};
  const sent = new Map<string, { at: number; sql: string }>();
  const bySql = new Map<string, { n: number; ms: number }>();
  let busyMs = 0;
  let on = false;
  knex.on(
    'query',
    (q: { __knexQueryUid?: string; method?: string; sql?: string }) => {
      if (!on) return;
      const kind = q.method ?? q.sql?.split(' ')[0]?.toLowerCase() ?? 'other';
      counts[kind] = (counts[kind] ?? 0) + 1;
      if (q.__knexQueryUid)
        sent.set(q.__knexQueryUid, {
          at: performance.now(),
          sql: q.sql ?? kind,
        });
    },
  );
  const answered = (_r: unknown, q: { __knexQueryUid?: string }) => {
    const s = q.__knexQueryUid ? sent.get(q.__knexQueryUid) : undefined;
    if (s === undefined) return;
    sent.delete(q.__knexQueryUid!);
    const ms = performance.now() - s.at;
    busyMs += ms;
    const e = bySql.get(s.sql) ?? { n: 0, ms: 0 };
    e.n++;
    e.ms += ms;
    bySql.set(s.sql, e);
  };
  knex.on('query-response', answered);
  knex.on('query-error', answered);
  return {
    start: () => {
      on = true;
    },
    pause: () => {
      on = false;
    },
    counts: () => ({ ...counts }),
    busyMs: () => busyMs,
    /** The statements that took longest in all, with how many there were. */
    slowest: (top: number, rounds: number) =>
      [...bySql]
        .sort((a, b) => b[1].ms - a[1].ms)
        .slice(0, top)
        .map(([sql, e]) => ({
          sql: sql.slice(0, 160),
          perRound: round2(e.n / rounds),
          msPerRound: round2(e.ms / rounds),
        })),
  };
}
