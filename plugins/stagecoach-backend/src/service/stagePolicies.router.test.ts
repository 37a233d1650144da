import { mockCredentials, mockServices, startTestBackend } from '@backstage/backend-test-utils';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import request from 'supertest';
import type { Server } from 'node:http';
import { stagecoachPlugin } from '../plugin';
import { createGitFixture, GitFixture } from '../__testUtils__/gitFixture';
import { PROGRESS_TEST_TIMEOUT_MS, untilProgress } from '../__testUtils__/until';

jest.setTimeout(PROGRESS_TEST_TIMEOUT_MS);

async function startBackend(git: GitFixture, permission: AuthorizeResult.ALLOW | AuthorizeResult.DENY) {
  const { server } = await startTestBackend({
    features: [
      stagecoachPlugin,
      catalogServiceMock.factory({ entities: [] }),
      mockServices.permissions.factory({ result: permission }),
      mockServices.rootConfig.factory({ data: { stagecoach: { workDir: `${git.root}/work-${permission}`, egress: { allowLoopback: true } } } }),
    ],
  });
  return server;
}

/**
 * dev takes freight from the warehouse; staging (control-flow, auto-promotion on) only what
 * is in dev (MatchUpstream), or what is approved for it.
 */
const pipeline = (git: GitFixture) => `apiVersion: kargo.akuity.io/v1alpha1
kind: Warehouse
metadata: {name: app, namespace: policies}
spec:
  subscriptions:
    - git: {repoURL: ${git.appURL}, commitSelectionStrategy: SemVer}
---
apiVersion: kargo.akuity.io/v1alpha1
kind: Stage
metadata: {name: dev, namespace: policies}
spec:
  requestedFreight:
    - origin: {kind: Warehouse, name: app}
      sources: {direct: true}
---
apiVersion: kargo.akuity.io/v1alpha1
kind: Stage
metadata: {name: staging, namespace: policies}
spec:
  requestedFreight:
    - origin: {kind: Warehouse, name: app}
      sources:
        stages: [dev]
        requiredSoakTime: 1h
        autoPromotionOptions: {selectionPolicy: MatchUpstream}
---
apiVersion: kargo.akuity.io/v1alpha1
kind: ProjectConfig
metadata: {name: policies, namespace: policies}
spec:
  promotionPolicies:
    - stageSelector: {name: staging}
      autoPromotionEnabled: true
`;

