import { ConflictError } from '@backstage/errors';
import { createTestDatabases } from '../__testUtils__/databases';
import { applyMigrations } from './migrations';
import { VerificationStore } from './VerificationStore';

describe('VerificationStore', () => {
  const databases = createTestDatabases();
  const at = (s: number) => new Date(Date.parse('2026-12-01T10:00:00.000Z') + s * 1000).toISOString();
  const analysis = {
    templates: ['smoke'],
    args: { host: 'dev.example.com' },
    metrics: [{ name: 'up', count: 1, failureLimit: 0, inconclusiveLimit: 0, consecutiveErrorLimit: 4, provider: { web: { url: 'http://x' } } }],
  };

  async function setup(id: Parameters<typeof databases.init>[0]) {
    const knex = await databases.init(id);
    await applyMigrations(knex);
    await knex('stagecoach_projects').insert({ name: 'p', created_at: at(0), updated_at: at(0) });
    await knex('stagecoach_freight').insert({ project: 'p', id: 'f1', alias: 'brave-otter', warehouse: 'w', artifacts_json: '{}', created_at: at(0) });
    return { knex, store: new VerificationStore(knex) };
  }

  it.each(databases.eachSupportedId())(
    'hands a due verification to one worker at a time, and lets go of it until its next measurement, on %p',
    async id => {
      const { knex, store } = await setup(id);
      const vid = await store.create({ project: 'p', stage: 'dev', freightId: 'f1', promotionId: 'dev.1', templates: ['smoke'], analysis }, at(1), 'x');
      const claims = await Promise.all(['a', 'b', 'c'].map(w => store.claimDue(w, at(2), 60_000, 5)));
      const won = claims.flat();
      expect(won).toHaveLength(1);
      expect(won[0]).toMatchObject({ id: vid, phase: 'Pending', analysis, freightId: 'f1' });
      // let go until at(30): nobody gets it before
      expect(await store.progress(won[0], { phase: 'Running', startedAt: at(2), metrics: [], nextAt: at(30) }, at(2))).toBe(true);
      expect(await store.claimDue('a', at(29), 60_000, 5)).toEqual([]);
      const again = await store.claimDue('b', at(30), 60_000, 5);
      expect(again.map(v => [v.id, v.phase, v.startedAt])).toEqual([[vid, 'Running', at(2)]]);
      // a claim that ran out is taken over, and the old holder can no longer write
      const taken = await store.claimDue('c', at(30 + 61), 60_000, 5);
      expect(taken.map(v => v.claimedBy)).toEqual(['c']);
      expect(await store.finish(again[0], { phase: 'Successful' }, at(92))).toBe(false);
      let verified = false;
      expect(await store.finish(taken[0], { phase: 'Successful', message: 'all good' }, at(92), async () => { verified = true; })).toBe(true);
      expect(verified).toBe(true);
      const view = await store.get('p', vid);
      expect(view).toMatchObject({
        phase: 'Successful',
        message: 'all good',
        freight: { id: 'f1', alias: 'brave-otter' },
        promotionId: 'dev.1',
        analysisTemplates: ['smoke'],
        args: { host: 'dev.example.com' },
        startedAt: at(2),
        finishedAt: at(92),
      });
      await knex.destroy();
    },
  );

  it.each(databases.eachSupportedId())(
    'a new verification supersedes the stage\'s active one; abort ends a pending one at once and flags a running one, on %p',
    async id => {
      const { knex, store } = await setup(id);
      const first = await store.create({ project: 'p', stage: 'dev', freightId: 'f1', templates: [], analysis }, at(1), 'x');
      const second = await store.create({ project: 'p', stage: 'dev', freightId: 'f1', templates: [], analysis }, at(2), 'promotion dev.2');
      expect(await store.get('p', first)).toMatchObject({ phase: 'Aborted', message: 'aborted by promotion dev.2' });
      // running: the abort is acted on at its next tick, which is now, even if a tick was under way
      const [claim] = await store.claimDue('w', at(3), 60_000, 5);
      expect(claim.id).toBe(second);
      expect(await store.requestAbort('p', 'dev', 'user:default/ana', at(4))).toBe(second);
      expect(await store.progress(claim, { phase: 'Running', startedAt: at(3), nextAt: at(300) }, at(5))).toBe(true);
      const [flagged] = await store.claimDue('w', at(5), 60_000, 5);
      expect(flagged).toMatchObject({ id: second, abortRequestedBy: 'user:default/ana' });
      expect(await store.finish(flagged, { phase: 'Aborted', message: 'aborted by user:default/ana' }, at(6))).toBe(true);
      await expect(store.requestAbort('p', 'dev', 'ana', at(7))).rejects.toThrow(ConflictError);
      // pending and unclaimed: aborted at once
      const third = await store.create({ project: 'p', stage: 'dev', freightId: 'f1', templates: [], analysis }, at(8), 'x');
      await store.requestAbort('p', 'dev', 'ana', at(9));
      expect(await store.get('p', third)).toMatchObject({ phase: 'Aborted', message: 'aborted by ana', abortRequestedBy: 'ana' });
      // history newest first, and the latest per stage
      expect((await store.list('p', 'dev')).map(v => v.id)).toEqual([third, second, first]);
      expect((await store.latestPerStage('p')).get('dev')?.id).toBe(third);
      await knex.destroy();
    },
  );

  it.each(databases.eachSupportedId())('a verification that cannot run is recorded in phase Error with the reason, on %p', async id => {
    const { knex, store } = await setup(id);
    const vid = await store.create(
      { project: 'p', stage: 'dev', freightId: 'f1', templates: ['smoke'], error: 'arg "host" of AnalysisTemplate smoke has no value' },
      at(1),
      'x',
    );
    expect(await store.get('p', vid)).toMatchObject({ phase: 'Error', message: 'arg "host" of AnalysisTemplate smoke has no value', finishedAt: at(1) });
    expect(await store.claimDue('w', at(2), 60_000, 5)).toEqual([]);
    await knex.destroy();
  });
});
