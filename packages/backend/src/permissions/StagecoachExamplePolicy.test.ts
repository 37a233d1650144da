import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Server } from 'node:http';
import request from 'supertest';
import type { Request } from 'express';
import {
  BackendFeature,
  HttpAuthService,
  coreServices,
  createBackendModule,
  createServiceFactory,
} from '@backstage/backend-plugin-api';
import { AuthorizeResult, isResourcePermission, PolicyDecision } from '@backstage/plugin-permission-common';
import type { PermissionPolicy, PolicyQuery, PolicyQueryUser } from '@backstage/plugin-permission-node';
import { policyExtensionPoint } from '@backstage/plugin-permission-node/alpha';
import { mockCredentials, mockServices, startTestBackend } from '@backstage/backend-test-utils';
import { permissionsServiceFactory } from '@backstage/backend-defaults/permissions';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import stagecoachPlugin, {
  createStagecoachProjectConditionalDecision,
  stagecoachProjectConditions,
} from '@stagecoach/plugin-stagecoach-backend';
import permissionPlugin from '@backstage/plugin-permission-backend';
import stagecoachPolicyModule from './module';

jest.setTimeout(120_000);

/**
 * The example policy through the real permission backend: the Stagecoach plugin asks the
 * permission service, the permission backend runs the policy, and conditional decisions come
 * back to the plugin's apply-conditions endpoint, which loads the project's owners from the
 * catalog and the stage's labels from the pipeline.
 */

/**
 * Backstage's mock HTTP auth turns a token that a plugin made on behalf of a user into that
 * user with no actor; the permission backend and the plugin's apply-conditions endpoint then
 * take it for a direct user request and refuse it. Real auth keeps the calling plugin as the
 * actor, so this wraps the mock to do the same.
 */
const httpAuthKeepingActors = createServiceFactory({
  service: coreServices.httpAuth,
  deps: { plugin: coreServices.pluginMetadata },
  factory({ plugin }): HttpAuthService {
    const httpAuth = mockServices.httpAuth({ pluginId: plugin.getId() });
    const prefix = 'mock-service-token:';
    return {
      issueUserCookie: (res, options) => httpAuth.issueUserCookie(res, options),
      credentials: (async (req: Request, options?: { allow?: string[] }) => {
        const token = req.headers.authorization?.match(/^Bearer[ ]+(\S+)$/i)?.[1];
        const onBehalfOf = token?.startsWith(prefix) ? JSON.parse(token.slice(prefix.length)).obo : undefined;
        if (onBehalfOf && (!options?.allow || options.allow.includes('user'))) {
          return mockCredentials.user(onBehalfOf, { actor: { subject: 'plugin:caller' } });
        }
        return httpAuth.credentials(req, options as never);
      }) as HttpAuthService['credentials'],
    };
  },
});

const ADA = 'user:default/ada'; // member of team-a, which owns the payments service
const BOB = 'user:default/bob'; // member of team-b: owns nothing in project payments
const ROOT = 'user:default/root'; // member of platform-team: admin

const ownership: Record<string, string[]> = {
  [ADA]: [ADA, 'group:default/team-a'],
  [BOB]: [BOB, 'group:default/team-b'],
  [ROOT]: [ROOT, 'group:default/platform-team'],
};

const entity = (name: string, project: string, owner: string) => ({
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'Component',
  metadata: { name, namespace: 'default', annotations: { 'stagecoach.io/project': project } },
  spec: { type: 'service', owner, lifecycle: 'production' },
  relations: [{ type: 'ownedBy', targetRef: `group:default/${owner}` }],
});

const manifests = (project: string) => `
apiVersion: kargo.akuity.io/v1alpha1
kind: Warehouse
metadata: {name: app, namespace: ${project}}
spec:
  freightCreationPolicy: Manual
  subscriptions:
    - image: {repoURL: registry.example.com/${project}}
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
metadata: {name: prod, namespace: ${project}, labels: {env: prod}}
spec:
  requestedFreight:
    - origin: {kind: Warehouse, name: app}
      sources: {stages: [dev]}
`;

/** What the Stagecoach plugin told the auditor: each event, and how it ended. */
interface AuditRecord {
  eventId: string;
  meta: Record<string, unknown>;
  authorization?: string;
  outcome?: 'success' | 'fail';
  outcomeMeta?: Record<string, unknown>;
  error?: string;
}

