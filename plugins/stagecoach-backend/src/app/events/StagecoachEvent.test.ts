import { Knex } from 'knex';
import { StagecoachEngine, StagecoachEngineOptions } from '..';
import type {
  FreightCreatedEvent,
  PromotionFinishedEvent,
  StagecoachEvent,
  VerificationFinishedEvent,
} from '..';
import { createTestDatabases } from '../../__testUtils__/databases';
import {
  createGitFixture,
  GitFixture,
  pipelineYaml,
} from '../../__testUtils__/gitFixture';
import { Logger } from '../../util/types';
import {
  PROGRESS_TEST_TIMEOUT_MS,
  promotionProgress,
  untilProgress,
  verificationProgress,
} from '../../__testUtils__/until';
import { LOOPBACK_ALLOWED } from '../../__testUtils__/loopbackHttp';

jest.setTimeout(PROGRESS_TEST_TIMEOUT_MS);

/**
 * Waits for what the engine reports in the background, for as long as the project's
 * promotions and verifications keep moving (a busy machine is slow, not wrong).
 */
async function eventually<T>(
  what: string,
  probe: () => T | undefined,
  engine?: StagecoachEngine,
  project?: string,
): Promise<T> {
  const moved = async () =>
    engine && project
      ? [
          (await engine.promotions.list(project)).map(promotionProgress),
          (await engine.stages.list(project)).map(s =>
            verificationProgress(s.verification),
          ),
        ]
      : undefined;
  const { value } = await untilProgress(
    async () => ({ value: probe(), moved: await moved() }),
    r => r.value !== undefined,
    what,
    {
      progress: r => r.moved,
      everyMs: 50,
    },
  );
  return value!;
}

function recordingLogger(): Logger & { warnings: string[] } {
  const warnings: string[] = [];
  return {
    warnings,
    debug() {},
    info() {},
    error() {},
    warn: m => warnings.push(m),
  };
}

