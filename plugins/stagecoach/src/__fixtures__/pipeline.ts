import type { Entity } from '@backstage/catalog-model';
import type {
  ArgoCdApp,
  ArgoCdAppHealth,
  EntityPipeline,
  Freight,
  ProjectCredentialList,
  Promotion,
  Stage,
  StageFreightList,
  Verification,
  Warehouse,
} from '@stagecoach/plugin-stagecoach-common';
import type { FreightPageQuery, StagecoachApi } from '../api';

export const entity: Entity = {
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'Component',
  metadata: {
    name: 'shop',
    namespace: 'default',
    annotations: { 'stagecoach.io/project': 'shop' },
  },
  spec: { type: 'service', owner: 'team-a', lifecycle: 'production' },
};

const origin = { kind: 'Warehouse' as const, name: 'shop' };

export const braveFox: Freight = {
  id: 'f-brave',
  alias: 'brave-fox',
  project: 'shop',
  origin,
  commits: [
    {
      repoURL: 'https://github.com/acme/shop.git',
      id: '9f8e7d6c5b4a39281706f5e4d3c2b1a098765432',
      tag: 'v1.2.0',
    },
  ],
  images: [{ repoURL: 'ghcr.io/acme/shop', tag: '1.2.0', digest: 'sha256:aa' }],
  charts: [],
  createdAt: '2026-03-02T10:00:00Z',
  currentlyIn: ['dev'],
  verifiedIn: ['dev'],
};

export const calmOwl: Freight = {
  id: 'f-calm',
  alias: 'calm-owl',
  project: 'shop',
  origin,
  commits: [
    {
      repoURL: 'https://github.com/acme/shop.git',
      id: '1234567890abcdef1234567890abcdef12345678',
    },
  ],
  images: [],
  charts: [{ repoURL: 'oci://ghcr.io/acme/charts/shop', version: '0.9.1' }],
  createdAt: '2026-03-01T10:00:00Z',
  currentlyIn: ['staging', 'prod'],
  verifiedIn: ['dev', 'staging', 'prod'],
};

function promotion(
  p: Partial<Promotion> & Pick<Promotion, 'id' | 'stage' | 'phase'>,
): Promotion {
  return {
    project: 'shop',
    freight: { id: braveFox.id, alias: braveFox.alias },
    createdAt: '2026-03-02T10:05:00Z',
    steps: [],
    ...p,
  };
}

export const devPromotion = promotion({
  id: 'p-dev',
  stage: 'dev',
  phase: 'Succeeded',
  startedAt: '2026-03-02T10:05:01Z',
  finishedAt: '2026-03-02T10:06:13Z',
  createdBy: 'user:default/ada',
  steps: [
    {
      index: 0,
      uses: 'git-clone',
      alias: 'clone',
      status: 'Succeeded',
      startedAt: '2026-03-02T10:05:01Z',
      finishedAt: '2026-03-02T10:05:04Z',
    },
    {
      index: 1,
      uses: 'argocd-update',
      alias: 'sync',
      status: 'Succeeded',
      startedAt: '2026-03-02T10:05:04Z',
      finishedAt: '2026-03-02T10:06:13Z',
    },
  ],
});

export const stagingPromotion = promotion({
  id: 'p-staging',
  stage: 'staging',
  phase: 'Running',
  startedAt: '2026-03-02T10:07:00Z',
  steps: [
    {
      index: 0,
      uses: 'git-clone',
      alias: 'clone',
      status: 'Succeeded',
      startedAt: '2026-03-02T10:07:00Z',
      finishedAt: '2026-03-02T10:07:02Z',
    },
    {
      index: 1,
      uses: 'kustomize-set-image',
      alias: 'set-image',
      status: 'Running',
      startedAt: '2026-03-02T10:07:02Z',
    },
    { index: 2, uses: 'git-push', alias: 'push', status: 'Pending' },
  ],
});

