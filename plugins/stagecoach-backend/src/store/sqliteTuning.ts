import { Knex } from 'knex';

interface SqliteConnection {
  pragma?(source: string): unknown;
}

function sqliteFile(knex: Knex): string | undefined {
  const config = knex.client.config as Knex.Config;
  if (!String(config.client ?? '').includes('sqlite')) return undefined;
  const connection = config.connection as { filename?: string } | undefined;
  const filename = connection?.filename;
  return filename && filename !== ':memory:' ? filename : undefined;
}

/**
 * Tunes an SQLite database file for many small writes: write-ahead logging (readers no
 * longer wait for a writer; recorded in the file itself) and `synchronous = NORMAL`, which
 * in that mode cannot corrupt the database and syncs at checkpoints rather than at every
 * commit. In-memory databases and other engines are left as they are.
 */
export async function tuneSqlite(knex: Knex): Promise<void> {
  if (!sqliteFile(knex)) return;
  await knex.raw('PRAGMA journal_mode = WAL');
  await knex.raw('PRAGMA synchronous = NORMAL');
  // synchronous is a setting of the connection: give it to connections the pool opens later
  knex.client.pool?.on('createSuccess', (_id: unknown, connection: SqliteConnection) => {
    connection.pragma?.('synchronous = NORMAL');
  });
}