/** The engine's onEvent hook, without Backstage: what it reports, and that reporting never gets in the way. */
describe('StagecoachEngine onEvent', () => {
  const databases = createTestDatabases();

  describe.each(databases.eachSupportedId())('on %p', databaseId => {
    let knex: Knex;
    let git: GitFixture;
    const engines: StagecoachEngine[] = [];

    /** Discovers the project's warehouse (all engines share one database: runDue sees every project). */
    const discover = async (engine: StagecoachEngine, project: string) =>
      (await engine.workers.discovery.runDue()).find(
        r => r.project === project,
      )!;

    async function engineWith(
      project: string,
      onEvent: StagecoachEngineOptions['onEvent'],
      logger: Logger = recordingLogger(),
      worker: StagecoachEngineOptions['worker'] = {},
    ) {
      const engine = await StagecoachEngine.create({
        egress: LOOPBACK_ALLOWED,
        knex,
        logger,
        workDir: `${git.root}/work-${databaseId}-${project}`,
        worker: { pollIntervalMs: 50, ...worker },
        onEvent,
      });
      engines.push(engine);
      await engine.projects.applyManifests(project, pipelineYaml(git, project));
      return engine;
    }

    beforeAll(async () => {
      git = await createGitFixture();
      knex = await databases.init(databaseId);
    });
    // Engines share one database: one left running would claim the next test's promotions
    // and verifications, and report them to its own onEvent instead.
    afterEach(async () => {
      for (const engine of engines.splice(0)) await engine.close();
    });
    afterAll(async () => {
      await knex.destroy();
      await git.close();
    });

    it('reports freight from discovery and from the API, and promotions that finish', async () => {
      const events: StagecoachEvent[] = [];
      const engine = await engineWith('reported', async e => {
        events.push(e);
      });
      const created = () =>
        events.filter(
          (e): e is FreightCreatedEvent => e.type === 'freight.created',
        );

      const result = await discover(engine, 'reported');
      const discovered = await eventually(
        'freight.created',
        () => created()[0],
      );
      expect(discovered).toMatchObject({
        type: 'freight.created',
        project: 'reported',
        warehouse: 'app',
        source: 'discovery',
        freight: {
          id: result.createdFreightId,
          commits: [{ repoURL: git.appURL, tag: 'v1.2.0' }],
        },
      });
      expect(discovered.createdBy).toBeUndefined();

      // nothing new, nothing reported
      await engine.warehouses.refresh('reported', 'app');
      await engine.workers.discovery.runDue();

      const { freight } = await engine.freight.create(
        'reported',
        {
          origin: { kind: 'Warehouse', name: 'app' },
          commits: [{ repoURL: git.appURL, tag: 'v1.0.0' }],
        },
        'user:default/jane',
      );
      const manual = await eventually(
        'a second freight.created',
        () => created()[1],
      );
      expect(manual).toMatchObject({
        source: 'manual',
        createdBy: 'user:default/jane',
        freight: { id: freight.id },
      });
      // the same artifacts again: no new freight, no event
      await engine.freight.create('reported', {
        origin: { kind: 'Warehouse', name: 'app' },
        commits: [{ repoURL: git.appURL, tag: 'v1.0.0' }],
      });

      engine.start();
      const queued = await engine.promotions.promote(
        'reported',
        'dev',
        discovered.freight.alias,
        'user:default/jane',
      );
      const finished = await eventually(
        'promotion.finished',
        () =>
          events.find(
            (e): e is PromotionFinishedEvent => e.type === 'promotion.finished',
          ),
        engine,
        'reported',
      );
      expect(finished).toMatchObject({
        type: 'promotion.finished',
        project: 'reported',
        stage: 'dev',
        phase: 'Succeeded',
        promotion: {
          id: queued.id,
          phase: 'Succeeded',
          createdBy: 'user:default/jane',
          freight: { id: discovered.freight.id },
        },
      });
      // the stage has nothing to check: its verification succeeds once it is healthy, and says so
      const verified = await eventually(
        'verification.finished',
        () =>
          events.find(
            (e): e is VerificationFinishedEvent =>
              e.type === 'verification.finished',
          ),
        engine,
        'reported',
      );
      expect(verified).toMatchObject({
        project: 'reported',
        stage: 'dev',
        phase: 'Successful',
        verification: {
          promotionId: queued.id,
          freight: { id: discovered.freight.id },
          createdBy: 'user:default/jane',
          metrics: [],
        },
      });
      await Promise.all([
        engine.workers.promotion.stop(),
        engine.workers.verification.stop(),
      ]);
      expect(events.map(e => e.type)).toEqual([
        'freight.created',
        'freight.created',
        'promotion.finished',
        'verification.finished',
      ]);
    });

    it('reports a promotion whose backend died more often than maxAttempts allows as Errored', async () => {
      const events: StagecoachEvent[] = [];
      const engine = await engineWith(
        'abandoned',
        async e => {
          events.push(e);
        },
        recordingLogger(),
        { maxAttempts: 1 },
      );
      const result = await discover(engine, 'abandoned');
      const queued = await engine.promotions.promote(
        'abandoned',
        'dev',
        result.createdFreightId!,
      );
      // another backend claims it and dies
      await engine.stores.promotions.claimNext(
        'gone:1:dead',
        new Date().toISOString(),
        1,
      );
      await new Promise(r => setTimeout(r, 20));

      engine.start();
      const finished = await eventually(
        'promotion.finished',
        () =>
          events.find(
            (e): e is PromotionFinishedEvent => e.type === 'promotion.finished',
          ),
        engine,
        'abandoned',
      );
      await engine.workers.promotion.stop();
      expect(finished).toMatchObject({
        stage: 'dev',
        phase: 'Errored',
        promotion: { id: queued.id, phase: 'Errored' },
      });
      expect(finished.promotion.message).toMatch(/stopped answering/);
    });

    it('a host that fails to take an event fails neither discovery nor the promotion: it is logged', async () => {
      const logger = recordingLogger();
      const engine = await engineWith(
        'failing',
        e => {
          if (e.type === 'freight.created')
            throw new Error('events service is down');
          return Promise.reject(new Error('events service is still down'));
        },
        logger,
      );

      const result = await discover(engine, 'failing');
      expect(result.error).toBeUndefined();
      expect(result.createdFreightId).toMatch(/^[0-9a-f]{40}$/);
      expect(
        (await engine.warehouses.get('failing', 'app')).status.lastError,
      ).toBeUndefined();

      engine.start();
      const queued = await engine.promotions.promote(
        'failing',
        'dev',
        result.createdFreightId!,
      );
      await untilProgress(
        () => engine.promotions.get('failing', queued.id),
        p => !['Pending', 'Running'].includes(p.phase),
        'the promotion',
        { progress: promotionProgress },
      );
      await engine.workers.promotion.stop();
      expect((await engine.promotions.get('failing', queued.id)).phase).toBe(
        'Succeeded',
      );

      await eventually(
        'three warnings',
        () => (logger.warnings.length >= 3 ? logger.warnings : undefined),
        engine,
        'failing',
      );
      expect(logger.warnings).toEqual([
        expect.stringMatching(
          /could not report freight.created .*failing\/app\): events service is down/,
        ),
        expect.stringMatching(
          /could not report promotion.finished .*: events service is still down/,
        ),
        expect.stringMatching(
          /could not report verification.finished .*: events service is still down/,
        ),
      ]);
      expect(
        (await engine.freight.get('failing', result.createdFreightId!))
          .verifiedIn,
      ).toEqual(['dev']);
    });
  });
});
