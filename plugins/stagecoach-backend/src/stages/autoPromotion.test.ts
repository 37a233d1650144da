import { Knex } from 'knex';
import { AutomaticChange, StagecoachEngine } from '../app';
import { createTestDatabases } from '../__testUtils__/databases';
import { createGitFixture, GitFixture, pipelineYaml } from '../__testUtils__/gitFixture';
import { silentLogger } from '../util/types';
import { AUTO_PROMOTION_ACTOR } from './autoPromotion';
import { LOOPBACK_ALLOWED } from '../__testUtils__/loopbackHttp';

jest.setTimeout(180_000);

/**
 * The demo pipeline (warehouse -> dev -> staging, each stage committing to a GitOps
 * repository on a real Git server), with auto-promotion on for both stages: dev takes the
 * newest freight (NewestFreight, the default), staging whatever dev has (MatchUpstream).
 */
function autoPipeline(git: GitFixture, project: string): string {
  const base = pipelineYaml(git, project).replace(
    'sources: {stages: [dev]}',
    'sources: {stages: [dev], autoPromotionOptions: {selectionPolicy: MatchUpstream}}',
  );
  return `${base}---
apiVersion: kargo.akuity.io/v1alpha1
kind: ProjectConfig
metadata:
  name: ${project}
  namespace: ${project}
spec:
  promotionPolicies:
    - stageSelector: {name: dev}
      autoPromotionEnabled: true
    - stageSelector: {name: "regex:^stag"}
      autoPromotionEnabled: true
`;
}

describe('auto-promotion through the engine, against a real Git server over HTTP', () => {
  const databases = createTestDatabases();

  describe.each(databases.eachSupportedId())('on %p', databaseId => {
    let knex: Knex;
    let engine: StagecoachEngine;
    let git: GitFixture;
    const project = 'auto';
    const audited: AutomaticChange[] = [];

    beforeAll(async () => {
      git = await createGitFixture();
      knex = await databases.init(databaseId);
      engine = await StagecoachEngine.create({
        egress: LOOPBACK_ALLOWED,
        knex,
        logger: silentLogger,
        workDir: `${git.root}/work-${databaseId}`,
        worker: { pollIntervalMs: 50 },
        onAutomaticChange: change => audited.push(change),
      });
      engine.start();
    });
    afterAll(async () => {
      await engine.close();
      await knex.destroy();
      await git.close();
    });

    /** Waits until no promotion or verification is queued or running and the auto-promotion runs they started are done. */
    async function settle() {
      // quiet twice in a row: a verification that just ended may be about to start promotions
      let quiet = 0;
      for (let i = 0; i < 1200; i++) {
        await engine.workers.autoPromotion.idle();
        await engine.workers.promotion.idle();
        await engine.workers.autoPromotion.idle();
        const promotions = await engine.promotions.list(project);
        // a promotion's success counts downstream once its verification succeeded too
        const verifying = (await engine.stages.list(project)).some(s => ['Pending', 'Running'].includes(s.verification?.phase ?? ''));
        if (!verifying && !promotions.some(p => ['Pending', 'Running'].includes(p.phase))) {
          if (++quiet === 2) return promotions;
        } else quiet = 0;
        await new Promise(r => setTimeout(r, 50));
      }
      throw new Error('promotions did not settle');
    }

    const tags = async () => ({
      dev: /tag: (\S+)/.exec(await git.show('gitops', 'main', 'env/dev/values.yaml'))![1],
      staging: /tag: (\S+)/.exec(await git.show('gitops', 'main', 'env/staging/values.yaml'))![1],
    });

    const where = async () =>
      Object.fromEntries((await engine.stages.list(project)).map(s => [s.name, s.currentFreight?.alias]));

    it('new freight goes to dev (NewestFreight) and on to staging (MatchUpstream) by itself', async () => {
      await engine.projects.applyManifests(project, autoPipeline(git, project));
      // discovery makes freight; the engine's hook promotes it, and each success promotes further
      const [discovered] = await engine.workers.discovery.runDue();
      expect(discovered.createdFreightId).toBeDefined();
      const promotions = await settle();
      const [freight] = await engine.freight.list(project);
      expect(freight.commits[0].tag).toBe('v1.2.0');
      expect(promotions.map(p => [p.stage, p.phase, p.createdBy, p.freight.alias]).sort()).toEqual([
        ['dev', 'Succeeded', AUTO_PROMOTION_ACTOR, freight.alias],
        ['staging', 'Succeeded', AUTO_PROMOTION_ACTOR, freight.alias],
      ]);
      expect(await tags()).toEqual({ dev: 'v1.2.0', staging: 'v1.2.0' });
      // each auto-promotion is told to the audit log, with the engine as its actor
      expect(audited.map(c => [c.eventId, c.actor, c.meta.stage, c.meta.freight, c.meta.promotion, c.error]).sort()).toEqual(
        promotions
          .map(p => ['promotion-create', AUTO_PROMOTION_ACTOR, p.stage, freight.id, p.id, undefined])
          .sort(),
      );

      // nothing more to do: a scheduled pass creates nothing
      expect((await engine.workers.autoPromotion.runAll()).filter(o => o.promotionId)).toEqual([]);
    });

    it('a newer tag follows the same way', async () => {
      await git.tagApp('v1.3.0');
      await engine.warehouses.refresh(project, 'app');
      await engine.workers.discovery.runDue();
      await settle();
      const [newest] = await engine.freight.list(project);
      expect(newest.commits[0].tag).toBe('v1.3.0');
      expect(await where()).toEqual({ dev: newest.alias, staging: newest.alias });
      expect(await tags()).toEqual({ dev: 'v1.3.0', staging: 'v1.3.0' });
    });

    it('a rollback of dev by hand holds dev; staging matches dev; releasing the hold brings the newest back', async () => {
      const [newest, older] = await engine.freight.list(project);
      const rollback = await engine.promotions.promote(project, 'dev', older.alias, 'user:default/ada');
      await settle();
      // dev keeps the older freight: auto-promotion would take the newest, but the hold stops it
      const dev = await engine.stages.get(project, 'dev');
      expect(dev.currentFreight?.alias).toBe(older.alias);
      expect(dev.autoPromotionHolds).toEqual([
        expect.objectContaining({
          origin: { kind: 'Warehouse', name: 'app' },
          freight: { id: older.id, alias: older.alias },
          promotionId: rollback.id,
          createdBy: 'user:default/ada',
          reason: `older freight ${older.alias} was promoted by hand instead of the auto-promotion candidate ${newest.alias} (a rollback)`,
        }),
      ]);
      // MatchUpstream: staging follows dev back, and an auto-promotion holds nothing
      const staging = await engine.stages.get(project, 'staging');
      expect(staging.currentFreight?.alias).toBe(older.alias);
      expect(staging.autoPromotionHolds).toEqual([]);
      expect(staging.lastPromotion?.createdBy).toBe(AUTO_PROMOTION_ACTOR);
      expect(await tags()).toEqual({ dev: 'v1.2.0', staging: 'v1.2.0' });
      const explained = await engine.stages.freight(project, 'dev');
      expect(explained.items.find(i => i.autoPromotionCandidate)?.freight.alias).toBe(newest.alias);

      await engine.stages.releaseAutoPromotionHold(project, 'dev', 'app', 'user:default/ada');
      await settle();
      expect(await where()).toEqual({ dev: newest.alias, staging: newest.alias });
      expect(await tags()).toEqual({ dev: 'v1.3.0', staging: 'v1.3.0' });
      expect((await engine.stages.get(project, 'dev')).autoPromotionHolds).toEqual([]);
    });
  });
});
