import { createHmac, randomBytes } from 'node:crypto';
import express from 'express';
import request from 'supertest';
import type { Knex } from 'knex';
import { StagecoachEngine } from '../../app';
import { createTestDatabases } from '../../__testUtils__/databases';
import { EgressPolicy } from '../../integrations/http/egress';
import { silentLogger } from '../../util/types';
import { createWebhookRouter } from './router';
import * as samples from './__fixtures__/payloads';

jest.setTimeout(60_000);

/*
 * A project's own webhook receivers (Kargo's ProjectConfig webhookReceivers), over HTTP as
 * the plugin mounts them: signed GitHub and GitLab deliveries to /webhooks/<hash> refresh
 * that project's matching warehouses and no other project's.
 */

const GH_SECRET = 'gh-project-secret-0a1b2c3d';
const GL_SECRET = 'gl-project-secret-4e5f6a7b';
const GITHUB_REPO = 'https://github.com/acme/api.git';
const GITLAB_REPO = 'https://gitlab.example.com/acme/platform/api.git';

const warehouses = `apiVersion: kargo.akuity.io/v1alpha1
kind: Warehouse
metadata:
  name: api-gh
spec:
  subscriptions:
    - git: {repoURL: ${GITHUB_REPO}, branch: main}
---
apiVersion: kargo.akuity.io/v1alpha1
kind: Warehouse
metadata:
  name: api-gl
spec:
  subscriptions:
    - git: {repoURL: ${GITLAB_REPO}, branch: main}
`;

const withReceivers = (ghSecret = GH_SECRET) => `${warehouses}---
apiVersion: kargo.akuity.io/v1alpha1
kind: ProjectConfig
metadata:
  name: shop
spec:
  webhookReceivers:
    - name: from-github
      github:
        secretRef: {name: gh-hook}
    - name: from-gitlab
      gitlab:
        secretRef: {name: gl-hook}
---
apiVersion: v1
kind: Secret
metadata:
  name: gh-hook
stringData:
  secret: ${ghSecret}
---
apiVersion: v1
kind: Secret
metadata:
  name: gl-hook
  labels:
    kargo.akuity.io/cred-type: generic
stringData:
  secret: ${GL_SECRET}
`;

const hmac = (secret: string, body: string) => createHmac('sha256', secret).update(body).digest('hex');