async function startBackend(policy: BackendFeature, workDir: string, audit: AuditRecord[]) {
  const { server } = await startTestBackend({
    features: [
      stagecoachPlugin,
      permissionPlugin,
      policy,
      permissionsServiceFactory,
      httpAuthKeepingActors,
      mockServices.auditor.mock({
        createEvent: async ({ eventId, meta, request: req }) => {
          const record: AuditRecord = {
            eventId,
            meta: (meta ?? {}) as Record<string, unknown>,
            authorization: req?.headers.authorization,
          };
          audit.push(record);
          return {
            success: async options => {
              Object.assign(record, { outcome: 'success', outcomeMeta: options?.meta });
            },
            fail: async options => {
              Object.assign(record, { outcome: 'fail', error: options.error.message });
            },
          };
        },
      }).factory,
      mockServices.userInfo.mock({
        getUserInfo: async credentials => {
          const ref = (credentials.principal as { userEntityRef: string }).userEntityRef;
          return { userEntityRef: ref, ownershipEntityRefs: ownership[ref] ?? [ref] };
        },
      }).factory,
      catalogServiceMock.factory({
        entities: [entity('payments-api', 'payments', 'team-a'), entity('search-api', 'search', 'team-b')],
      }),
      mockServices.rootConfig.factory({
        data: { permission: { enabled: true }, stagecoach: { workDir } },
      }),
    ],
  });
  // a CI token (a service principal) sets the pipelines up: the policy is for users
  for (const project of ['payments', 'search']) {
    await request(server)
      .put(`/api/stagecoach/projects/${project}/manifests`)
      .set('Authorization', mockCredentials.service.header())
      .set('Content-Type', 'application/yaml')
      .send(manifests(project))
      .expect(200);
  }
  return server;
}

const as = (user: string) => ({ Authorization: mockCredentials.user.header(user) });

describe('the example permission policy (real permission backend, loopback HTTP)', () => {
  let server: Server;
  let workDir: string;
  const audit: AuditRecord[] = [];

  beforeAll(async () => {
    workDir = await fs.mkdtemp(path.join(os.tmpdir(), 'stagecoach-policy-'));
    server = await startBackend(stagecoachPolicyModule, workDir, audit);
  });
  afterAll(async () => {
    await fs.rm(workDir, { recursive: true, force: true });
  });

  const promote = (user: string, project: string, stage: string) =>
    request(server)
      .post(`/api/stagecoach/projects/${project}/stages/${stage}/promotions`)
      .set(as(user))
      .send({ freight: 'no-such-freight' });

  it('lets everyone read every project', async () => {
    const res = await request(server).get('/api/stagecoach/projects').set(as(BOB)).expect(200);
    expect(res.body.items.map((p: { name: string }) => p.name).sort()).toEqual(['payments', 'search']);
    await request(server).get('/api/stagecoach/projects/payments/stages').set(as(BOB)).expect(200);
  });

  it("lets the owners of a project's entity promote into its stages, except prod", async () => {
    // allowed: the request gets past the policy and fails on the freight it names
    const dev = await promote(ADA, 'payments', 'dev');
    expect(dev.status).toBe(404);
    expect(dev.body.error.message).toMatch(/no-such-freight/);

    const prod = await promote(ADA, 'payments', 'prod');
    expect(prod.status).toBe(403);
    expect(prod.body.error.message).toBe(
      'stagecoach.promotion.create on stage prod of project payments is not allowed for you by the permission policy',
    );
  });

  it('refuses changes to a project whose entities the caller does not own', async () => {
    expect((await promote(BOB, 'payments', 'dev')).status).toBe(403);
    const apply = await request(server)
      .put('/api/stagecoach/projects/payments/manifests')
      .set(as(BOB))
      .set('Content-Type', 'application/yaml')
      .send(manifests('payments'));
    expect(apply.status).toBe(403);
    expect(apply.body.error.message).toMatch(/stagecoach.manifests.apply on project payments/);
    // ... while the owner of its own project may change it
    const own = await request(server)
      .post('/api/stagecoach/projects/search/stages/dev/verification/abort')
      .set(as(BOB));
    expect(own.status).not.toBe(403);
  });

  it('lets admins do everything, prod included', async () => {
    expect((await promote(ROOT, 'payments', 'prod')).status).toBe(404);
    expect((await promote(ROOT, 'search', 'prod')).status).toBe(404);
  });

  it('lets admins alone change the cluster scope, which everyone reads; each attempt is audited', async () => {
    const task = `apiVersion: kargo.akuity.io/v1alpha1
kind: ClusterPromotionTask
metadata: {name: shared}
spec:
  steps:
    - uses: compose-output
      config: {ok: true}
`;
    const put = (user: string) =>
      request(server).put('/api/stagecoach/cluster/manifests').set(as(user)).set('Content-Type', 'application/yaml').send(task);
    audit.length = 0;
    const refused = await put(ADA).expect(403);
    expect(refused.body.error.message).toBe('stagecoach.cluster.update on the cluster scope is not allowed for you by the permission policy');
    const applied = await put(ROOT).expect(200);
    expect(applied.body.clusterPromotionTasks).toEqual(['shared']);
    expect(audit.map(a => [a.eventId, a.outcome])).toEqual([
      ['cluster-manifests-apply', 'fail'],
      ['cluster-manifests-apply', 'success'],
    ]);
    const read = await request(server).get('/api/stagecoach/cluster/manifests').set(as(BOB)).expect(200);
    expect(read.body.clusterPromotionTasks.map((t: { name: string }) => t.name)).toEqual(['shared']);
  });

  it('records every change as an auditor event with its request, project, stage and outcome', async () => {
    audit.length = 0;
    await request(server)
      .put('/api/stagecoach/projects/payments/manifests')
      .set(as(ADA))
      .set('Content-Type', 'application/yaml')
      .send(manifests('payments'))
      .expect(200);
    await promote(ADA, 'payments', 'prod').expect(403);
    await promote(ADA, 'payments', 'dev').expect(404);

    expect(audit).toEqual([
      {
        eventId: 'manifests-apply',
        meta: { project: 'payments' },
        authorization: as(ADA).Authorization,
        outcome: 'success',
        outcomeMeta: { warehouses: ['app'], stages: ['dev', 'prod'] },
      },
      {
        eventId: 'promotion-create',
        meta: { project: 'payments', stage: 'prod', freight: 'no-such-freight' },
        authorization: as(ADA).Authorization,
        outcome: 'fail',
        error: 'stagecoach.promotion.create on stage prod of project payments is not allowed for you by the permission policy',
      },
      expect.objectContaining({
        eventId: 'promotion-create',
        meta: { project: 'payments', stage: 'dev', freight: 'no-such-freight' },
        outcome: 'fail',
        error: expect.stringMatching(/no-such-freight/),
      }),
    ]);
  });
});