export const prodPromotion = promotion({
  id: 'p-prod',
  stage: 'prod',
  phase: 'Failed',
  freight: { id: calmOwl.id, alias: calmOwl.alias },
  createdAt: '2026-03-01T12:00:00Z',
  startedAt: '2026-03-01T12:00:01Z',
  finishedAt: '2026-03-01T12:00:09Z',
  message: 'step "push" failed: remote rejected the push',
  steps: [
    {
      index: 0,
      uses: 'git-push',
      alias: 'push',
      status: 'Failed',
      message: 'remote rejected the push',
      startedAt: '2026-03-01T12:00:01Z',
      finishedAt: '2026-03-01T12:00:09Z',
    },
  ],
});

const argoUrl = 'https://argocd.example.com/applications/argocd';

/** The entity's Argo CD apps as Stagecoach reads them, each driven by one stage. */
export const devApp: ArgoCdApp = {
  name: 'shop-dev',
  namespace: 'argocd',
  cluster: 'in-cluster',
  sync: 'Synced',
  health: 'Healthy',
  revisions: ['3f1c2a9'],
  authorizedStages: ['shop:dev'],
  url: `${argoUrl}/shop-dev`,
};

export const stagingApp: ArgoCdApp = {
  name: 'shop-staging',
  namespace: 'argocd',
  cluster: 'in-cluster',
  sync: 'OutOfSync',
  health: 'Progressing',
  healthMessage:
    'Waiting for rollout to finish: 1 of 2 updated replicas are available...',
  authorizedStages: ['shop:staging'],
  url: `${argoUrl}/shop-staging`,
};

export const prodApp: ArgoCdApp = {
  name: 'shop-prod',
  namespace: 'argocd',
  cluster: 'prod-eu',
  sync: 'Synced',
  health: 'Degraded',
  healthMessage: 'Deployment "shop" exceeded its progress deadline',
  revisions: ['8e2d1b4'],
  authorizedStages: ['shop:prod'],
  url: `${argoUrl}/shop-prod`,
};

/** An app of the entity that no stage drives (no authorized-stage annotation). */
export const docsApp: ArgoCdApp = {
  name: 'shop-docs',
  namespace: 'argocd',
  cluster: 'in-cluster',
  sync: 'Synced',
  health: 'Healthy',
};

function checked(
  app: ArgoCdApp,
  verdict: Pick<ArgoCdAppHealth, 'status' | 'reason'>,
): ArgoCdAppHealth {
  return { ...app, ...verdict };
}

export const prodDegradedReason =
  'app shop-prod is Degraded: Deployment "shop" exceeded its progress deadline';

export const devVerification: Verification = {
  id: 'v-dev-2',
  project: 'shop',
  stage: 'dev',
  freight: { id: braveFox.id, alias: braveFox.alias },
  promotionId: devPromotion.id,
  phase: 'Successful',
  createdBy: 'user:default/ada',
  createdAt: '2026-03-02T10:06:13Z',
  startedAt: '2026-03-02T10:06:45Z',
  finishedAt: '2026-03-02T10:08:47Z',
  analysisTemplates: ['error-rate', 'smoke'],
  args: { service: 'shop-dev' },
  metrics: [
    {
      name: 'error-rate',
      provider: 'prometheus',
      phase: 'Successful',
      count: 3,
      successful: 3,
      failed: 0,
      inconclusive: 0,
      error: 0,
      consecutiveError: 0,
      measurements: ['10:06:45', '10:07:45', '10:08:45'].map(t => ({
        phase: 'Successful' as const,
        value: '[0.0021]',
        startedAt: `2026-03-02T${t}Z`,
        finishedAt: `2026-03-02T${t}.120Z`,
        metadata: {
          query:
            'sum(rate(http_requests_total{app="shop-dev",code=~"5.."}[5m]))',
        },
      })),
    },
    {
      name: 'smoke',
      provider: 'job',
      phase: 'Successful',
      count: 1,
      successful: 1,
      failed: 0,
      inconclusive: 0,
      error: 0,
      consecutiveError: 0,
      measurements: [
        {
          phase: 'Successful',
          startedAt: '2026-03-02T10:06:45Z',
          finishedAt: '2026-03-02T10:07:30Z',
          metadata: {
            job: 'shop-smoke-v-dev-2',
            logs: 'GET /healthz 200\nGET /api/cart 200\n2 checks passed',
          },
        },
      ],
    },
  ],
};

