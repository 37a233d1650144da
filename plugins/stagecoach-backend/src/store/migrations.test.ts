import { createTestDatabases } from '../__testUtils__/databases';
import { MIGRATIONS_DIR } from './migrations';

const TABLES = [
  'stagecoach_manifest_applies',
  'stagecoach_projects',
  'stagecoach_warehouses',
  'stagecoach_stages',
  'stagecoach_freight',
  'stagecoach_freight_stages',
  'stagecoach_promotions',
  'stagecoach_promotion_steps',
  'stagecoach_verifications',
  'stagecoach_project_credentials',
  'stagecoach_cluster_resources',
  'stagecoach_cluster_applies',
  'stagecoach_project_config_maps',
  'stagecoach_project_webhook_receivers',
  'stagecoach_catalog_pipelines',
];

describe('migrations', () => {
  const databases = createTestDatabases();

  it.each(databases.eachSupportedId())('go up and down on %p', async databaseId => {
    const knex = await databases.init(databaseId);
    await knex.migrate.latest({ directory: MIGRATIONS_DIR });
    for (const t of TABLES) expect(await knex.schema.hasTable(t)).toBe(true);

    // the schema works: a project with a stage, and the cascade on delete
    await knex('stagecoach_projects').insert({ name: 'p', created_at: 'x', updated_at: 'x' });
    await knex('stagecoach_stages').insert({ project: 'p', name: 'dev', spec_json: '{}' });
    expect(Number((await knex('stagecoach_stages').count({ n: '*' }))[0].n)).toBe(1);

    await knex.migrate.rollback({ directory: MIGRATIONS_DIR }, true);
    for (const t of TABLES) expect(await knex.schema.hasTable(t)).toBe(false);
    await knex.destroy();
  });
});
