import { ConflictError, InputError, NotFoundError } from '@backstage/errors';
import { Knex } from 'knex';
import os from 'node:os';
import path from 'node:path';
import { StagecoachEngine } from '../app';
import { ManifestValidationError } from '../manifests/ManifestValidationError';
import { createTestDatabases } from '../__testUtils__/databases';
import { silentLogger } from '../util/types';
import { AUTO_PROMOTION_ACTOR } from './autoPromotion';

jest.setTimeout(120_000);

/** A clock the test moves: soak is tested without sleeping. */
class TestClock {
  t = Date.parse('2026-12-01T10:00:00.000Z');
  now = () => new Date(this.t);
  advance(minutes: number) {
    this.t += minutes * 60_000;
  }
  iso(offsetMinutes = 0) {
    return new Date(this.t + offsetMinutes * 60_000).toISOString();
  }
}

const REPO = 'https://git.example.com/acme/app.git';

/**
 * Control-flow stages only (no steps): promotions succeed at once and pass freight through
 * as verified, so the rules can be watched without a Git server.
 */
const manifests = (project: string, extra = '') => `apiVersion: kargo.akuity.io/v1alpha1
kind: Warehouse
metadata: {name: app, namespace: ${project}}
spec:
  subscriptions:
    - git: {repoURL: ${REPO}, commitSelectionStrategy: SemVer}
---
apiVersion: kargo.akuity.io/v1alpha1
kind: Stage
metadata: {name: dev, namespace: ${project}}
spec:
  requestedFreight:
    - origin: {kind: Warehouse, name: app}
      sources: {direct: true}
---
apiVersion: kargo.akuity.io/v1alpha1
kind: Stage
metadata: {name: qa, namespace: ${project}}
spec:
  requestedFreight:
    - origin: {kind: Warehouse, name: app}
      sources: {direct: true}
---
apiVersion: kargo.akuity.io/v1alpha1
kind: Stage
metadata: {name: staging, namespace: ${project}, labels: {soak: long}}
spec:
  requestedFreight:
    - origin: {kind: Warehouse, name: app}
      sources: {stages: [dev, qa], requiredSoakTime: 10m}
---
apiVersion: kargo.akuity.io/v1alpha1
kind: Stage
metadata: {name: prod, namespace: ${project}}
spec:
  requestedFreight:
    - origin: {kind: Warehouse, name: app}
      sources: {stages: [staging, qa], availabilityStrategy: All}
${extra}`;

const projectConfig = (project: string, policies: string) => `---
apiVersion: kargo.akuity.io/v1alpha1
kind: ProjectConfig
metadata: {name: ${project}, namespace: ${project}}
spec:
  promotionPolicies:
${policies}`;

async function waitFinal(engine: StagecoachEngine, project: string, id: string) {
  for (let i = 0; i < 600; i++) {
    const p = await engine.promotions.get(project, id);
    if (!['Pending', 'Running'].includes(p.phase)) return p;
    await new Promise(r => setTimeout(r, 20));
  }
  throw new Error(`promotion ${id} did not finish`);
}

