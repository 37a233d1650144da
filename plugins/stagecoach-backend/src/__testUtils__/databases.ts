import { TestDatabaseId, TestDatabases } from '@backstage/backend-test-utils';

/**
 * The engines store tests run on: SQLite always, and every PostgreSQL whose connection
 * string is in the environment (`BACKSTAGE_TEST_DATABASE_POSTGRES<N>_CONNECTION_STRING`,
 * set by `./stagecoachw test` when a server answers on 127.0.0.1:5432). With
 * STAGECOACH_REQUIRE_POSTGRES=1 (CI), a missing PostgreSQL is an error, not a quiet skip.
 */
export function createTestDatabases(): TestDatabases {
  const postgres = Object.keys(process.env)
    .map(k => /^BACKSTAGE_TEST_DATABASE_POSTGRES(\d+)_CONNECTION_STRING$/.exec(k))
    .filter((m): m is RegExpExecArray => m !== null)
    .map(m => `POSTGRES_${m[1]}` as TestDatabaseId);
  if (process.env.STAGECOACH_REQUIRE_POSTGRES === '1' && postgres.length === 0) {
    throw new Error('STAGECOACH_REQUIRE_POSTGRES=1 but no BACKSTAGE_TEST_DATABASE_POSTGRES<N>_CONNECTION_STRING is set');
  }
  return TestDatabases.create({ ids: ['SQLITE_3', ...postgres], disableDocker: true });
}
