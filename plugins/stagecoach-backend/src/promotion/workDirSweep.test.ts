import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createTestDatabases } from '../__testUtils__/databases';
import { FreightStore } from '../store/FreightStore';
import { builtinSubscriptionKinds } from '../discovery/kinds';
import { MetadataStore } from '../store/MetadataStore';
import { applyMigrations } from '../store/migrations';
import { PromotionStore } from '../store/PromotionStore';
import { silentLogger, systemClock } from '../util/types';
import { PromotionRunner } from './PromotionRunner';

describe('work directories left behind', () => {
  const databases = createTestDatabases();

  it.each(databases.eachSupportedId())(
    'are removed once no attempt will come back to them, and only then, on %p',
    async databaseId => {
      const knex = await databases.init(databaseId);
      await applyMigrations(knex);
      const now = new Date().toISOString();
      await knex('stagecoach_projects').insert({ name: 'p', created_at: now, updated_at: now });
      await knex('stagecoach_stages').insert(['dev', 'qa', 'prod'].map(name => ({ project: 'p', name, spec_json: '{}' })));
      const promotions = new PromotionStore(knex);
      const steps = [{ uses: 'git-clone' }];
      const finished = await promotions.create({ project: 'p', stage: 'dev', freightId: 'f', steps, vars: [] }, now);
      const restarted = await promotions.create({ project: 'p', stage: 'qa', freightId: 'f', steps, vars: [] }, now);
      const later = new Date(Date.parse(now) + 1000).toISOString();
      const pending = await promotions.create({ project: 'p', stage: 'prod', freightId: 'f', steps, vars: [] }, later);
      // dev's promotion ended (aborted while it waited on another backend); qa's is on its second attempt
      const [dev, qa] = [await promotions.claimNext('w', now, 60_000), await promotions.claimNext('w', now, 60_000)];
      expect([dev?.id, qa?.id].sort()).toEqual([finished, restarted].sort());
      await promotions.finish({ id: finished, project: 'p', stage: 'dev', freightId: 'f' }, 'Aborted', 'aborted by someone', now);
      await knex('stagecoach_promotions').where({ id: restarted }).update({ attempts: 2 });

      const workRoot = await fs.mkdtemp(path.join(os.tmpdir(), 'stagecoach-sweep-'));
      const dirs = [
        `promotion-${finished}-1`, // its promotion ended: nobody comes back
        `promotion-${restarted}-1`, // a killed attempt: the promotion started over
        `promotion-${restarted}-2`, // the attempt running now
        `promotion-${pending}-1`, // not started (a folder made early by a claim in flight)
        'promotion-gone.abc.12345678-1', // its promotion no longer exists
        'unrelated', // not a promotion's: left alone
      ];
      for (const d of dirs) await fs.mkdir(path.join(workRoot, d, 'repo'), { recursive: true });

      const runner = new PromotionRunner({
        promotions,
        freight: new FreightStore(knex, a => builtinSubscriptionKinds.references(a)),
        metadata: new MetadataStore(knex),
        clock: systemClock,
        logger: silentLogger,
        workRoot,
        artifactFunctions: (a, owner) => builtinSubscriptionKinds.expressionFunctions(a, owner),
        onSucceeded: async () => undefined,
      });
      expect(await runner.sweepWorkDirs()).toBe(3);
      expect((await fs.readdir(workRoot)).sort()).toEqual(
        [`promotion-${restarted}-2`, `promotion-${pending}-1`, 'unrelated'].sort(),
      );
      expect(await runner.sweepWorkDirs()).toBe(0);
      await fs.rm(workRoot, { recursive: true, force: true });
      await knex.destroy();
    },
  );
});