/** An earlier verification of dev, which the history offers. */
export const devEarlierVerification: Verification = {
  ...devVerification,
  id: 'v-dev-1',
  freight: { id: calmOwl.id, alias: calmOwl.alias },
  promotionId: 'p-dev-old',
  createdAt: '2026-03-01T10:30:00Z',
  startedAt: '2026-03-01T10:30:30Z',
  finishedAt: '2026-03-01T10:31:30Z',
  phase: 'Failed',
  message: 'metric "error-rate" failed: 1 failed measurement (failureLimit 0)',
  metrics: [
    {
      ...devVerification.metrics[0],
      phase: 'Failed',
      count: 1,
      successful: 0,
      failed: 1,
      message: 'result [0.18] did not meet the condition result[0] < 0.01',
      measurements: [
        {
          phase: 'Failed',
          value: '[0.18]',
          message: 'result [0.18] did not meet the condition result[0] < 0.01',
          startedAt: '2026-03-01T10:30:30Z',
          finishedAt: '2026-03-01T10:30:30.200Z',
        },
      ],
    },
  ],
};

export const smokeLogs =
  'GET /healthz 200\nGET /api/cart 503 Service Unavailable\nFAIL: cart answered 503';

export const prodVerification: Verification = {
  id: 'v-prod-1',
  project: 'shop',
  stage: 'prod',
  freight: { id: calmOwl.id, alias: calmOwl.alias },
  promotionId: 'p-prod-old',
  phase: 'Failed',
  message: 'metric "smoke" failed: 1 failed measurement (failureLimit 0)',
  createdBy: 'user:default/ada',
  createdAt: '2026-03-01T11:00:00Z',
  startedAt: '2026-03-01T11:01:00Z',
  finishedAt: '2026-03-01T11:04:10Z',
  analysisTemplates: ['error-rate', 'smoke'],
  metrics: [
    {
      name: 'error-rate',
      provider: 'prometheus',
      phase: 'Successful',
      count: 3,
      successful: 3,
      failed: 0,
      inconclusive: 0,
      error: 0,
      consecutiveError: 0,
      measurements: ['11:01:00', '11:02:00', '11:03:00'].map(t => ({
        phase: 'Successful' as const,
        value: '[0.0004]',
        startedAt: `2026-03-01T${t}Z`,
        finishedAt: `2026-03-01T${t}.090Z`,
      })),
    },
    {
      name: 'smoke',
      provider: 'job',
      phase: 'Failed',
      message: 'job shop-smoke-v-prod-1 failed: BackoffLimitExceeded',
      count: 1,
      successful: 0,
      failed: 1,
      inconclusive: 0,
      error: 0,
      consecutiveError: 0,
      measurements: [
        {
          phase: 'Failed',
          message: 'job shop-smoke-v-prod-1 failed: BackoffLimitExceeded',
          startedAt: '2026-03-01T11:01:00Z',
          finishedAt: '2026-03-01T11:04:10Z',
          metadata: { job: 'shop-smoke-v-prod-1', logs: smokeLogs },
        },
      ],
    },
  ],
};

function stage(
  name: string,
  sources: { direct?: boolean; stages?: string[] },
  rest: Partial<Stage>,
): Stage {
  return {
    project: 'shop',
    name,
    requestedFreight: [
      {
        origin,
        sources: { direct: !!sources.direct, stages: sources.stages ?? [] },
      },
    ],
    stepCount: 3,
    ...rest,
  };
}

