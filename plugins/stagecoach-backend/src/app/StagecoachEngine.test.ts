import { ConflictError, InputError, NotFoundError } from '@backstage/errors';
import { Knex } from 'knex';
import { StagecoachEngine } from '.';
import { ManifestValidationError } from '../manifests/ManifestValidationError';
import { createTestDatabases } from '../__testUtils__/databases';
import { createGitFixture, GitFixture, pipelineYaml } from '../__testUtils__/gitFixture';
import { silentLogger } from '../util/types';
import { verificationOf } from '../__testUtils__/verification';
import { LOOPBACK_ALLOWED } from '../__testUtils__/loopbackHttp';

jest.setTimeout(120_000);

async function waitForFinalPhase(engine: StagecoachEngine, project: string, id: string) {
  for (let i = 0; i < 600; i++) {
    const p = await engine.promotions.get(project, id);
    if (!['Pending', 'Running'].includes(p.phase)) return p;
    await new Promise(r => setTimeout(r, 100));
  }
  throw new Error(`promotion ${id} did not finish`);
}

describe('StagecoachEngine against a real Git server over HTTP', () => {
  const databases = createTestDatabases();

  describe.each(databases.eachSupportedId())('on %p', databaseId => {
    let knex: Knex;
    let engine: StagecoachEngine;
    let git: GitFixture;

    beforeAll(async () => {
      git = await createGitFixture();
      knex = await databases.init(databaseId);
      engine = await StagecoachEngine.create({
        egress: LOOPBACK_ALLOWED,
        knex,
        logger: silentLogger,
        workDir: `${git.root}/work-${databaseId}`,
        worker: { pollIntervalMs: 50 },
      });
      engine.start();
    });
    afterAll(async () => {
      await engine.workers.promotion.stop();
      await knex.destroy();
      await git.close();
    });

    it('discovers the newest semver tag as freight, once', async () => {
      const applied = await engine.projects.applyManifests('demo', pipelineYaml(git));
      expect(applied).toEqual({ project: 'demo', warehouses: ['app'], stages: ['dev', 'staging'] });

      const [first] = await engine.workers.discovery.runDue();
      expect(first.error).toBeUndefined();
      expect(first.createdFreightId).toMatch(/^[0-9a-f]{40}$/);

      const freight = await engine.freight.list('demo');
      expect(freight).toHaveLength(1);
      expect(freight[0].commits).toEqual([
        expect.objectContaining({ repoURL: git.appURL, tag: 'v1.2.0', id: expect.stringMatching(/^[0-9a-f]{40}$/) }),
      ]);
      expect(freight[0].alias).toMatch(/^[a-z0-9]+(-[a-z0-9]+)+$/);
      expect(await engine.freight.get('demo', freight[0].alias)).toMatchObject({ id: freight[0].id });

      const warehouse = await engine.warehouses.get('demo', 'app');
      expect(warehouse.status.lastError).toBeUndefined();
      expect(warehouse.status.lastFreightId).toBe(freight[0].id);

      // nothing new: nothing changes, and not a single row is written
      await engine.warehouses.refresh('demo', 'app');
      const writes: string[] = [];
      const onQuery = (q: { method: string; sql: string }) => {
        if (['insert', 'update', 'del'].includes(q.method)) writes.push(q.sql);
      };
      knex.on('query', onQuery);
      const [again] = await engine.workers.discovery.runDue();
      expect(await engine.workers.discovery.runDue()).toEqual([]); // not due again until the interval passes
      knex.off('query', onQuery);
      expect(writes).toEqual([]);
      expect(again.unchanged).toBe(true);
      expect(again.createdFreightId).toBeUndefined();
      expect(await engine.freight.list('demo')).toEqual(freight);
      const status = (await engine.warehouses.get('demo', 'app')).status;
      expect(Date.parse(status.nextDiscoveryAt!) - Date.parse(status.lastDiscoveryAt!)).toBe(5 * 60_000);
    });

    it('refuses freight that has not succeeded upstream, with the reason', async () => {
      const [freight] = await engine.freight.list('demo');
      await expect(engine.promotions.promote('demo', 'staging', freight.alias)).rejects.toThrow(ConflictError);
      await expect(engine.promotions.promote('demo', 'staging', freight.alias)).rejects.toThrow(
        /^freight [a-z0-9-]+ cannot be promoted to staging: not verified in dev$/,
      );
      await expect(engine.promotions.promote('demo', 'dev', 'no-such-freight')).rejects.toThrow(NotFoundError);
      expect(await engine.freight.list('demo', { stage: 'staging' })).toEqual([]);
      expect(await engine.freight.list('demo', { stage: 'dev' })).toHaveLength(1);
    });

    it('promotes to dev and then staging, pushing a commit to the GitOps repository each time', async () => {
      const [freight] = await engine.freight.list('demo');
      const before = await git.commitCount('gitops', 'main');

      const queued = await engine.promotions.promote('demo', 'dev', freight.alias, 'user:default/guest');
      expect(queued).toMatchObject({ phase: 'Pending', stage: 'dev', freight: { id: freight.id, alias: freight.alias } });
      const dev = await waitForFinalPhase(engine, 'demo', queued.id);
      expect(dev.message).toBeUndefined();
      expect(dev.phase).toBe('Succeeded');
      expect(dev.createdBy).toBe('user:default/guest');
      expect(dev.steps.map(s => [s.alias, s.uses, s.status])).toEqual([
        ['step-1', 'git-clone', 'Succeeded'],
        ['update', 'yaml-update', 'Succeeded'],
        ['commit', 'git-commit', 'Succeeded'],
        ['step-4', 'git-push', 'Succeeded'],
      ]);

      const values = await git.show('gitops', 'main', 'env/dev/values.yaml');
      expect(values).toContain('tag: v1.2.0 # the running version');
      expect(values).toContain('# values for dev: managed by Stagecoach');
      expect(await git.commitCount('gitops', 'main')).toBe(before + 1);
      expect(await git.show('gitops', 'main', 'env/staging/values.yaml')).toContain('tag: v0.9.0');
      expect(await git.log('gitops', 'main')).toBe('Updated env/dev/values.yaml\n\n- image.tag: "v1.2.0"');

      const stages = await engine.stages.list('demo');
      expect(stages.map(s => s.name)).toEqual(['dev', 'staging']);
      expect(stages[0].currentFreight).toEqual({ id: freight.id, alias: freight.alias });
      expect(stages[0].lastPromotion?.phase).toBe('Succeeded');

      // the freight goes on once it is verified in dev: dev has no AnalysisTemplates, so once it is healthy
      const verified = await verificationOf(engine, 'demo', 'dev', dev.id);
      expect([verified.phase, verified.metrics]).toEqual(['Successful', []]);
      expect((await engine.freight.get('demo', freight.id)).verifiedIn).toEqual(['dev']);
      const staging = await waitForFinalPhase(engine, 'demo', (await engine.promotions.promote('demo', 'staging', freight.id)).id);
      expect(staging.phase).toBe('Succeeded');
      expect(await git.show('gitops', 'main', 'env/staging/values.yaml')).toContain('tag: v1.2.0');
      expect(await git.commitCount('gitops', 'main')).toBe(before + 2);
      expect((await engine.freight.get('demo', freight.id)).currentlyIn).toEqual(['dev', 'staging']);
    });

    it('promoting the same freight again succeeds without a new commit', async () => {
      const [freight] = await engine.freight.list('demo');
      const before = await git.commitCount('gitops', 'main');
      const again = await waitForFinalPhase(engine, 'demo', (await engine.promotions.promote('demo', 'dev', freight.alias)).id);
      expect(again.phase).toBe('Succeeded');
      expect(again.steps[2].message).toMatch(/nothing to commit/);
      expect(await git.commitCount('gitops', 'main')).toBe(before);
    });

    it('a new tag becomes new freight on the next discovery', async () => {
      await git.tagApp('v1.3.0');
      await engine.warehouses.refresh('demo', 'app');
      const [result] = await engine.workers.discovery.runDue();
      expect(result.createdFreightId).toBeDefined();
      const freight = await engine.freight.list('demo');
      expect(freight[0].commits[0].tag).toBe('v1.3.0');
      expect(freight).toHaveLength(2);
    });

    it('two stages pushing to one branch at once both land (rebase and retry)', async () => {
      const parallel = pipelineYaml(git, 'parallel').replace('sources: {stages: [dev]}', 'sources: {direct: true}');
      await engine.projects.applyManifests('parallel', parallel);
      await engine.workers.discovery.runDue();
      const [freight] = await engine.freight.list('parallel');
      const before = await git.commitCount('gitops', 'main');
      const queued = await Promise.all(['dev', 'staging'].map(s => engine.promotions.promote('parallel', s, freight.id)));
      const done = await Promise.all(queued.map(q => waitForFinalPhase(engine, 'parallel', q.id)));
      expect(done.map(d => [d.stage, d.phase])).toEqual([
        ['dev', 'Succeeded'],
        ['staging', 'Succeeded'],
      ]);
      // both commits are on main: the second push rebased onto the first
      expect(await git.commitCount('gitops', 'main')).toBe(before + 2);
      for (const env of ['dev', 'staging']) {
        expect(await git.show('gitops', 'main', `env/${env}/values.yaml`)).toContain(`tag: ${freight.commits[0].tag}`);
      }
    });

    it('freight can be renamed; aliases stay unique', async () => {
      const [newest, older] = await engine.freight.list('demo');
      expect((await engine.freight.setAlias('demo', newest.alias, 'release-candidate')).alias).toBe('release-candidate');
      expect((await engine.freight.get('demo', 'release-candidate')).id).toBe(newest.id);
      await expect(engine.freight.setAlias('demo', older.id, 'release-candidate')).rejects.toThrow(
        /alias "release-candidate" is already used by freight/,
      );
      await expect(engine.freight.setAlias('demo', older.id, 'Not An Alias')).rejects.toThrow(InputError);
    });

    it('garbage collection keeps the newest freight and all freight in use', async () => {
      for (const tag of ['v1.4.0', 'v1.5.0', 'v1.6.0']) {
        await git.tagApp(tag);
        await engine.warehouses.refresh('demo', 'app');
        await engine.workers.discovery.runDue();
      }
      const all = await engine.freight.list('demo', { origin: 'app' });
      const inUse = all.filter(f => f.currentlyIn.length > 0).map(f => f.id);
      expect(inUse.length).toBeGreaterThan(0);
      await engine.freight.collectGarbage(1);
      const left = (await engine.freight.list('demo', { origin: 'app' })).map(f => f.id);
      expect(left[0]).toBe(all[0].id); // the newest
      expect(left).toEqual(expect.arrayContaining(inUse));
      // freight that only a (finished) promotion refers to is kept too: dev and staging promoted v1.2.0
      expect(left.length).toBeLessThan(all.length);
      for (const gone of all.map(f => f.id).filter(f => !left.includes(f))) {
        expect((await engine.promotions.list('demo')).some(p => p.freight.id === gone)).toBe(false);
      }
    });

    it('an invalid set changes nothing', async () => {
      const bad = pipelineYaml(git).replace('commitSelectionStrategy: SemVer', 'commitSelectionStrategy: Newest');
      await expect(engine.projects.applyManifests('demo', `${bad}\n---\nkind: Nope\n`)).rejects.toThrow(ManifestValidationError);
      expect((await engine.stages.list('demo')).map(s => s.name)).toEqual(['dev', 'staging']);
      expect((await engine.warehouses.list('demo'))[0].subscriptions).toEqual([
        expect.objectContaining({ git: expect.objectContaining({ commitSelectionStrategy: 'SemVer' }) }),
      ]);
    });

    it('a step that fails names the step and the expression, and the stage keeps its freight', async () => {
      const broken = pipelineYaml(git, 'broken').replace(
        `\${{ commitFrom("${git.appURL}").tag }}`,
        '${{ imageFrom("ghcr.io/acme/app").tag }}',
      );
      await engine.projects.applyManifests('broken', broken);
      await engine.workers.discovery.runDue();
      const [freight] = await engine.freight.list('broken');
      const p = await waitForFinalPhase(engine, 'broken', (await engine.promotions.promote('broken', 'dev', freight.id)).id);
      expect(p.phase).toBe('Failed');
      expect(p.message).toMatch(/step "update" failed: in "imageFrom\("ghcr.io\/acme\/app"\).tag": freight .* has no image from ghcr.io\/acme\/app/);
      // the steps after it do not run: without an `if`, a step runs only while all went well
      expect(p.steps.map(s => s.status)).toEqual(['Succeeded', 'Failed', 'Skipped', 'Skipped']);
      expect((await engine.stages.get('broken', 'dev')).currentFreight).toBeUndefined();
    });
  });
});
