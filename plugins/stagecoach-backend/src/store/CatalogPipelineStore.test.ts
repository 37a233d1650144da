import { createTestDatabases } from '../__testUtils__/databases';
import { CatalogPipelineStore } from './CatalogPipelineStore';
import { applyMigrations } from './migrations';

describe('CatalogPipelineStore: which entity owns which project pipeline', () => {
  const databases = createTestDatabases();

  it.each(databases.eachSupportedId())(
    'keeps one owner per project, its state replaced whole, and lets go on %p',
    async databaseId => {
      const knex = await databases.init(databaseId);
      await applyMigrations(knex);
      const store = new CatalogPipelineStore(knex);
      expect(await store.get('shop')).toBeUndefined();

      await store.put({
        project: 'shop',
        entity: 'component:default/shop',
        ref: 'dir:./pipeline',
        managed: true,
        etag: 'abc',
        revision: 'abc',
        appliedAt: '2026-12-01T00:00:00.000Z',
        checkedAt: '2026-12-01T00:00:00.000Z',
      });
      // a refused change: the problems and the refused revision, the last applied kept
      await store.put({
        project: 'shop',
        entity: 'component:default/shop',
        ref: 'dir:./pipeline',
        managed: true,
        etag: 'def',
        revision: 'abc',
        appliedAt: '2026-12-01T00:00:00.000Z',
        checkedAt: '2026-12-02T00:00:00.000Z',
        refusedRevision: 'def',
        problems: [
          {
            document: 2,
            path: 'spec',
            message: 'is required',
            file: 'stages.yaml',
          },
        ],
      });
      await store.put({
        project: 'api',
        entity: 'component:default/api',
        ref: 'url:https://x/p.yaml',
        managed: true,
        error: 'could not read',
      });
      expect(await store.get('shop')).toEqual({
        project: 'shop',
        entity: 'component:default/shop',
        ref: 'dir:./pipeline',
        managed: true,
        etag: 'def',
        revision: 'abc',
        appliedAt: '2026-12-01T00:00:00.000Z',
        checkedAt: '2026-12-02T00:00:00.000Z',
        refusedRevision: 'def',
        problems: [
          {
            document: 2,
            path: 'spec',
            message: 'is required',
            file: 'stages.yaml',
          },
        ],
      });

      await store.release('shop');
      expect((await store.list()).map(p => [p.project, p.managed])).toEqual([
        ['api', true],
        ['shop', false],
      ]);
      await knex.destroy();
    },
  );
});
