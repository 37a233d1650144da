import { randomBytes } from 'node:crypto';
import { Knex } from 'knex';
import { StagecoachEngine } from '../app';
import { ManifestValidationError } from '../manifests/ManifestValidationError';
import { PruneRequiredError } from '../store/PipelineStore';
import { createTestDatabases } from '../__testUtils__/databases';
import { createGitFixture, GitFixture, pipelineYaml } from '../__testUtils__/gitFixture';
import { LOOPBACK_ALLOWED } from '../__testUtils__/loopbackHttp';
import { PROGRESS_TEST_TIMEOUT_MS, untilProgress } from '../__testUtils__/until';
import { silentLogger } from '../util/types';

jest.setTimeout(PROGRESS_TEST_TIMEOUT_MS);

const USER = 'deploy-bot';
const TOKEN = 'glpat-0nly-f0r-this-test';

/** Kargo's quickstart header: the Project and its git credential, here for the whole test server (a pattern). */
const header = (project: string, serverURL: string) => `apiVersion: kargo.akuity.io/v1alpha1
kind: Project
metadata:
  name: ${project}
---
apiVersion: v1
kind: Namespace
metadata:
  name: ${project}
---
apiVersion: v1
kind: Secret
type: Opaque
metadata:
  name: test-server
  namespace: ${project}
  labels:
    kargo.akuity.io/cred-type: git
stringData:
  repoURL: ^${serverURL.replace(/\./g, '\\.')}/
  repoURLIsRegex: "true"
  username: ${USER}
  password: ${TOKEN}
---
`;

describe('project credentials against a Git server that requires basic auth (real git over HTTP on loopback)', () => {
  const databases = createTestDatabases();

  describe.each(databases.eachSupportedId())('on %p', databaseId => {
    let knex: Knex;
    let engine: StagecoachEngine;
    let git: GitFixture;

    beforeAll(async () => {
      git = await createGitFixture({ credentials: { username: USER, password: TOKEN } });
      knex = await databases.init(databaseId);
      engine = await StagecoachEngine.create({
        egress: LOOPBACK_ALLOWED,
        knex,
        logger: silentLogger,
        workDir: `${git.root}/work-${databaseId}`,
        worker: { pollIntervalMs: 50 },
        projectCredentials: { encryptionKey: randomBytes(32).toString('base64') },
      });
      engine.start();
    });
    afterAll(async () => {
      await engine.close();
      await knex.destroy();
      await git.close();
    });

    it('without an encryption key, refuses a set with credentials, naming the config key and not the values', async () => {
      const keyless = await StagecoachEngine.create({ knex, logger: silentLogger, skipMigrations: true, workDir: `${git.root}/keyless` });
      const refused = await keyless.projects.applyManifests('keyless', header('keyless', git.server.url) + pipelineYaml(git, 'keyless')).catch(e => e);
      await keyless.close();
      expect(refused).toBeInstanceOf(ManifestValidationError);
      expect((refused as ManifestValidationError).problems).toEqual([
        expect.objectContaining({ document: 3, resource: 'Secret/test-server', message: expect.stringContaining('stagecoach.credentials.encryptionKey') }),
      ]);
      expect(JSON.stringify(refused) + String(refused)).not.toContain(TOKEN);
      expect(await knex('stagecoach_warehouses').where({ project: 'keyless' })).toEqual([]);
    });

    it('applies the set, skipping the Namespace with a warning, and stores the credential sealed', async () => {
      const applied = await engine.projects.applyManifests('demo', header('demo', git.server.url) + pipelineYaml(git));
      expect(applied).toEqual({
        project: 'demo',
        warehouses: ['app'],
        stages: ['dev', 'staging'],
        credentials: ['test-server'],
        warnings: [{ document: 2, resource: 'Namespace/demo', message: expect.stringMatching(/skipped/) }],
      });

      const rows = await knex('stagecoach_project_credentials').select();
      expect(rows).toHaveLength(1);
      const raw = JSON.stringify(rows);
      for (const form of [TOKEN, Buffer.from(TOKEN).toString('base64'), Buffer.from(`${USER}:${TOKEN}`).toString('base64'), USER]) {
        expect(raw).not.toContain(form);
      }
      expect(rows[0]).toMatchObject({ project: 'demo', name: 'test-server', type: 'git', repo_url: expect.stringContaining('127') });

      expect(await engine.projects.credentials('demo')).toEqual([
        { name: 'test-server', type: 'git', repoURL: expect.stringMatching(/^\^http/), repoURLIsRegex: true, updatedAt: expect.any(String) },
      ]);
      const history = await engine.projects.manifestHistory('demo');
      expect(history[0].changes.credentials).toEqual({ added: ['test-server'], changed: [], removed: [] });
      expect(JSON.stringify(history)).not.toContain(TOKEN);
    });

    it("discovers through the project's credential; another project without one is refused by the server", async () => {
      await engine.projects.applyManifests('other', pipelineYaml(git, 'other'));
      const results = await engine.workers.discovery.runDue();
      const of = (project: string) => results.find(r => r.project === project)!;
      expect(of('demo').error).toBeUndefined();
      expect(of('demo').createdFreightId).toBeDefined();
      // where credentials come from: app-config's integrations or the project's Secrets
      expect(of('other').error).toContain(
        "requires credentials and none are configured for it: add an integration for its host to app-config.yaml, or a git credential Secret for it to the project's manifests (see docs/credentials.md)",
      );
      expect(of('other').error).not.toContain(TOKEN);
      expect(await engine.freight.list('other')).toEqual([]);
      const [freight] = await engine.freight.list('demo');
      expect(freight.commits).toEqual([expect.objectContaining({ tag: 'v1.2.0' })]);
    });

    it('names the Secret whose credentials the server refused, never its values', async () => {
      const stale = header('stale', git.server.url).replace(TOKEN, 'revoked-token-value');
      await engine.projects.applyManifests('stale', stale + pipelineYaml(git, 'stale'));
      const results = await engine.workers.discovery.runDue();
      const error = results.find(r => r.project === 'stale')?.error;
      expect(error).toContain('refused the credential Secret/test-server of project "stale": check its username, its password or token');
      expect(error).not.toContain('revoked-token-value');
    });

    it('promotes with it: git-clone and git-push to the GitOps repository', async () => {
      const [freight] = await engine.freight.list('demo');
      const queued = await engine.promotions.promote('demo', 'dev', freight.id, 'user:default/ada');
      const done = await untilProgress(
        () => engine.promotions.get('demo', queued.id),
        p => !['Pending', 'Running'].includes(p.phase),
        'the promotion to dev',
        { progress: p => [p.phase, p.steps?.map(s => s.status)], everyMs: 100 },
      );
      expect([done.phase, done.message]).toEqual(['Succeeded', undefined]);
      expect(await git.show('gitops', 'main', 'env/dev/values.yaml')).toContain('tag: v1.2.0');
      expect(JSON.stringify(done)).not.toContain(TOKEN);
    });

    it('removes the credential only with prune, as stages are', async () => {
      const without = pipelineYaml(git);
      const refused = await engine.projects.applyManifests('demo', without).catch(e => e);
      expect(refused).toBeInstanceOf(PruneRequiredError);
      expect(String(refused)).toContain('credentials (Secrets) test-server');
      expect(await engine.projects.credentials('demo')).toHaveLength(1);

      await engine.projects.applyManifests('demo', without, { prune: true });
      expect(await engine.projects.credentials('demo')).toEqual([]);
      expect(await knex('stagecoach_project_credentials').where({ project: 'demo' })).toEqual([]);
    });
  });
});
