import { createTestDatabases } from '../__testUtils__/databases';
import { applyMigrations } from './migrations';
import { PromotionStore } from './PromotionStore';

describe('PromotionStore queue', () => {
  const databases = createTestDatabases();

  it.each(databases.eachSupportedId())('runs one promotion per stage, claimed by one worker, on %p', async id => {
    const knex = await databases.init(id);
    await applyMigrations(knex);
    const now = '2026-11-22T10:00:00.000Z';
    await knex('stagecoach_projects').insert({ name: 'p', created_at: now, updated_at: now });
    await knex('stagecoach_stages').insert([
      { project: 'p', name: 'dev', spec_json: '{}' },
      { project: 'p', name: 'qa', spec_json: '{}' },
    ]);
    const store = new PromotionStore(knex);
    const steps = [{ uses: 'git-clone' }];
    const first = await store.create({ project: 'p', stage: 'dev', freightId: 'f1', steps, vars: [] }, now);
    const second = await store.create({ project: 'p', stage: 'dev', freightId: 'f2', steps, vars: [] }, '2026-11-22T10:00:01.000Z');
    const other = await store.create({ project: 'p', stage: 'qa', freightId: 'f1', steps, vars: [] }, '2026-11-22T10:00:02.000Z');

    // many workers race: each promotion is claimed once, and dev runs only its oldest
    const claims = await Promise.all(
      Array.from({ length: 6 }, (_, i) => store.claimNext(`w${i}`, now, 60_000)),
    );
    const claimed = claims.filter(c => c !== undefined).map(c => c!.id).sort();
    expect(claimed).toEqual([first, other].sort());

    // the second dev promotion waits until the first ends
    expect(await store.claimNext('w9', now, 60_000)).toBeUndefined();
    await store.finish({ id: first, project: 'p', stage: 'dev', freightId: 'f1' }, 'Succeeded', undefined, now);
    expect((await store.claimNext('w9', now, 60_000))?.id).toBe(second);
    expect((await knex('stagecoach_stages').where({ name: 'dev' }).first()).current_freight_id).toBe('f1');

    // an expired claim is found by the janitor, and ending it twice is harmless
    const expired = await store.expiredClaims('2026-11-22T11:00:00.000Z');
    expect(expired.map(r => r.id).sort()).toEqual([second, other].sort());
    expect(await store.finish({ id: other, project: 'p', stage: 'qa', freightId: 'f1' }, 'Errored', 'gone', now)).toBe(true);
    expect(await store.finish({ id: other, project: 'p', stage: 'qa', freightId: 'f1' }, 'Succeeded', undefined, now)).toBe(false);
    expect((await store.get('p', other)).phase).toBe('Errored');
    await knex.destroy();
  });
});