export const stages: Stage[] = [
  stage(
    'dev',
    { direct: true },
    {
      currentFreight: { id: braveFox.id, alias: braveFox.alias },
      lastPromotion: devPromotion,
      analysisTemplates: ['error-rate', 'smoke'],
      verification: devVerification,
      health: {
        status: 'Healthy',
        reason: 'app shop-dev is Synced and Healthy',
        checkedAt: '2026-03-02T10:09:00Z',
        promotionId: devPromotion.id,
        apps: [
          checked(devApp, {
            status: 'Healthy',
            reason: 'app shop-dev is Synced and Healthy',
          }),
        ],
      },
    },
  ),
  stage(
    'staging',
    { stages: ['dev'] },
    {
      currentFreight: { id: calmOwl.id, alias: calmOwl.alias },
      lastPromotion: stagingPromotion,
      // staging verifies with nothing but health
      analysisTemplates: [],
      health: {
        status: 'Progressing',
        reason:
          'app shop-staging is Progressing: Waiting for rollout to finish: 1 of 2 updated replicas are available...',
        checkedAt: '2026-03-02T10:07:30Z',
        apps: [
          checked(stagingApp, {
            status: 'Progressing',
            reason: 'Waiting for rollout to finish',
          }),
        ],
      },
    },
  ),
  stage(
    'prod',
    { stages: ['staging'] },
    {
      currentFreight: { id: calmOwl.id, alias: calmOwl.alias },
      lastPromotion: prodPromotion,
      analysisTemplates: ['error-rate', 'smoke'],
      verification: prodVerification,
      health: {
        status: 'Degraded',
        reason: prodDegradedReason,
        checkedAt: '2026-03-01T12:05:00Z',
        apps: [
          checked(prodApp, {
            status: 'Degraded',
            reason: 'Deployment "shop" exceeded its progress deadline',
          }),
        ],
      },
    },
  ),
];

export const warehouse: Warehouse = {
  project: 'shop',
  name: 'shop',
  interval: '5m0s',
  subscriptions: [{ image: { repoURL: 'ghcr.io/acme/shop' } }],
  status: {
    lastDiscoveryAt: '2026-11-20T10:00:00.000Z',
    nextDiscoveryAt: '2026-11-20T10:05:00.000Z',
  },
};

export const pipeline: EntityPipeline = {
  project: 'shop',
  stages,
  freight: [braveFox, calmOwl],
  warehouses: [warehouse],
  apps: [
    { ...devApp, stage: 'dev' },
    { ...stagingApp, stage: 'staging' },
    { ...prodApp, stage: 'prod' },
    docsApp,
  ],
};

/** What `GET /projects/shop/stages/{stage}/verifications` answers, newest first. */
export function verificationHistory(stageName: string) {
  const byStage: Record<string, Verification[]> = {
    dev: [devVerification, devEarlierVerification],
    prod: [prodVerification],
  };
  return { items: byStage[stageName] ?? [] };
}

/**
 * What `GET /projects/shop/stages/{stage}/freight` answers for the pipeline above: dev takes
 * both directly, staging both (verified in dev), prod only calm-owl (verified in staging).
 */
export function stageFreight(stageName: string): StageFreightList {
  const direct = `${stageName} takes freight directly from warehouse shop`;
  const byStage: Record<string, StageFreightList['items']> = {
    dev: [
      { freight: braveFox, available: true, reason: direct },
      { freight: calmOwl, available: true, reason: direct },
    ],
    staging: [
      { freight: braveFox, available: true, reason: 'verified in dev 5m ago' },
      { freight: calmOwl, available: true, reason: 'verified in dev 1d ago' },
    ],
    prod: [
      {
        freight: braveFox,
        available: false,
        reason: 'not verified in staging',
      },
      {
        freight: calmOwl,
        available: true,
        reason: 'verified in staging 23h ago',
      },
    ],
  };
  return { stage: stageName, items: byStage[stageName] ?? [] };
}

