import { ConflictError } from '@backstage/errors';
import { Knex } from 'knex';
import { StagecoachEngine } from '../app';
import { createTestDatabases } from '../__testUtils__/databases';
import { createGitFixture, GitFixture, pipelineWithoutStage, pipelineYaml } from '../__testUtils__/gitFixture';
import { until } from '../__testUtils__/until';
import { silentLogger } from '../util/types';
import { ManifestValidationError } from './ManifestValidationError';
import { parseManifests as parseWith } from './parseManifests';
import { manifestExtensions } from '../app/manifestExtensions';
import type { JobSettings } from '../verification/jobSettings';
import { LOOPBACK_ALLOWED } from '../__testUtils__/loopbackHttp';

/** The manifests as the engine reads them, with these job settings (default: Kargo's). */
const parseManifests = (project: string, text: string, jobs?: JobSettings) =>
  parseWith(project, text, manifestExtensions({ jobs }));

jest.setTimeout(120_000);

/**
 * Issue 11, finding 8 (bad input) and finding 3 (any pod), through the engine on each
 * database. On the old code: an alias bomb threw a ReferenceError (a 500 with its stack), a
 * body of only a comment applied and deleted every warehouse and stage, an apply that left a
 * stage out removed it silently, nobody was recorded as having applied anything, and a job
 * metric's pod spec (privileged, hostPath, a project named kube-system) was accepted as is.
 */

/** The problems of a set that parseManifests refuses. */
function problemsOf(project: string, text: string) {
  try {
    parseManifests(project, text);
  } catch (e) {
    if (e instanceof ManifestValidationError) return e.problems;
    throw e;
  }
  throw new Error('the manifests were accepted');
}

describe('security: bad manifests are a 400 naming the limit', () => {
  it('an alias bomb (a billion laughs) stops at maxAliasCount', () => {
    let bomb = 'apiVersion: kargo.akuity.io/v1alpha1\nkind: Warehouse\nmetadata: {name: app}\nspec:\n  l0: &l0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n';
    for (let i = 1; i <= 9; i++) bomb += `  l${i}: &l${i} [${Array(9).fill(`*l${i - 1}`).join(',')}]\n`;
    expect(problemsOf('demo', bomb)).toEqual([
      {
        document: 1,
        path: '',
        message: 'its aliases (*name) expand beyond the limit: a document may resolve at most 100 aliases (maxAliasCount 100)',
      },
    ]);
  });

  it('nesting deeper than 64 levels, moderately or far past what the parser survives', () => {
    for (const depth of [65, 200, 100_000]) {
      const deep = `apiVersion: kargo.akuity.io/v1alpha1\nkind: Warehouse\nmetadata: {name: app}\nspec: ${'['.repeat(depth)}${']'.repeat(depth)}\n`;
      expect(problemsOf('demo', deep)).toEqual([
        { document: 1, path: '', message: 'is nested deeper than the limit of 64 levels of mappings and lists' },
      ]);
    }
  });

  it('more than 1 MiB of text', () => {
    const big = `# ${'x'.repeat(1024 * 1024)}\napiVersion: kargo.akuity.io/v1alpha1\n`;
    expect(problemsOf('demo', big)).toEqual([
      { document: 1, path: '', message: `the manifests are ${Buffer.byteLength(big)} bytes: at most 1048576 bytes (1 MiB) are read at once` },
    ]);
  });

  it('a set with no documents: only comments, blank lines or ---', () => {
    for (const text of ['# nothing here\n', '\n\n', '---\n---\n', '--- # a comment\n...\n']) {
      expect(problemsOf('demo', text)).toEqual([
        expect.objectContaining({ document: 1, message: expect.stringMatching(/^the manifests hold no documents/) }),
      ]);
    }
  });
});

describe('security: job metrics run only the pods the restricted Pod Security level allows, where app-config allows', () => {
  const template = (project: string, podSpec: string, metadata = '') => `apiVersion: argoproj.io/v1alpha1
kind: AnalysisTemplate
metadata:
  name: smoke
  namespace: ${project}
spec:
  metrics:
    - name: smoke
      provider:
        job:${metadata}
          spec:
            template:
              spec:
${podSpec}`;
  const container = `                containers:
                  - name: check
                    image: curlimages/curl:8.10.1
`;

  it('refuses a privileged container, host namespaces, a hostPath volume and more, naming each field', () => {
    const pod = `                hostNetwork: true
                serviceAccountName: argocd-application-controller
                volumes:
                  - name: root
                    hostPath: {path: /}
                containers:
                  - name: check
                    image: curlimages/curl:8.10.1
                    securityContext:
                      privileged: true
                      runAsUser: 0
                      capabilities: {add: [SYS_ADMIN]}
`;
    const problems = problemsOf('team-a', template('team-a', pod));
    const at = 'spec.metrics[0].provider.job.spec.template.spec';
    expect(problems.map(p => `${p.resource} ${p.path}: ${p.message}`)).toEqual([
      `AnalysisTemplate/smoke ${at}.hostNetwork: must not be true: a job pod may not share the node's namespaces (restricted Pod Security level)`,
      `AnalysisTemplate/smoke ${at}.serviceAccountName: is "argocd-application-controller", which app-config does not approve for this project's job pods (stagecoach.verification.jobs.serviceAccounts approves none); leave it out to run without a service account token`,
      `AnalysisTemplate/smoke ${at}.volumes[0].hostPath: is a volume type job pods may not use: only configMap, csi, downwardAPI, emptyDir, ephemeral, persistentVolumeClaim, projected, secret (restricted Pod Security level)`,
      `AnalysisTemplate/smoke ${at}.containers[0].securityContext.privileged: must not be true: a job container may not be privileged (restricted Pod Security level)`,
      `AnalysisTemplate/smoke ${at}.containers[0].securityContext.runAsUser: must be a user ID other than 0: a job pod may not run as root (restricted Pod Security level)`,
      `AnalysisTemplate/smoke ${at}.containers[0].securityContext.capabilities.add[0]: is "SYS_ADMIN": a job container may add only NET_BIND_SERVICE (restricted Pod Security level)`,
    ]);
  });

  it('refuses a project whose name makes its job namespace kube-system, unless app-config lists it', () => {
    const text = template('kube-system', container);
    expect(problemsOf('kube-system', text)).toEqual([
      expect.objectContaining({
        path: 'spec.metrics[0].provider.job',
        message: expect.stringMatching(/^job metrics of project "kube-system" would run in namespace "kube-system" .*a protected namespace/),
      }),
    ]);
    expect(() => parseManifests('kube-system', text, { namespaces: [{ project: 'kube-system', namespaces: ['kube-system'] }] })).not.toThrow();
  });

  it('accepts a plain job, and lets it pick only a namespace app-config allows the project', () => {
    expect(() => parseManifests('team-a', template('team-a', container))).not.toThrow();
    const settings = { namespaces: [{ project: 'team-a', namespaces: ['team-a-verify', 'team-a-load'] }] };
    const picking = (ns: string) => template('team-a', container, `\n          metadata: {namespace: ${ns}}`);
    expect(() => parseManifests('team-a', picking('team-a-load'), settings)).not.toThrow();
    expect(() => parseManifests('team-a', picking('team-b'), settings)).toThrow(
      /spec\.metrics\[0\]\.provider\.job\.metadata\.namespace: namespace "team-b" is not one that project "team-a"'s jobs may run in \(stagecoach\.verification\.jobs\): team-a-verify, team-a-load/,
    );
  });
});

