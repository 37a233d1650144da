import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type { Server } from 'node:http';
import express from 'express';
import request from 'supertest';
import type { Knex } from 'knex';
import { mockCredentials, mockErrorHandler, mockServices } from '@backstage/backend-test-utils';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import { git as runGit } from '@stagecoach/git-server';
import { StagecoachEngine } from '../app';
import { createTestDatabases } from '../__testUtils__/databases';
import { createGitFixture, GitFixture } from '../__testUtils__/gitFixture';
import { LOOPBACK_ALLOWED } from '../__testUtils__/loopbackHttp';
import { PROGRESS_TEST_TIMEOUT_MS, promotionProgress, untilProgress } from '../__testUtils__/until';
import { silentLogger } from '../util/types';
import { ProjectOwners, StagecoachAccess } from './permissions';
import { createRouter } from './router';

jest.setTimeout(PROGRESS_TEST_TIMEOUT_MS);

const ADMIN = 'user:default/root';
const JANE = 'user:default/jane';

/** A ClusterPromotionTask that updates an environment's values in the GitOps repository and pushes. */
const clusterTask = ({ appURL, gitopsURL }: GitFixture, message = 'promote ${{ vars.env }}') => `apiVersion: kargo.akuity.io/v1alpha1
kind: ClusterPromotionTask
metadata:
  name: update-values
spec:
  vars:
    - name: env
  steps:
    - uses: git-clone
      config:
        repoURL: ${gitopsURL}
        checkout:
          - branch: main
            path: ./out
    - uses: yaml-update
      as: update
      config:
        path: ./out/env/\${{ vars.env }}/values.yaml
        updates:
          - key: image.tag
            value: \${{ commitFrom("${appURL}").tag }}
    - uses: git-commit
      config:
        path: ./out
        message: ${message}
    - uses: git-push
      config:
        path: ./out
`;

const clusterConfig = `apiVersion: kargo.akuity.io/v1alpha1
kind: ClusterConfig
metadata:
  name: cluster
spec:
  gitClient:
    name: Platform Bot
    email: platform-bot@example.com
`;

/** A project whose stage calls the ClusterPromotionTask `task` (missing: a 400). */
const project = (appURL: string, task = 'update-values') => `apiVersion: kargo.akuity.io/v1alpha1
kind: Warehouse
metadata: {name: app, namespace: shared}
spec:
  subscriptions:
    - git: {repoURL: ${appURL}, commitSelectionStrategy: SemVer}
---
apiVersion: kargo.akuity.io/v1alpha1
kind: Stage
metadata: {name: dev, namespace: shared}
spec:
  requestedFreight:
    - origin: {kind: Warehouse, name: app}
      sources: {direct: true}
  promotionTemplate:
    spec:
      steps:
        - task: {kind: ClusterPromotionTask, name: ${task}}
          as: deploy
          vars:
            - {name: env, value: dev}
`;

/**
 * The cluster scope through the REST router, with the permission decided per user as the
 * example policy does (admins may change the cluster scope; everyone may read it), the
 * auditor recording events, a real engine on each database and real Git over HTTP on loopback.
 */
