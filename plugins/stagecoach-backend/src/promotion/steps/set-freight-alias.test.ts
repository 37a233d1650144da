import { Knex } from 'knex';
import { builtinSubscriptionKinds } from '../../discovery/kinds';
import { createTestDatabases } from '../../__testUtils__/databases';
import { runStep, tempWorkDir } from '../../__testUtils__/stepHarness';
import { FreightStore, StoredFreight } from '../../store/FreightStore';
import { applyMigrations } from '../../store/migrations';
import { FreightAliasChange, freightAliasWriter } from '../freightAliasWriter';
import { setFreightAlias } from './set-freight-alias';

const NOW = '2026-01-01T00:00:00.000Z';
const image = (tag: string) => ({
  commits: [],
  images: [{ repoURL: 'ghcr.io/acme/app', tag, digest: `sha256:${tag.replace(/\D/g, '').padEnd(64, '0')}` }],
  charts: [],
});

describe('set-freight-alias', () => {
  const databases = createTestDatabases();

  it.each(databases.eachSupportedId())(
    'renames freight of the project through the freight store, by ID, alias or by default the promoted one, and reports it for the audit (%p)',
    async databaseId => {
      const knex: Knex = await databases.init(databaseId);
      const work = await tempWorkDir();
      try {
        await applyMigrations(knex);
        for (const name of ['shop', 'other']) {
          await knex('stagecoach_projects').insert({ name, created_at: NOW, updated_at: NOW });
        }
        const store = new FreightStore(knex, a => builtinSubscriptionKinds.references(a));
        const { freight: promoted } = await store.ensure('shop', 'app', image('v1.0.0'), NOW, { alias: 'brave-otter' });
        const { freight: older } = await store.ensure('shop', 'app', image('v0.9.0'), NOW, { alias: 'calm-heron' });
        const { freight: elsewhere } = await store.ensure('other', 'app', image('v2.0.0'), NOW, { alias: 'other-one' });

        const changes: FreightAliasChange[] = [];
        const inPromotion: StoredFreight = { ...promoted };
        const promotion = { project: 'shop', stage: 'prod', id: 'prod.x.1', createdBy: 'user:default/ana' };
        const ctx = {
          workDir: work.dir,
          project: 'shop',
          freight: inPromotion,
          freightAliases: freightAliasWriter(store, promotion, inPromotion, c => changes.push(c)),
        };
        const run = (config: unknown) => runStep(setFreightAlias, config, ctx);

        // Kargo's form: the freight's name (its ID), as ctx.targetFreight.name gives it
        expect(await run({ name: promoted.id, alias: 'release-1-0' })).toEqual({
          status: 'Succeeded',
          message: `freight ${promoted.id} renamed from brave-otter to release-1-0`,
        });
        expect((await store.get('shop', promoted.id)).alias).toBe('release-1-0');
        // what later steps' expressions read
        expect(inPromotion.alias).toBe('release-1-0');

        // by its current alias; and by default the freight being promoted
        await run({ name: 'calm-heron', alias: 'release-0-9' });
        expect((await store.get('shop', older.id)).alias).toBe('release-0-9');
        await run({ alias: 'prod-current' });
        expect((await store.get('shop', promoted.id)).alias).toBe('prod-current');
        expect(await run({ alias: 'prod-current' })).toEqual({
          status: 'Succeeded',
          message: `freight ${promoted.id} is already called prod-current`,
        });

        const change = { project: 'shop', stage: 'prod', promotion: 'prod.x.1', actor: 'user:default/ana' };
        expect(changes).toEqual([
          { ...change, freight: promoted.id, previousAlias: 'brave-otter', alias: 'release-1-0' },
          { ...change, freight: older.id, previousAlias: 'calm-heron', alias: 'release-0-9' },
          { ...change, freight: promoted.id, previousAlias: 'release-1-0', alias: 'prod-current' },
        ]);

        // aliases are unique in a project: a taken one fails the step, and nothing changes
        await expect(run({ name: older.id, alias: 'prod-current' })).rejects.toThrow(
          `alias "prod-current" is already used by freight ${promoted.id} in project "shop"`,
        );
        // another project's freight is out of reach, by ID or by alias
        await expect(run({ name: elsewhere.id, alias: 'stolen' })).rejects.toThrow(
          `freight "${elsewhere.id}" not found in project "shop"`,
        );
        await expect(run({ name: 'other-one', alias: 'stolen' })).rejects.toThrow('freight "other-one" not found in project "shop"');
        expect((await store.get('other', elsewhere.id)).alias).toBe('other-one');
        expect(changes).toHaveLength(3);
      } finally {
        await work.cleanup();
        await knex.destroy();
      }
    },
  );

  it('validates the alias as the API does, and names the field', async () => {
    const work = await tempWorkDir();
    try {
      const run = (config: unknown) => runStep(setFreightAlias, config, { workDir: work.dir });
      for (const alias of ['Release-1', '-edge', 'edge-', 'a_b', 'x'.repeat(64), '']) {
        await expect(run({ alias })).rejects.toThrow(
          'config.alias: must be 1 to 63 lowercase letters, digits and "-", starting and ending with a letter or digit',
        );
      }
      await expect(run({ name: 'f' })).rejects.toThrow('config.alias: Required');
      await expect(run({ alias: 'ok', freight: 'f' })).rejects.toThrow(/freight/);
    } finally {
      await work.cleanup();
    }
  });
});