/** A stricter policy than the example: only a project's owners may even read it. */
class OwnersReadPolicy implements PermissionPolicy {
  async handle(req: PolicyQuery, user?: PolicyQueryUser): Promise<PolicyDecision> {
    if (isResourcePermission(req.permission, 'stagecoach-project')) {
      return createStagecoachProjectConditionalDecision(
        req.permission,
        stagecoachProjectConditions.isProjectOwner({ claims: user?.info.ownershipEntityRefs ?? [] }),
      );
    }
    return { result: AuthorizeResult.DENY };
  }
}

describe('a policy that lets only owners read (real permission backend, loopback HTTP)', () => {
  let server: Server;
  let workDir: string;

  beforeAll(async () => {
    workDir = await fs.mkdtemp(path.join(os.tmpdir(), 'stagecoach-policy-'));
    const ownersRead = createBackendModule({
      pluginId: 'permission',
      moduleId: 'owners-read',
      register(reg) {
        reg.registerInit({
          deps: { policy: policyExtensionPoint },
          async init({ policy }) {
            policy.setPolicy(new OwnersReadPolicy());
          },
        });
      },
    });
    server = await startBackend(ownersRead, workDir, []);
  });
  afterAll(async () => {
    await fs.rm(workDir, { recursive: true, force: true });
  });

  it('filters the project list to the projects the caller may read, and refuses the others', async () => {
    const ada = await request(server).get('/api/stagecoach/projects').set(as(ADA)).expect(200);
    expect(ada.body.items.map((p: { name: string }) => p.name)).toEqual(['payments']);
    const bob = await request(server).get('/api/stagecoach/projects').set(as(BOB)).expect(200);
    expect(bob.body.items.map((p: { name: string }) => p.name)).toEqual(['search']);

    const refused = await request(server).get('/api/stagecoach/projects/payments/freight').set(as(BOB));
    expect(refused.status).toBe(403);
    expect(refused.body.error.message).toBe(
      'stagecoach.project.read on project payments is not allowed for you by the permission policy',
    );
    await request(server).get('/api/stagecoach/projects/payments/freight').set(as(ADA)).expect(200);
  });
});