describe('the cluster scope: PUT/GET /cluster/manifests (real engine, real git over HTTP on loopback)', () => {
  const databases = createTestDatabases();

  describe.each(databases.eachSupportedId())('on %p', databaseId => {
    let knex: Knex;
    let engine: StagecoachEngine;
    let git: GitFixture;
    let server: Server;
    const audit: Array<{ eventId: string; meta: unknown; outcome?: 'success' | 'fail'; error?: string }> = [];

    beforeAll(async () => {
      git = await createGitFixture();
      knex = await databases.init(databaseId);
      engine = await StagecoachEngine.create({
        knex,
        logger: silentLogger,
        egress: LOOPBACK_ALLOWED,
        workDir: `${git.root}/work-${databaseId}`,
        worker: { pollIntervalMs: 50 },
        // seals the shared Secrets
        projectCredentials: { encryptionKey: randomBytes(32).toString('base64') },
      });
      engine.start();
      const permissions = mockServices.permissions.mock({
        authorize: async (requests, { credentials }) => {
          const user = (credentials.principal as { userEntityRef?: string }).userEntityRef;
          return requests.map(r => ({
            result: user === ADMIN || r.permission.attributes.action === 'read' ? AuthorizeResult.ALLOW : AuthorizeResult.DENY,
          }));
        },
      });
      const router = await createRouter({
        engine,
        httpAuth: mockServices.httpAuth(),
        access: StagecoachAccess.register(
          permissions,
          mockServices.permissionsRegistry.mock(),
          new ProjectOwners(catalogServiceMock(), mockServices.auth()),
          { listProjects: async () => ['shared'], stageLabels: async () => ({}) },
        ),
        auditor: mockServices.auditor.mock({
          createEvent: async ({ eventId, meta }) => {
            const event: (typeof audit)[number] = { eventId, meta };
            audit.push(event);
            return {
              success: async () => {
                event.outcome = 'success';
              },
              fail: async ({ error }) => {
                event.outcome = 'fail';
                event.error = error.message;
              },
            };
          },
        }),
        catalog: catalogServiceMock(),
        logger: mockServices.logger.mock(),
      });
      server = express().use('/api/stagecoach', router).use(mockErrorHandler()).listen(0);
    });
    afterAll(async () => {
      await new Promise(resolve => server.close(resolve));
      await engine.close();
      await knex.destroy();
      await git.close();
    });

    const as = (user: string) => (r: request.Test) => r.set('Authorization', mockCredentials.user.header(user));
    const putCluster = (user: string, yaml: string, query = '') =>
      as(user)(request(server).put(`/api/stagecoach/cluster/manifests${query}`)).set('Content-Type', 'application/yaml').send(yaml);
    const putProject = (yaml: string) =>
      as(ADMIN)(request(server).put('/api/stagecoach/projects/shared/manifests')).set('Content-Type', 'application/yaml').send(yaml);

    it('refuses a change by a user the policy does not allow (403, audited as failed), and stores nothing', async () => {
      const refused = await putCluster(JANE, clusterTask(git));
      expect(refused.status).toBe(403);
      expect(refused.body.error.message).toBe('stagecoach.cluster.update on the cluster scope is not allowed for you by the permission policy');
      expect(audit.at(-1)).toMatchObject({ eventId: 'cluster-manifests-apply', outcome: 'fail' });
      const read = await as(JANE)(request(server).get('/api/stagecoach/cluster/manifests'));
      expect(read.status).toBe(200);
      expect(read.body).toEqual({ clusterPromotionTasks: [] });
    });

    it("refuses a project's document, a misnamed ClusterConfig and webhook receivers, naming each document", async () => {
      const set = [
        clusterTask(git),
        'apiVersion: kargo.akuity.io/v1alpha1\nkind: PromotionTask\nmetadata: {name: local}\nspec: {steps: [{uses: fail}]}\n',
        'apiVersion: kargo.akuity.io/v1alpha1\nkind: ClusterConfig\nmetadata: {name: main}\nspec:\n  webhookReceivers: [{name: gh, github: {secretRef: {name: s}}}]\n',
      ].join('---\n');
      const refused = await putCluster(ADMIN, set);
      expect(refused.status).toBe(400);
      expect(refused.body.problems).toEqual([
        {
          document: 2,
          resource: 'PromotionTask/local',
          path: 'kind',
          message: "PromotionTask is a project's document, not a cluster-wide one: apply it with PUT /api/stagecoach/projects/{project}/manifests",
        },
        { document: 3, resource: 'ClusterConfig/main', path: 'metadata.name', message: 'is "main" but the ClusterConfig is named "cluster", as in Kargo' },
        expect.objectContaining({ document: 3, path: 'spec.webhookReceivers', message: expect.stringContaining('stagecoach.webhooks.receivers') }),
      ]);
      expect((await engine.cluster.get()).clusterPromotionTasks).toEqual([]);
    });

    it('a ClusterPromotionTask in a project\'s set is a 400 that says where it is applied', async () => {
      const refused = await putProject(`${clusterTask(git)}---\n${project(git.appURL)}`);
      expect(refused.status).toBe(400);
      expect(refused.body.problems).toEqual([
        expect.objectContaining({ document: 1, resource: 'ClusterPromotionTask/update-values', message: expect.stringContaining('PUT /api/stagecoach/cluster/manifests') }),
        // and the stage's call finds no task in the cluster scope
        expect.objectContaining({ document: 3, path: 'spec.promotionTemplate.spec.steps[0].task.name' }),
      ]);
    });

    it('a stage calling a ClusterPromotionTask the cluster scope does not have is a 400 with its path and the tasks there are', async () => {
      const refused = await putProject(project(git.appURL, 'nope'));
      expect(refused.status).toBe(400);
      expect(refused.body.problems).toEqual([
        {
          document: 2,
          resource: 'Stage/dev',
          path: 'spec.promotionTemplate.spec.steps[0].task.name',
          message:
            'names ClusterPromotionTask "nope", which the cluster scope does not have (it has: none); an admin applies it with PUT /api/stagecoach/cluster/manifests',
        },
      ]);
    });

    it('an admin applies the cluster scope (audited); a stage calling its task promotes with its steps, committing as the ClusterConfig says', async () => {
      const applied = await putCluster(ADMIN, `${clusterTask(git)}---\n${clusterConfig}`, '?revision=c1');
      expect(applied.status).toBe(200);
      expect(applied.body).toEqual({
        clusterPromotionTasks: ['update-values'],
        clusterConfig: true,
        changes: { clusterPromotionTasks: { added: ['update-values'], changed: [], removed: [] }, clusterConfig: 'added' },
        staleStages: [],
      });
      expect(audit.at(-1)).toMatchObject({ eventId: 'cluster-manifests-apply', outcome: 'success' });

      expect((await putProject(project(git.appURL))).status).toBe(200);
      const [stage] = await engine.stages.list('shared');
      expect(stage.name).toBe('dev');
      await engine.workers.discovery.runDue();
      const [freight] = await engine.freight.list('shared');
      const queued = await engine.promotions.promote('shared', 'dev', freight.id, ADMIN);
      const done = await untilProgress(
        () => engine.promotions.get('shared', queued.id),
        p => !['Pending', 'Running'].includes(p.phase),
        'the promotion through the cluster task',
        { progress: promotionProgress, everyMs: 100 },
      );
      expect([done.phase, done.message]).toEqual(['Succeeded', undefined]);
      expect(done.steps!.map(s => s.alias)).toEqual(['deploy::step-1', 'deploy::update', 'deploy::step-3', 'deploy::step-4']);
      expect(await git.show('gitops', 'main', 'env/dev/values.yaml')).toContain('tag: v1.2.0');
      expect(await git.log('gitops', 'main')).toContain('promote dev');
      const author = await runGit(path.join(git.root, 'repos', 'gitops.git'), 'log', '-1', '--format=%an <%ae>', 'main');
      expect(author.trim()).toBe('Platform Bot <platform-bot@example.com>');
    });

    it("changing the task lists the stages that call it, which keep the steps they were applied with until their project is applied again", async () => {
      const changed = await putCluster(ADMIN, `${clusterTask(git, 'roll out to ${{ vars.env }}')}---\n${clusterConfig}`);
      expect(changed.status).toBe(200);
      expect(changed.body.changes).toEqual({ clusterPromotionTasks: { added: [], changed: ['update-values'], removed: [] } });
      expect(changed.body.staleStages).toEqual([{ project: 'shared', stage: 'dev', clusterPromotionTasks: ['update-values'] }]);
      const message = async () => {
        const spec = (await engine.stores.pipelines.getStage('shared', 'dev')).spec;
        return spec.promotionTemplate!.spec.steps.find(s => s.uses === 'git-commit')!.config!.message;
      };
      expect(await message()).toBe('promote ${{ vars.env }}');
      expect((await putProject(project(git.appURL))).status).toBe(200);
      expect(await message()).toBe('roll out to ${{ vars.env }}');
    });

    it('removes a task only with ?prune=true; the history says who applied what', async () => {
      const refused = await putCluster(ADMIN, clusterConfig);
      expect(refused.status).toBe(409);
      expect(refused.body.error.message).toMatch(/would remove ClusterPromotionTask\/update-values.*\?prune=true/);
      const pruned = await putCluster(ADMIN, clusterConfig, '?prune=true');
      expect(pruned.status).toBe(200);
      expect(pruned.body.staleStages).toEqual([{ project: 'shared', stage: 'dev', clusterPromotionTasks: ['update-values'] }]);

      const history = await as(JANE)(request(server).get('/api/stagecoach/cluster/manifests/history?limit=10'));
      expect(history.status).toBe(200);
      expect(history.body.items.map((a: { by: string; pruned: boolean; revision?: string }) => [a.by, a.pruned, a.revision])).toEqual([
        [ADMIN, true, undefined],
        [ADMIN, false, undefined],
        [ADMIN, false, 'c1'],
      ]);
      const scope = await as(JANE)(request(server).get('/api/stagecoach/cluster/manifests'));
      expect(scope.body).toEqual({
        clusterPromotionTasks: [],
        clusterConfig: { spec: { gitClient: { name: 'Platform Bot', email: 'platform-bot@example.com' } }, appliedAt: expect.any(String) },
        lastApplied: { by: ADMIN, at: expect.any(String) },
      });
    });

    it('?merge=true adds and updates what it sends and keeps the rest, a shared Secret too (audited and recorded as a merge)', async () => {
      const sharedSecret = (token: string) =>
        `apiVersion: v1\nkind: Secret\nmetadata:\n  name: shared-token\n  labels: {kargo.akuity.io/cred-type: generic}\nstringData: {token: ${token}}\n`;
      const sharedConfigMap = 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: shared-settings}\ndata: {region: eu-west-1}\n';
      // the cluster scope holds the ClusterConfig only (the test before pruned the task)
      const secrets = await putCluster(ADMIN, `${sharedSecret('s3cr3t-one')}---\n${sharedConfigMap}`, '?merge=true&revision=m1');
      expect(secrets.status).toBe(200);
      expect(secrets.body).toEqual({
        clusterPromotionTasks: [],
        clusterConfig: false,
        configMaps: ['shared-settings'],
        secrets: ['shared-token'],
        changes: {
          clusterPromotionTasks: { added: [], changed: [], removed: [] },
          configMaps: { added: ['shared-settings'], changed: [], removed: [] },
          secrets: { added: ['shared-token'], changed: [], removed: [] },
        },
        staleStages: [],
      });
      expect(JSON.stringify(secrets.body)).not.toContain('s3cr3t');
      expect(audit.at(-1)).toMatchObject({ eventId: 'cluster-manifests-apply', meta: { mode: 'merge' }, outcome: 'success' });

      // a task added, the ClusterConfig changed; the shared ConfigMap and Secret are left out and kept
      const changedConfig = clusterConfig.replace('Platform Bot', 'Release Bot');
      const merged = await putCluster(ADMIN, `${clusterTask(git)}---\n${changedConfig}`, '?merge=true');
      expect(merged.status).toBe(200);
      expect(merged.body.changes).toEqual({ clusterPromotionTasks: { added: ['update-values'], changed: [], removed: [] }, clusterConfig: 'changed' });
      const scope = await as(JANE)(request(server).get('/api/stagecoach/cluster/manifests'));
      expect(scope.body).toEqual({
        clusterPromotionTasks: [expect.objectContaining({ name: 'update-values' })],
        clusterConfig: { spec: { gitClient: { name: 'Release Bot', email: 'platform-bot@example.com' } }, appliedAt: expect.any(String) },
        configMaps: [{ name: 'shared-settings', data: { region: 'eu-west-1' }, appliedAt: expect.any(String) }],
        secrets: [{ name: 'shared-token', appliedAt: expect.any(String) }],
        lastApplied: { by: ADMIN, at: expect.any(String) },
      });
      // the Secret is kept sealed, as applied
      const [sealed] = await engine.stores.cluster.secrets();
      expect(sealed.name).toBe('shared-token');

      // sending the same Secret again changes nothing; a new value changes it
      const same = await putCluster(ADMIN, sharedSecret('s3cr3t-one'), '?merge=true');
      expect(same.body.changes).toEqual({ clusterPromotionTasks: { added: [], changed: [], removed: [] } });
      const rotated = await putCluster(ADMIN, sharedSecret('s3cr3t-two'), '?merge=true');
      expect(rotated.body.changes).toEqual({
        clusterPromotionTasks: { added: [], changed: [], removed: [] },
        secrets: { added: [], changed: ['shared-token'], removed: [] },
      });

      const history = await as(JANE)(request(server).get('/api/stagecoach/cluster/manifests/history?limit=4'));
      expect(history.body.items.map((a: { pruned: boolean; merged: boolean; revision?: string }) => [a.merged, a.pruned, a.revision])).toEqual([
        [true, false, undefined],
        [true, false, undefined],
        [true, false, undefined],
        [true, false, 'm1'],
      ]);
      expect(history.body.items[2].changes).toEqual(merged.body.changes);

      // a replace still names what it would remove
      const replace = await putCluster(ADMIN, `${clusterTask(git)}---\n${changedConfig}`);
      expect(replace.status).toBe(409);
      expect(replace.body.error.message).toMatch(/would remove ConfigMap\/shared-settings, Secret\/shared-token/);
      expect(audit.at(-1)).toMatchObject({ meta: { mode: 'replace' }, outcome: 'fail' });
    });

    it('refuses prune and merge together, a merge that is not true or false, and merge on a project (400, nothing applied)', async () => {
      const before = await engine.cluster.get();
      const both = await putCluster(ADMIN, clusterConfig, '?merge=true&prune=true');
      expect(both.status).toBe(400);
      expect(both.body.error.message).toBe(
        'prune and merge cannot be asked together: ?merge=true keeps what the set does not define, ?prune=true removes it',
      );
      expect(audit.at(-1)).toMatchObject({ eventId: 'cluster-manifests-apply', meta: { mode: 'merge' }, outcome: 'fail' });
      const wrong = await putCluster(ADMIN, clusterConfig, '?merge=yes');
      expect(wrong.status).toBe(400);
      expect(await engine.cluster.get()).toEqual(before);

      const onProject = await as(ADMIN)(request(server).put('/api/stagecoach/projects/shared/manifests?merge=true'))
        .set('Content-Type', 'application/yaml')
        .send(project(git.appURL));
      expect(onProject.status).toBe(400);
      // a project's apply replaces its set: the route has no merge (OpenAPI's check of the request)
      expect(onProject.body.error.message).toBe("Unknown query parameter 'merge'");
    });
  });
});
