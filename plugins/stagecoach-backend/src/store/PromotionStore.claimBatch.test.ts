import { createTestDatabases } from '../__testUtils__/databases';
import { applyMigrations } from './migrations';
import { PromotionStore } from './PromotionStore';

describe('PromotionStore.claimBatch', () => {
  const databases = createTestDatabases();
  const at = (s: number) => new Date(Date.parse('2026-11-22T10:00:00.000Z') + s * 1000).toISOString();
  const steps = [{ uses: 'git-clone' }];

  it.each(databases.eachSupportedId())(
    'gives racing workers each promotion once: the waking first, then the oldest of each free stage, never past max, on %p',
    async id => {
      const knex = await databases.init(id);
      await applyMigrations(knex);
      await knex('stagecoach_projects').insert({ name: 'p', created_at: at(0), updated_at: at(0) });
      await knex('stagecoach_stages').insert(
        ['dev', 'qa', 'prod', 'waits'].map(name => ({ project: 'p', name, spec_json: '{}' })),
      );
      const store = new PromotionStore(knex);
      const create = (stage: string, s: number) => store.create({ project: 'p', stage, freightId: `f${s}`, steps, vars: [] }, at(s));
      // prod runs already; "waits" is parked until at(5)
      const prodRunning = await create('prod', 1);
      expect((await store.claimNext('old-worker', at(1), 60_000))?.id).toBe(prodRunning);
      const parked = await create('waits', 2);
      const parkedClaim = await store.claimNext('old-worker', at(2), 60_000);
      expect(parkedClaim?.id).toBe(parked);
      expect(await store.park(parked, 'old-worker', 0, at(5))).toBe(true);
      const prodQueued = await create('prod', 3);
      const dev = [await create('dev', 4), await create('dev', 6), await create('dev', 7)];
      const qa = await create('qa', 8);

      // five workers race for two promotions each: only three can be claimed now
      const now = at(10);
      const batches = await Promise.all(Array.from({ length: 5 }, (_, i) => store.claimBatch(`w${i}`, now, 60_000, 2)));
      expect(batches.every(b => b.length <= 2)).toBe(true);
      const claimed = batches.flat();
      expect(claimed.map(c => c.id).sort()).toEqual([parked, dev[0], qa].sort());
      // the waking promotion resumes where it waited; the pending ones start fresh
      expect(claimed.find(c => c.id === parked)).toMatchObject({ fresh: false, currentStep: 0, attempts: 1 });
      expect(claimed.find(c => c.id === dev[0])).toMatchObject({ fresh: true, attempts: 1, stage: 'dev' });
      // each is held by the worker that got it back
      for (const [i, batch] of batches.entries()) {
        for (const c of batch) {
          expect(await knex('stagecoach_promotions').where({ id: c.id }).first('claimed_by')).toEqual({ claimed_by: `w${i}` });
        }
      }
      expect(await store.claimBatch('late', now, 60_000, 10)).toEqual([]);

      // once dev's first ends, its second is next (not its third, nor prod's queued one)
      await store.finish({ id: dev[0], project: 'p', stage: 'dev', freightId: 'f4' }, 'Succeeded', undefined, at(11));
      expect((await store.claimBatch('late', at(12), 60_000, 10)).map(c => c.id)).toEqual([dev[1]]);
      await store.finish({ id: prodRunning, project: 'p', stage: 'prod', freightId: 'f1' }, 'Succeeded', undefined, at(13));
      expect((await store.claimBatch('late', at(14), 60_000, 10)).map(c => c.id)).toEqual([prodQueued]);
      await knex.destroy();
    },
  );
});