describe('REST API: approval, availability explained, auto-promotion holds (real backend plugin, real Git server)', () => {
  let git: GitFixture;
  let server: Server;
  const base = '/api/stagecoach/projects/policies';

  beforeAll(async () => {
    git = await createGitFixture();
    server = await startBackend(git, AuthorizeResult.ALLOW);
  });
  afterAll(async () => {
    await git.close();
  });

  const asUser = (r: request.Test) => r.set('Authorization', mockCredentials.user.header('user:default/guest'));
  const api = () => request(server);

  it('explains availability, approves, and holds auto-promotion after a promotion by hand until released', async () => {
    const applied = await asUser(api().put(`${base}/manifests`)).set('Content-Type', 'application/yaml').send(pipeline(git));
    expect(applied.status).toBe(200);
    expect((await asUser(api().post(`${base}/warehouses/app/refresh`))).status).toBe(202);
    const freight: any[] = await untilProgress(
      async () => (await asUser(api().get(`${base}/freight`))).body.items,
      items => items.length > 0,
      'freight from discovery',
    );
    const alias = freight[0].alias;

    const explained = await asUser(api().get(`${base}/stages/staging/freight`));
    expect(explained.status).toBe(200);
    expect(explained.body).toEqual({
      stage: 'staging',
      items: [expect.objectContaining({ freight: expect.objectContaining({ alias }), available: false, reason: 'not verified in dev' })],
    });
    const refused = await asUser(api().post(`${base}/stages/staging/promotions`)).send({ freight: alias });
    expect(refused.status).toBe(409);
    expect(refused.body.error.message).toBe(`freight ${alias} cannot be promoted to staging: not verified in dev`);

    // approval: bad input answers 400 or 404 and says what is wrong
    const noStage = await asUser(api().post(`${base}/freight/${alias}/approve`)).send({});
    expect(noStage.status).toBe(400);
    // the OpenAPI document requires it, so validation answers before the handler
    expect(noStage.body.error.message).toBe("request/body must have required property 'stage'");
    const unknownStage = await asUser(api().post(`${base}/freight/${alias}/approve`)).send({ stage: 'prod' });
    expect(unknownStage.status).toBe(404);
    expect(unknownStage.body.error.message).toBe('stage "prod" not found in project "policies"');
    const unknownFreight = await asUser(api().post(`${base}/freight/no-such-freight/approve`)).send({ stage: 'staging' });
    expect(unknownFreight.status).toBe(404);
    expect(unknownFreight.body.error.message).toBe('freight "no-such-freight" not found in project "policies"');

    const approved = await asUser(api().post(`${base}/freight/${alias}/approve`)).send({ stage: 'staging' });
    expect(approved.status).toBe(200);
    expect(approved.body).toMatchObject({
      alias,
      approvedFor: ['staging'],
      status: { approvedFor: { staging: { approvedBy: 'user:default/guest', approvedAt: expect.any(String) } } },
    });
    const nowAvailable = await asUser(api().get(`${base}/stages/staging/freight`));
    expect(nowAvailable.body.items[0]).toMatchObject({
      available: true,
      reason: expect.stringMatching(/^approved for staging by user:default\/guest (just now|\d+s ago)$/),
    });
    // staging follows dev (MatchUpstream) and dev is empty: auto-promotion has no candidate
    expect(nowAvailable.body.items[0].autoPromotionCandidate).toBeUndefined();

    // promoting by hand what auto-promotion would not promote holds staging
    const queued = await asUser(api().post(`${base}/stages/staging/promotions`)).send({ freight: alias });
    expect(queued.status).toBe(202);
    const stage = await asUser(api().get(`${base}/stages/staging`));
    expect(stage.body).toMatchObject({
      autoPromotionEnabled: true,
      autoPromotionPolicy: 'spec.promotionPolicies[0] (stage "staging")',
      requestedFreight: [
        {
          sources: {
            direct: false,
            stages: ['dev'],
            requiredSoakTime: '1h',
            autoPromotionOptions: { selectionPolicy: 'MatchUpstream' },
          },
        },
      ],
      autoPromotionHolds: [
        {
          origin: { kind: 'Warehouse', name: 'app' },
          freight: { id: freight[0].id, alias },
          promotionId: queued.body.id,
          createdBy: 'user:default/guest',
          createdAt: expect.any(String),
          reason: `freight ${alias} was promoted by hand while auto-promotion had no candidate`,
        },
      ],
    });

    const badOrigin = await asUser(api().delete(`${base}/stages/staging/auto-promotion-hold?origin=nope`));
    expect(badOrigin.status).toBe(400);
    expect(badOrigin.body.error.message).toBe('stage staging takes no freight from warehouse nope, so it has no hold for it');
    const released = await asUser(api().delete(`${base}/stages/staging/auto-promotion-hold?origin=app`));
    expect(released.status).toBe(200);
    expect(released.body).toMatchObject({ name: 'staging', autoPromotionHolds: [] });
    const again = await asUser(api().delete(`${base}/stages/staging/auto-promotion-hold`));
    expect(again.status).toBe(404);
    expect(again.body.error.message).toBe('stage staging has no auto-promotion hold');
    expect((await asUser(api().delete(`${base}/stages/nope/auto-promotion-hold`))).status).toBe(404);
  });

  it('answers 400 and 404 for a bad stage freight listing', async () => {
    expect((await asUser(api().get(`${base}/stages/staging/freight?limit=0`))).status).toBe(400);
    const missing = await asUser(api().get(`${base}/stages/nope/freight`));
    expect(missing.status).toBe(404);
    expect(missing.body.error.message).toBe('stage "nope" not found in project "policies"');
    const limited = await asUser(api().get(`${base}/stages/dev/freight?limit=1`));
    expect(limited.body.items).toHaveLength(1);
    expect(limited.body.items[0]).toMatchObject({ available: true, reason: 'dev takes freight directly from warehouse app' });
  });

  it('refuses approval and hold release without permission (403)', async () => {
    const denied = await startBackend(git, AuthorizeResult.DENY);
    const approve = await request(denied)
      .post(`${base}/freight/x/approve`)
      .set('Authorization', mockCredentials.user.header())
      .send({ stage: 'staging' });
    expect(approve.status).toBe(403);
    expect(approve.body.error.message).toBe(
      'stagecoach.freight.approve on stage staging of project policies is not allowed for you by the permission policy',
    );
    const release = await request(denied)
      .delete(`${base}/stages/staging/auto-promotion-hold`)
      .set('Authorization', mockCredentials.user.header());
    expect(release.status).toBe(403);
    expect(release.body.error.message).toBe(
      'stagecoach.stage.auto-promotion-hold.release on stage staging of project policies is not allowed for you by the permission policy',
    );
    // reading needs credentials only
    const read = await request(denied).get(`${base}/stages/staging/freight`).set('Authorization', mockCredentials.none.header());
    expect(read.status).toBe(401);
  });
});