describe("a project's webhook receivers (HTTP)", () => {
  const databases = createTestDatabases();

  describe.each(databases.eachSupportedId())('on %p', databaseId => {
    let knex: Knex;
    let engine: StagecoachEngine;
    let app: express.Express;
    const events: { project?: string; warehouses: string[] }[] = [];

    beforeAll(async () => {
      knex = await databases.init(databaseId);
      engine = await StagecoachEngine.create({
        knex,
        logger: silentLogger,
        // the refreshed warehouses' discovery goes nowhere: these hosts are made up
        egress: new EgressPolicy({ deny: [{ host: '*.com' }], resolve: async () => [{ address: '192.0.2.1', family: 4 }] }),
        projectCredentials: { encryptionKey: randomBytes(32).toString('base64') },
        backendBaseUrl: 'https://backstage.example.com/',
      });
      app = express();
      app.use(
        '/api/stagecoach/webhooks',
        createWebhookRouter({
          receivers: [],
          logger: silentLogger as never,
          // as plugin.ts wires it
          onEvent: async (event, context) => {
            const refreshed = await engine.warehouses.refreshChanged(event, context.project);
            events.push({ project: context.project, warehouses: refreshed });
            return { warehouses: refreshed };
          },
          projectReceiver: hash => engine.projects.webhookReceiver(hash),
        }),
      );
    });
    afterAll(async () => {
      await engine.close();
      await knex.destroy();
    });
    beforeEach(() => {
      events.length = 0;
    });

    const pathOf = async (project: string, name: string) =>
      (await engine.projects.get(project)).webhookReceivers!.find(r => r.name === name)!.path;

    it('lists each receiver with its path and URL, and keeps its Secret out of credentials and warnings', async () => {
      const applied = await engine.projects.applyManifests('shop', withReceivers());
      await engine.projects.applyManifests('other', warehouses);
      expect(applied.warnings ?? []).toEqual([]);
      // the unlabelled Secret is the receiver's only; the labelled generic one is a credential too
      expect(applied.credentials).toEqual(['gl-hook']);
      const { webhookReceivers } = await engine.projects.get('shop');
      expect(webhookReceivers).toEqual([
        { name: 'from-github', path: expect.stringMatching(/^\/api\/stagecoach\/webhooks\/[0-9a-f]{64}$/), url: expect.any(String) },
        { name: 'from-gitlab', path: expect.stringMatching(/^\/api\/stagecoach\/webhooks\/[0-9a-f]{64}$/), url: expect.any(String) },
      ]);
      expect(webhookReceivers![0].url).toBe(`https://backstage.example.com${webhookReceivers![0].path}`);
      expect(JSON.stringify(await engine.projects.get('shop'))).not.toContain(GH_SECRET);
      expect((await engine.projects.get('other')).webhookReceivers).toBeUndefined();
    });

    it("refreshes on a signed GitHub push only that project's warehouses of the repository", async () => {
      const text = JSON.stringify(samples.githubPush);
      const res = await request(app)
        .post(await pathOf('shop', 'from-github'))
        .set({ 'Content-Type': 'application/json', 'X-GitHub-Event': 'push', 'X-Hub-Signature-256': `sha256=${hmac(GH_SECRET, text)}` })
        .send(text);
      expect(res.status).toBe(202);
      expect(res.body.warehouses).toEqual(['shop/api-gh']);
      expect(events).toEqual([{ project: 'shop', warehouses: ['shop/api-gh'] }]);
    });

    it('refuses a wrong signature or token with 401, refreshing nothing', async () => {
      const text = JSON.stringify(samples.githubPush);
      const gh = await request(app)
        .post(await pathOf('shop', 'from-github'))
        .set({ 'Content-Type': 'application/json', 'X-GitHub-Event': 'push', 'X-Hub-Signature-256': `sha256=${hmac('not-the-secret', text)}` })
        .send(text);
      expect(gh.status).toBe(401);
      const gl = await request(app)
        .post(await pathOf('shop', 'from-gitlab'))
        .set({ 'Content-Type': 'application/json', 'X-Gitlab-Event': 'Push Hook', 'X-Gitlab-Token': GH_SECRET })
        .send(samples.gitlabPush);
      expect(gl.status).toBe(401);
      expect(events).toEqual([]);
      expect(gh.text + gl.text).not.toContain(GH_SECRET);
    });

    it('takes a GitLab push with its token', async () => {
      const res = await request(app)
        .post(await pathOf('shop', 'from-gitlab'))
        .set({ 'Content-Type': 'application/json', 'X-Gitlab-Event': 'Push Hook', 'X-Gitlab-Token': GL_SECRET })
        .send(samples.gitlabPush);
      expect(res.status).toBe(202);
      expect(res.body.warehouses).toEqual(['shop/api-gl']);
    });

    it('answers 404 at a path no receiver has, and moves the URL when the secret changes', async () => {
      const old = await pathOf('shop', 'from-github');
      expect((await request(app).post(`/api/stagecoach/webhooks/${'0'.repeat(64)}`).send('{}')).status).toBe(404);
      await engine.projects.applyManifests('shop', withReceivers('a-new-github-secret'));
      const moved = await pathOf('shop', 'from-github');
      expect(moved).not.toBe(old);
      expect((await request(app).post(old).send('{}')).status).toBe(404);
      const text = JSON.stringify(samples.githubPush);
      const res = await request(app)
        .post(moved)
        .set({ 'Content-Type': 'application/json', 'X-GitHub-Event': 'push', 'X-Hub-Signature-256': `sha256=${hmac('a-new-github-secret', text)}` })
        .send(text);
      expect(res.status).toBe(202);
    });

    it('refuses receivers whose Secret is missing or has no key secret, and senders it does not take', async () => {
      const bad = `${warehouses}---
apiVersion: kargo.akuity.io/v1alpha1
kind: ProjectConfig
metadata:
  name: bad
spec:
  webhookReceivers:
    - name: a
      github:
        secretRef: {name: missing}
    - name: b
      gitlab:
        secretRef: {name: no-key}
    - name: c
      artifactory:
        secretRef: {name: no-key}
---
apiVersion: v1
kind: Secret
metadata:
  name: no-key
stringData:
  token: x
`;
      await expect(engine.projects.applyManifests('bad', bad)).rejects.toMatchObject({
        problems: [
          expect.objectContaining({ path: 'spec.webhookReceivers[2].artifactory', message: expect.stringContaining('Artifactory receivers are not supported') }),
        ],
      });
      await expect(engine.projects.applyManifests('bad', bad.replace(/ {4}- name: c\n.*\n.*\n/, ''))).rejects.toMatchObject({
        problems: [
          expect.objectContaining({ path: 'spec.webhookReceivers[0].github.secretRef.name', message: 'names Secret "missing", which is not in this set of manifests' }),
          expect.objectContaining({ path: 'spec.webhookReceivers[1].gitlab.secretRef.name', message: expect.stringContaining('has no key "secret"') }),
        ],
      });
    });
  });
});
