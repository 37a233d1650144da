import { resolvePackagePath } from '@backstage/backend-plugin-api';
import { Knex } from 'knex';

export const MIGRATIONS_DIR = resolvePackagePath(
  '@stagecoach/plugin-stagecoach-backend',
  'migrations',
);

export async function applyMigrations(knex: Knex): Promise<void> {
  await knex.migrate.latest({ directory: MIGRATIONS_DIR });
}
