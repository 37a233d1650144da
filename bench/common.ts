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