/** What `GET /projects/shop/credentials` answers: never values, only what each is for. */
export const credentials: ProjectCredentialList = {
  items: [
    {
      name: 'shop-gitops',
      type: 'git',
      repoURL: 'https://github.com/acme/shop-gitops.git',
      repoURLIsRegex: false,
      updatedAt: '2026-03-01T09:00:00Z',
    },
    {
      name: 'acme-images',
      type: 'image',
      repoURL: '^ghcr\\.io/acme/.*$',
      repoURLIsRegex: true,
      updatedAt: '2026-03-01T09:00:00Z',
    },
    {
      name: 'release-token',
      type: 'generic',
      updatedAt: '2026-03-01T09:00:00Z',
    },
  ],
};

/**
 * One page of `items` as the server pages them: `q` matched (ignoring case) against the
 * alias, ID and versions, `limit` per page (50 by default), and an opaque cursor (here the
 * index where the next page starts).
 */
export function pageOf<T, R>(
  items: T[],
  freightOf: (item: T) => Freight,
  query: FreightPageQuery | undefined,
  shape: (page: { items: T[]; nextCursor?: string }) => R,
): R {
  const q = query?.q?.toLowerCase();
  const matching = q
    ? items.filter(i => {
        const f = freightOf(i);
        return [f.alias, f.id, JSON.stringify([f.commits, f.images, f.charts])]
          .join(' ')
          .toLowerCase()
          .includes(q);
      })
    : items;
  const start = query?.cursor ? Number(query.cursor.replace(/^at-/, '')) : 0;
  const limit = query?.limit ?? 50;
  const end = start + limit;
  return shape({
    items: matching.slice(start, end),
    ...(end < matching.length ? { nextCursor: `at-${end}` } : {}),
  });
}

/** A StagecoachApi whose methods are jest mocks, answering with the pipeline above. */
export function mockStagecoachApi(
  overrides: Partial<jest.Mocked<StagecoachApi>> = {},
): jest.Mocked<StagecoachApi> {
  return {
    getEntityPipeline: jest.fn().mockResolvedValue(pipeline),
    getStageFreight: jest
      .fn()
      .mockImplementation(async (_project: string, stageName: string) => ({
        items: stageName === 'staging' ? [braveFox, calmOwl] : [],
      })),
    listStageFreight: jest
      .fn()
      .mockImplementation(
        async (_project: string, stageName: string, query?: FreightPageQuery) =>
          pageOf(
            stageFreight(stageName).items,
            i => i.freight,
            query,
            page => ({ stage: stageName, ...page }),
          ),
      ),
    listFreight: jest
      .fn()
      .mockImplementation(
        async (
          _project: string,
          query?: FreightPageQuery & { warehouse?: string },
        ) =>
          pageOf(
            pipeline.freight.filter(
              f => !query?.warehouse || f.origin.name === query.warehouse,
            ),
            f => f,
            query,
            page => page,
          ),
      ),
    approveFreight: jest.fn(),
    releaseAutoPromotionHold: jest.fn(),
    promote: jest.fn(),
    createFreight: jest.fn(),
    getPromotion: jest.fn(),
    abortPromotion: jest.fn(),
    listVerifications: jest
      .fn()
      .mockImplementation(async (_project: string, stageName: string) =>
        verificationHistory(stageName),
      ),
    getVerification: jest
      .fn()
      .mockImplementation(async (_project: string, id: string) => {
        const all = [devVerification, devEarlierVerification, prodVerification];
        const found = all.find(v => v.id === id);
        if (!found) throw new Error(`no verification ${id}`);
        return found;
      }),
    reverify: jest.fn(),
    abortVerification: jest.fn(),
    listProjectCredentials: jest.fn().mockResolvedValue(credentials),
    ...overrides,
  };
}
