import { createTestDatabases } from '../__testUtils__/databases';
import { KEPT_APPLIES_PER_PROJECT, ManifestApplyStore, NewManifestApply } from './ManifestApplyStore';
import { applyMigrations } from './migrations';

const nothing = { warehouses: { added: [], changed: [], removed: [] }, stages: { added: [], changed: [], removed: [] } };

describe('ManifestApplyStore: who applied which manifests', () => {
  const databases = createTestDatabases();

  it.each(databases.eachSupportedId())('keeps the newest applies per project on %p, and not a repeat that changed nothing', async databaseId => {
    const knex = await databases.init(databaseId);
    await applyMigrations(knex);
    await knex('stagecoach_projects').insert([
      { name: 'p', created_at: 'x', updated_at: 'x' },
      { name: 'q', created_at: 'x', updated_at: 'x' },
    ]);
    const store = new ManifestApplyStore(knex);
    const apply = (i: number, extra: Partial<NewManifestApply> = {}): NewManifestApply => ({
      project: 'p',
      at: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(),
      by: 'user:default/jane',
      revision: `r${i}`,
      digest: `sha256:${i}`,
      pruned: false,
      changes: { ...nothing, stages: { added: [`s${i}`], changed: [], removed: [] } },
      ...extra,
    });

    await store.record(apply(1));
    await store.record(apply(2, { changes: nothing, revision: undefined, by: undefined }));
    // the same again (a restart re-applying app-config, a retried request): not news
    await store.record(apply(2, { changes: nothing, revision: undefined, by: undefined, at: '2026-02-01T00:00:00.000Z' }));
    expect((await store.list('p')).map(a => a.digest)).toEqual(['sha256:2', 'sha256:1']);
    expect(await store.last('p')).toEqual({ at: '2026-01-01T00:00:02.000Z' });
    // the same YAML by someone else is recorded
    await store.record(apply(2, { changes: nothing, revision: undefined }));
    expect(await store.last('p')).toEqual({ at: '2026-01-01T00:00:02.000Z', by: 'user:default/jane' });

    for (let i = 3; i < KEPT_APPLIES_PER_PROJECT + 10; i++) await store.record(apply(i));
    await store.record({ ...apply(1), project: 'q' });
    const kept = await store.list('p', 1000);
    expect(kept).toHaveLength(KEPT_APPLIES_PER_PROJECT);
    expect(kept[0]).toEqual({
      project: 'p',
      at: apply(KEPT_APPLIES_PER_PROJECT + 9).at,
      by: 'user:default/jane',
      revision: `r${KEPT_APPLIES_PER_PROJECT + 9}`,
      digest: `sha256:${KEPT_APPLIES_PER_PROJECT + 9}`,
      pruned: false,
      changes: { ...nothing, stages: { added: [`s${KEPT_APPLIES_PER_PROJECT + 9}`], changed: [], removed: [] } },
    });
    expect(await store.list('q')).toHaveLength(1);
    await knex.destroy();
  });
});
