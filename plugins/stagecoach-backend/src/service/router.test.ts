import {
  mockCredentials,
  mockServices,
  startTestBackend,
} from '@backstage/backend-test-utils';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import request from 'supertest';
import { createHmac } from 'node:crypto';
import type { Server } from 'node:http';
import { PROGRESS_TEST_TIMEOUT_MS, promotionProgress, untilProgress } from '../__testUtils__/until';
import { stagecoachPlugin } from '../plugin';
import { createGitFixture, GitFixture, pipelineYaml } from '../__testUtils__/gitFixture';

jest.setTimeout(PROGRESS_TEST_TIMEOUT_MS);

const WEBHOOK_SECRET = 'webhook-secret-for-tests';

const entity = {
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'Component',
  metadata: { name: 'demo-app', namespace: 'default', annotations: { 'stagecoach.io/project': 'demo' } },
  spec: { type: 'service', owner: 'guests', lifecycle: 'experimental' },
};

async function startBackend(
  git: GitFixture,
  permission: AuthorizeResult.ALLOW | AuthorizeResult.DENY = AuthorizeResult.ALLOW,
) {
  const { server } = await startTestBackend({
    features: [
      stagecoachPlugin,
      catalogServiceMock.factory({ entities: [entity] }),
      mockServices.permissions.factory({ result: permission }),
      mockServices.rootConfig.factory({
        data: {
          stagecoach: {
            workDir: `${git.root}/work`,
            // the Git server is on loopback, which production's default egress policy denies
            egress: { allowLoopback: true },
            webhooks: { receivers: [{ name: 'github', type: 'github', secret: WEBHOOK_SECRET }] },
          },
        },
      }),
    ],
  });
  return server;
}