describe('stage policies: availability, soak, approval, auto-promotion, holds', () => {
  const databases = createTestDatabases();

  describe.each(databases.eachSupportedId())('on %p', databaseId => {
    let knex: Knex;
    let engine: StagecoachEngine;
    const clock = new TestClock();

    /** Freight as discovery would store it, created at the test clock's time. */
    async function freight(project: string, tag: string) {
      const { freight: f } = await engine.stores.freight.ensure(
        project,
        'app',
        { commits: [{ repoURL: REPO, id: tag.replace(/\D/g, '').padEnd(40, 'a'), tag }], images: [], charts: [] },
        clock.iso(),
      );
      return f;
    }

    async function promote(project: string, stage: string, ref: string, actor = 'user:default/ada') {
      const done = await waitFinal(engine, project, (await engine.promotions.promote(project, stage, ref, actor)).id);
      expect(done.phase).toBe('Succeeded');
      return done;
    }

    async function explain(project: string, stage: string, alias: string) {
      const { items } = await engine.stages.freight(project, stage);
      const item = items.find(i => i.freight.alias === alias)!;
      return { available: item.available, reason: item.reason, availableAt: item.availableAt };
    }

    beforeAll(async () => {
      knex = await databases.init(databaseId);
      engine = await StagecoachEngine.create({
        knex,
        logger: silentLogger,
        clock,
        workDir: path.join(os.tmpdir(), `stagecoach-policies-${process.pid}-${databaseId}`),
        worker: { pollIntervalMs: 20 },
      });
      engine.start();
    });
    afterAll(async () => {
      await engine.close();
      await knex.destroy();
    });

    it('a control-flow stage passes freight through as verified', async () => {
      await engine.projects.applyManifests('flow', manifests('flow'));
      const f = await freight('flow', 'v1.0.0');
      const done = await promote('flow', 'dev', f.alias);
      expect(done.steps).toEqual([]);
      const view = await engine.freight.get('flow', f.alias);
      expect(view.verifiedIn).toEqual(['dev']);
      expect(view.currentlyIn).toEqual(['dev']);
      expect(view.status?.verifiedIn.dev).toEqual({ verifiedAt: clock.iso(), longestSoak: '0s', longestSoakSeconds: 0 });
      expect(view.status?.currentlyIn.dev).toEqual({ since: clock.iso() });
    });

    it('soak: the reason says how long is left, and the freight becomes available by the clock alone', async () => {
      await engine.projects.applyManifests('soak', manifests('soak'));
      const f = await freight('soak', 'v1.0.0');
      expect(await explain('soak', 'staging', f.alias)).toEqual({ available: false, reason: 'not verified in dev or qa', availableAt: undefined });
      await expect(engine.promotions.promote('soak', 'staging', f.alias)).rejects.toThrow(
        new ConflictError(`freight ${f.alias} cannot be promoted to staging: not verified in dev or qa`),
      );

      const verifiedAt = clock.iso();
      await promote('soak', 'dev', f.alias);
      clock.advance(3);
      const soaking = 'verified in dev 3m ago; needs 10m of soak there: available in 7m; not verified in qa';
      expect(await explain('soak', 'staging', f.alias)).toEqual({ available: false, reason: soaking, availableAt: clock.iso(7) });
      // the 409 on promote carries the same reason, and the freight list for the stage agrees
      await expect(engine.promotions.promote('soak', 'staging', f.alias)).rejects.toThrow(`freight ${f.alias} cannot be promoted to staging: ${soaking}`);
      expect(await engine.freight.list('soak', { stage: 'staging' })).toEqual([]);
      expect((await engine.freight.get('soak', f.id)).status?.verifiedIn.dev).toEqual({
        verifiedAt,
        longestSoak: '3m0s',
        longestSoakSeconds: 180,
      });

      clock.advance(7);
      expect(await explain('soak', 'staging', f.alias)).toEqual({
        available: true,
        reason: 'verified in dev 10m ago, soaked there 10m (needs 10m)',
        availableAt: undefined,
      });
      expect((await engine.freight.list('soak', { stage: 'staging' })).map(x => x.id)).toEqual([f.id]);
      await promote('soak', 'staging', f.alias);
    });

    it('soak counts a past stay once freight has left the upstream stage', async () => {
      await engine.projects.applyManifests('left', manifests('left'));
      const old = await freight('left', 'v1.0.0');
      await promote('left', 'dev', old.alias);
      clock.advance(12);
      const newer = await freight('left', 'v1.1.0');
      await promote('left', 'dev', newer.alias); // old leaves dev after 12m there
      clock.advance(30);
      expect((await engine.freight.get('left', old.id)).currentlyIn).toEqual([]);
      expect(await explain('left', 'staging', old.alias)).toMatchObject({
        available: true,
        reason: 'verified in dev 42m ago, soaked there 12m (needs 10m)',
      });

      // freight that left before soaking long enough must go back to soak
      const brief = await freight('left', 'v1.2.0');
      await promote('left', 'dev', brief.alias);
      clock.advance(4);
      await promote('left', 'dev', newer.alias);
      clock.advance(60);
      expect(await explain('left', 'staging', brief.alias)).toEqual({
        available: false,
        reason:
          'verified in dev 1h4m ago but it stayed there only 4m before it left; needs 10m of soak there: ' +
          'promote it to dev again to soak longer; not verified in qa',
        availableAt: undefined,
      });
    });

    it('All needs every upstream stage; OneOf any one', async () => {
      await engine.projects.applyManifests('all', manifests('all'));
      const f = await freight('all', 'v1.0.0');
      expect((await explain('all', 'prod', f.alias)).reason).toBe('not verified in staging or qa (All)');
      await promote('all', 'qa', f.alias);
      // OneOf: qa is enough for staging once soaked there
      clock.advance(10);
      expect(await explain('all', 'staging', f.alias)).toMatchObject({ available: true, reason: 'verified in qa 10m ago, soaked there 10m (needs 10m)' });
      expect(await explain('all', 'prod', f.alias)).toMatchObject({ available: false, reason: 'not verified in staging (All)' });
      await promote('all', 'staging', f.alias);
      clock.advance(1);
      expect(await explain('all', 'prod', f.alias)).toMatchObject({
        available: true,
        reason: 'verified in staging 1m ago; verified in qa 11m ago (All)',
      });
    });

    it('approval bypasses verification and soak, and is recorded with who and when', async () => {
      await engine.projects.applyManifests('approve', manifests('approve'));
      const f = await freight('approve', 'v1.0.0');
      await expect(engine.freight.approve('approve', f.alias, undefined, 'user:default/ada')).rejects.toThrow(
        new InputError('name the stage to approve the freight for: {"stage": "<stage>"}'),
      );
      await expect(engine.freight.approve('approve', f.alias, 'nope', 'user:default/ada')).rejects.toThrow(NotFoundError);
      await expect(engine.freight.approve('approve', 'no-such-freight', 'prod')).rejects.toThrow(NotFoundError);

      const approvedAt = clock.iso();
      const view = await engine.freight.approve('approve', f.alias, 'prod', 'user:default/ada');
      expect(view.approvedFor).toEqual(['prod']);
      expect(view.status?.approvedFor).toEqual({ prod: { approvedAt, approvedBy: 'user:default/ada' } });
      clock.advance(2);
      // approving again keeps the first approval
      await engine.freight.approve('approve', f.alias, 'prod', 'user:default/bob');
      expect(await explain('approve', 'prod', f.alias)).toMatchObject({
        available: true,
        reason: 'approved for prod by user:default/ada 2m ago',
      });
      // still refused where it is not approved
      expect((await explain('approve', 'staging', f.alias)).available).toBe(false);
      await promote('approve', 'prod', f.alias);
      expect((await engine.freight.get('approve', f.id)).currentlyIn).toEqual(['prod']);
    });

    it('ProjectConfig: applied with the set, all or nothing; stage views say which policy applies', async () => {
      const policies = `    - stageSelector: {name: dev}
      autoPromotionEnabled: true
    - stageSelector: {matchLabels: {soak: long}}
      autoPromotionEnabled: true
`;
      await engine.projects.applyManifests('config', manifests('config', projectConfig('config', policies)));
      const views = await engine.stages.list('config');
      expect(views.map(s => [s.name, s.autoPromotionEnabled, s.autoPromotionPolicy])).toEqual([
        ['dev', true, 'spec.promotionPolicies[0] (stage "dev")'],
        ['qa', false, undefined],
        ['staging', true, 'spec.promotionPolicies[1] (labelled soak=long)'],
        ['prod', false, undefined],
      ]);
      expect(views[2]).toMatchObject({
        labels: { soak: 'long' },
        requestedFreight: [{ sources: { direct: false, stages: ['dev', 'qa'], requiredSoakTime: '10m' } }],
        autoPromotionHolds: [],
      });

      // a bad ProjectConfig leaves everything as it was
      const bad = manifests('config', projectConfig('config', '    - stageSelector: {name: "regex:["}\n')).replace('name: qa,', 'name: qa2,');
      await expect(engine.projects.applyManifests('config', bad)).rejects.toThrow(ManifestValidationError);
      expect((await engine.stages.list('config')).map(s => [s.name, s.autoPromotionEnabled])).toEqual([
        ['dev', true],
        ['qa', false],
        ['staging', true],
        ['prod', false],
      ]);

      // a set without a ProjectConfig removes it
      await engine.projects.applyManifests('config', manifests('config'));
      expect((await engine.stages.list('config')).every(s => s.autoPromotionEnabled === false)).toBe(true);
    });

    it('auto-promotion waits for soak, never holds, and a rollback by hand holds until released', async () => {
      const policies = `    - stageSelector: {name: "glob:*"}
      autoPromotionEnabled: true
`;
      await engine.projects.applyManifests('auto', manifests('auto', projectConfig('auto', policies)));
      const tick = () => engine.workers.autoPromotion.runProject('auto');
      /** Waits until promotions and the auto-promotion runs they start (engine hooks) are done. */
      const settle = async () => {
        for (let i = 0; i < 600; i++) {
          await engine.workers.autoPromotion.idle();
          await engine.workers.promotion.idle();
          await engine.workers.autoPromotion.idle(); // runs that finished promotions started
          const busy = (await engine.promotions.list('auto')).some(p => ['Pending', 'Running'].includes(p.phase));
          const verifying = (await engine.stages.list('auto')).some(s => ['Pending', 'Running'].includes(s.verification?.phase ?? ''));
          if (!busy && !verifying) return;
          await new Promise(r => setTimeout(r, 20));
        }
        throw new Error('promotions did not settle');
      };
      const where = async () =>
        Object.fromEntries((await engine.stages.list('auto')).map(s => [s.name, s.currentFreight?.alias]));

      const first = await freight('auto', 'v1.0.0');
      await tick();
      await settle();
      expect(await where()).toEqual({ dev: first.alias, qa: first.alias, staging: undefined, prod: undefined });
      expect((await engine.promotions.list('auto')).map(p => [p.stage, p.createdBy, p.phase]).sort()).toEqual([
        ['dev', AUTO_PROMOTION_ACTOR, 'Succeeded'],
        ['qa', AUTO_PROMOTION_ACTOR, 'Succeeded'],
      ]);
      // staging needs 10m of soak: nothing yet, and nothing twice
      expect(await tick()).toEqual(
        expect.arrayContaining([
          { stage: 'staging', origin: 'app', skipped: 'no freight is available to promote' },
          { stage: 'dev', origin: 'app', freightId: first.id, skipped: 'the candidate is in the stage already' },
        ]),
      );
      clock.advance(10);
      await tick();
      await settle(); // staging's success lets prod (All: staging and qa) follow at once
      expect(await where()).toEqual({ dev: first.alias, qa: first.alias, staging: first.alias, prod: first.alias });
      expect(await engine.promotions.list('auto')).toHaveLength(4);
      expect((await engine.stages.list('auto')).flatMap(s => s.autoPromotionHolds)).toEqual([]);

      clock.advance(1);
      const second = await freight('auto', 'v2.0.0');
      await tick();
      await settle();
      expect(await where()).toEqual({ dev: second.alias, qa: second.alias, staging: first.alias, prod: first.alias });

      // dev rolled back by hand: a hold, and auto-promotion leaves dev alone
      clock.advance(1);
      const rollback = await promote('auto', 'dev', first.alias, 'user:default/ada');
      await settle();
      expect((await engine.stages.get('auto', 'dev')).autoPromotionHolds).toEqual([
        {
          origin: { kind: 'Warehouse', name: 'app' },
          freight: { id: first.id, alias: first.alias },
          promotionId: rollback.id,
          createdBy: 'user:default/ada',
          createdAt: clock.iso(),
          reason: `older freight ${first.alias} was promoted by hand instead of the auto-promotion candidate ${second.alias} (a rollback)`,
        },
      ]);
      expect((await tick()).find(o => o.stage === 'dev')).toEqual({
        stage: 'dev',
        origin: 'app',
        skipped: 'an auto-promotion hold pauses this origin',
      });
      await settle();
      expect((await where()).dev).toBe(first.alias);

      // releasing it: auto-promotion resumes and brings the candidate back
      clock.advance(1);
      await expect(engine.stages.releaseAutoPromotionHold('auto', 'dev', 'other')).rejects.toThrow(InputError);
      const released = await engine.stages.releaseAutoPromotionHold('auto', 'dev', undefined, 'user:default/ada');
      expect(released.autoPromotionHolds).toEqual([]);
      await expect(engine.stages.releaseAutoPromotionHold('auto', 'dev')).rejects.toThrow(
        new NotFoundError('stage dev has no auto-promotion hold'),
      );
      await settle(); // the release started a run
      expect((await where()).dev).toBe(second.alias);
      const devPromotions = await engine.promotions.list('auto', { stage: 'dev' });
      expect(devPromotions.filter(p => p.freight.id === second.id).map(p => p.createdBy)).toEqual([
        AUTO_PROMOTION_ACTOR,
        AUTO_PROMOTION_ACTOR,
      ]);

      // promoting the candidate by hand holds nothing
      clock.advance(10);
      await promote('auto', 'staging', second.alias);
      await settle();
      expect((await engine.stages.list('auto')).flatMap(s => s.autoPromotionHolds)).toEqual([]);
    });

    it('no duplicate auto-promotion when two engines on one database tick at once', async () => {
      const other = await StagecoachEngine.create({ knex, logger: silentLogger, clock, skipMigrations: true });
      try {
        const policies = `    - stageSelector: {name: dev}
      autoPromotionEnabled: true
`;
        await engine.projects.applyManifests('race', manifests('race', projectConfig('race', policies)));
        for (let round = 0; round < 5; round++) {
          clock.advance(1);
          const f = await freight('race', `v${round + 1}.0.0`);
          // no worker runs these promotions here (both engines' workers are given none: dev is busy)
          await knex('stagecoach_stages').where({ project: 'race', name: 'dev' }).update({ current_promotion_id: 'busy' });
          const results = await Promise.all([
            engine.workers.autoPromotion.runProject('race'),
            other.workers.autoPromotion.runProject('race'),
            engine.workers.autoPromotion.runProject('race'),
            other.workers.autoPromotion.runProject('race'),
          ]);
          const made = results.flat().filter(o => o.promotionId);
          expect(made).toHaveLength(1);
          const ofF = (await engine.promotions.list('race', { stage: 'dev' })).filter(p => p.freight.id === f.id);
          expect(ofF.map(p => [p.phase, p.createdBy])).toEqual([['Pending', AUTO_PROMOTION_ACTOR]]);
        }
        expect(await engine.promotions.list('race')).toHaveLength(5);
      } finally {
        await other.close();
      }
    });
  });
});