describe('security: applying manifests removes nothing unless asked, and records who applied them', () => {
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

    it('refuses a body of only a comment and deletes nothing', async () => {
      await engine.projects.applyManifests('demo', pipelineYaml(git), { actor: 'user:default/jane', revision: 'abc1234' });
      await expect(engine.projects.applyManifests('demo', '# nothing to see\n', { actor: 'user:default/mallory' })).rejects.toThrow(
        ManifestValidationError,
      );
      expect((await engine.stages.list('demo')).map(s => s.name)).toEqual(['dev', 'staging']);
      expect((await engine.warehouses.list('demo')).map(w => w.name)).toEqual(['app']);
      expect((await engine.projects.get('demo')).lastApplied).toEqual({ by: 'user:default/jane', at: expect.any(String), revision: 'abc1234' });
    });

    it('refuses to remove a stage without prune, saying what and how; with prune removes it and keeps its promotions readable', async () => {
      await engine.workers.discovery.runDue();
      const [freight] = await engine.freight.list('demo');
      const promotion = await engine.promotions.promote('demo', 'dev', freight.alias, 'user:default/jane');
      const done = await until(() => engine.promotions.get('demo', promotion.id), p => !['Pending', 'Running'].includes(p.phase), 'the promotion to dev to end');
      expect(done.phase).toBe('Succeeded');

      // dev goes; staging takes its freight directly now
      const withoutDev = pipelineWithoutStage(pipelineYaml(git), 'dev');
      const refused = engine.projects.applyManifests('demo', withoutDev, { actor: 'user:default/jane' });
      await expect(refused).rejects.toThrow(ConflictError);
      await expect(refused).rejects.toThrow(
        'applying these manifests would remove stages dev from project "demo", which the manifests do not define; nothing was applied. ' +
          'To remove them, apply again with ?prune=true (their promotion history stays readable); to keep them, include their documents',
      );
      expect((await engine.stages.list('demo')).map(s => s.name)).toEqual(['dev', 'staging']);

      await engine.projects.applyManifests('demo', withoutDev, { actor: 'user:default/jane', prune: true, revision: 'def5678' });
      expect((await engine.stages.list('demo')).map(s => s.name)).toEqual(['staging']);
      expect(await engine.promotions.list('demo', { stage: 'dev' })).toEqual([expect.objectContaining({ id: promotion.id, phase: 'Succeeded' })]);
      expect(await engine.promotions.get('demo', promotion.id)).toMatchObject({ stage: 'dev', phase: 'Succeeded' });

      const history = await engine.projects.manifestHistory('demo');
      expect(history.map(h => ({ by: h.by, revision: h.revision, pruned: h.pruned, changes: h.changes }))).toEqual([
        {
          by: 'user:default/jane',
          revision: 'def5678',
          pruned: true,
          changes: { warehouses: { added: [], changed: [], removed: [] }, stages: { added: [], changed: ['staging'], removed: ['dev'] } },
        },
        {
          by: 'user:default/jane',
          revision: 'abc1234',
          pruned: false,
          changes: { warehouses: { added: ['app'], changed: [], removed: [] }, stages: { added: ['dev', 'staging'], changed: [], removed: [] } },
        },
      ]);
      expect(history[0].digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    });

    it('aborts what is queued for a stage it prunes', async () => {
      await engine.workers.promotion.stop(); // what is promoted now stays queued
      const [freight] = await engine.freight.list('demo');
      const pending = await engine.promotions.promote('demo', 'staging', freight.alias, 'user:default/jane');
      const warehouseOnly = pipelineYaml(git).split('---\n')[0];
      await engine.projects.applyManifests('demo', warehouseOnly, { actor: 'user:default/jane', prune: true });
      expect(await engine.stages.list('demo')).toEqual([]);
      expect(await engine.promotions.get('demo', pending.id)).toMatchObject({
        phase: 'Aborted',
        message: "aborted by user:default/jane (stage staging was removed from the project's manifests)",
      });
    });
  });
});