describe('REST API (real backend plugin, real Git server over HTTP on loopback)', () => {
  let git: GitFixture;
  let server: Server;

  beforeAll(async () => {
    git = await createGitFixture();
    server = await startBackend(git);
  });
  afterAll(async () => {
    await git.close();
  });

  const api = () => request(server);
  const asUser = (r: request.Test) => r.set('Authorization', mockCredentials.user.header('user:default/guest'));

  it('needs credentials', async () => {
    const res = await api().get('/api/stagecoach/projects').set('Authorization', mockCredentials.none.header());
    expect(res.status).toBe(401);
  });

  it('answers 400 listing every manifest problem, and 404 for unknown projects', async () => {
    const bad = pipelineYaml(git).replace('SemVer', 'Semver').replace('name: dev', 'name: Dev!');
    const res = await asUser(api().put('/api/stagecoach/projects/demo/manifests'))
      .set('Content-Type', 'application/yaml')
      .send(bad);
    expect(res.status).toBe(400);
    expect(res.body.error.name).toBe('InputError');
    expect(res.body.problems).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ document: 1, path: 'spec.subscriptions[0].git.commitSelectionStrategy' }),
        expect.objectContaining({ document: 2, path: 'metadata.name' }),
      ]),
    );
    expect((await asUser(api().get('/api/stagecoach/projects/demo'))).status).toBe(404);

    const empty = await asUser(api().put('/api/stagecoach/projects/demo/manifests')).send({});
    expect(empty.status).toBe(400);
    expect(empty.body.error.message).toMatch(/send the manifests as YAML/);

    const malformed = await asUser(api().post('/api/stagecoach/projects/demo/stages/dev/promotions'))
      .set('Content-Type', 'application/json')
      .send('{"freight": ');
    expect(malformed.status).toBe(400);
  });

  it('applies manifests, discovers, and promotes through the API', async () => {
    const applied = await asUser(api().put('/api/stagecoach/projects/demo/manifests'))
      .set('Content-Type', 'application/yaml')
      .send(pipelineYaml(git));
    expect(applied.status).toBe(200);
    expect(applied.body).toEqual({ project: 'demo', warehouses: ['app'], stages: ['dev', 'staging'] });

    expect((await asUser(api().post('/api/stagecoach/projects/demo/warehouses/app/refresh'))).status).toBe(202);
    const freight: any[] = await untilProgress(
      async () => (await asUser(api().get('/api/stagecoach/projects/demo/freight'))).body.items,
      items => items.length > 0,
      'freight from discovery',
    );
    expect(freight).toHaveLength(1);
    const alias = freight[0].alias;

    const refused = await asUser(api().post('/api/stagecoach/projects/demo/stages/staging/promotions')).send({ freight: alias });
    expect(refused.status).toBe(409);
    expect(refused.body.error.message).toMatch(/cannot be promoted to staging: not verified in dev$/);

    expect((await asUser(api().post('/api/stagecoach/projects/demo/stages/dev/promotions')).send({})).status).toBe(400);
    expect(
      (await asUser(api().post('/api/stagecoach/projects/demo/stages/dev/promotions')).send({ freight: 'nope' })).status,
    ).toBe(404);
    expect((await asUser(api().get('/api/stagecoach/projects/demo/freight?limit=0'))).status).toBe(400);

    const queued = await asUser(api().post('/api/stagecoach/projects/demo/stages/dev/promotions')).send({ freight: alias });
    expect(queued.status).toBe(202);
    expect(queued.body).toMatchObject({ stage: 'dev', phase: 'Pending', createdBy: 'user:default/guest' });

    const promotion = await untilProgress<any>(
      async () => (await asUser(api().get(`/api/stagecoach/projects/demo/promotions/${queued.body.id}`))).body,
      p => !['Pending', 'Running'].includes(p.phase),
      'the promotion to dev',
      { progress: promotionProgress },
    );
    expect(promotion.phase).toBe('Succeeded');
    expect(await git.show('gitops', 'main', 'env/dev/values.yaml')).toContain('tag: v1.2.0');

    const pipeline = await asUser(api().get('/api/stagecoach/entities/component/default/demo-app/pipeline'));
    expect(pipeline.status).toBe(200);
    expect(pipeline.body.stages.map((s: any) => [s.name, s.currentFreight?.alias, s.lastPromotion?.phase])).toEqual([
      ['dev', alias, 'Succeeded'],
      ['staging', undefined, undefined],
    ]);
    expect(pipeline.body.warehouses.map((w: any) => [w.name, w.status.lastError])).toEqual([['app', undefined]]);
    const candidates = await asUser(api().get('/api/stagecoach/projects/demo/freight?stage=staging'));
    expect(candidates.body.items.map((f: any) => f.alias)).toEqual([alias]);

    const renamed = await asUser(api().patch(`/api/stagecoach/projects/demo/freight/${alias}`)).send({ alias: 'first-release' });
    expect(renamed.status).toBe(200);
    expect(renamed.body).toMatchObject({ alias: 'first-release', currentlyIn: ['dev'] });
    const badAlias = await asUser(api().patch('/api/stagecoach/projects/demo/freight/first-release')).send({ alias: 'No Spaces' });
    expect(badAlias.status).toBe(400);
    expect(badAlias.body.error.message).toMatch(/alias must be/);
    await asUser(api().patch('/api/stagecoach/projects/demo/freight/first-release')).send({ alias: alias });

    const list = await asUser(api().get('/api/stagecoach/projects/demo/promotions?stage=dev'));
    expect(list.body.items).toHaveLength(1);

    // by origin: the newest freight of that warehouse the stage may take (here: the one in dev)
    const byOrigin = await asUser(api().post('/api/stagecoach/projects/demo/stages/staging/promotions')).send({
      origin: { kind: 'Warehouse', name: 'app' },
    });
    expect(byOrigin.status).toBe(202);
    expect(byOrigin.body.freight.alias).toBe(alias);
    const unknownOrigin = await asUser(api().post('/api/stagecoach/projects/demo/stages/staging/promotions')).send({
      origin: { kind: 'Warehouse', name: 'nope' },
    });
    expect(unknownOrigin.status).toBe(400);
    expect(unknownOrigin.body.error.message).toBe('stage "staging" takes freight from warehouse app, not from "nope"');
    const both = await asUser(api().post('/api/stagecoach/projects/demo/stages/staging/promotions')).send({
      freight: alias,
      origin: { name: 'app' },
    });
    expect(both.status).toBe(400);
    expect(both.body.error.message).toMatch(/name the freight to promote, one way/);
    const badSupersede = await asUser(api().post('/api/stagecoach/projects/demo/stages/staging/promotions')).send({
      freight: alias,
      supersede: 'yes',
    });
    expect(badSupersede.status).toBe(400);

    // a finished promotion cannot be aborted; an unknown one is not found
    const staged = await untilProgress<any>(
      async () => (await asUser(api().get(`/api/stagecoach/projects/demo/promotions/${byOrigin.body.id}`))).body,
      p => !['Pending', 'Running'].includes(p.phase),
      'the promotion by origin',
      { progress: promotionProgress },
    );
    expect(staged.phase).toBe('Succeeded');
    const late = await asUser(api().post(`/api/stagecoach/projects/demo/promotions/${staged.id}/abort`));
    expect(late.status).toBe(409);
    expect(late.body.error.message).toBe(`promotion "${staged.id}" already ended: it is Succeeded`);
    expect((await asUser(api().post('/api/stagecoach/projects/demo/promotions/nope/abort'))).status).toBe(404);
    expect(
      (await asUser(api().get('/api/stagecoach/entities/component/default/unknown/pipeline'))).status,
    ).toBe(404);
  });

  it('a signed GitHub push webhook turns a new tag into freight at once', async () => {
    await git.tagApp('v2.0.0');
    const body = JSON.stringify({
      ref: 'refs/tags/v2.0.0',
      repository: { full_name: 'acme/app', clone_url: git.appURL, html_url: git.appURL.replace(/\.git$/, '') },
    });
    const sign = (secret: string) => `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;

    const forged = await api()
      .post('/api/stagecoach/webhooks/github')
      .set('Content-Type', 'application/json')
      .set('X-GitHub-Event', 'push')
      .set('X-Hub-Signature-256', sign('not-the-secret'))
      .send(body);
    expect(forged.status).toBe(401);
    expect(JSON.stringify(forged.body)).not.toContain(WEBHOOK_SECRET);

    const res = await api()
      .post('/api/stagecoach/webhooks/github')
      .set('Content-Type', 'application/json')
      .set('X-GitHub-Event', 'push')
      .set('X-Hub-Signature-256', sign(WEBHOOK_SECRET))
      .send(body);
    expect(res.status).toBe(202);
    expect(res.body.warehouses).toEqual(['demo/app']);

    const newest = await untilProgress(
      async () => (await asUser(api().get('/api/stagecoach/projects/demo/freight?limit=1'))).body.items[0]?.commits[0]?.tag,
      tag => tag === 'v2.0.0',
      'freight of the pushed tag',
    );
    expect(newest).toBe('v2.0.0');
  });

  it('refuses changes the permission policy denies', async () => {
    const denied = await startBackend(git, AuthorizeResult.DENY);
    const res = await request(denied)
      .put('/api/stagecoach/projects/demo/manifests')
      .set('Authorization', mockCredentials.user.header())
      .set('Content-Type', 'application/yaml')
      .send(pipelineYaml(git));
    expect(res.status).toBe(403);
    const promote = await request(denied)
      .post('/api/stagecoach/projects/demo/stages/dev/promotions')
      .set('Authorization', mockCredentials.user.header())
      .send({ freight: 'x' });
    expect(promote.status).toBe(403);
    const assemble = await request(denied)
      .post('/api/stagecoach/projects/demo/freight')
      .set('Authorization', mockCredentials.user.header())
      .send({ origin: { kind: 'Warehouse', name: 'app' }, commits: [{ repoURL: git.appURL, tag: 'v1.2.0' }] });
    expect(assemble.status).toBe(403);
    expect(assemble.body.error.message).toMatch(/stagecoach\.freight\.create/);
    const abort = await request(denied)
      .post('/api/stagecoach/projects/demo/promotions/anything/abort')
      .set('Authorization', mockCredentials.user.header());
    // finding the promotion's stage needs the project's read permission, refused first here
    expect(abort.status).toBe(403);
    expect(abort.body.error.message).toBe(
      'stagecoach.project.read on project demo is not allowed for you by the permission policy',
    );
  });
});
