import type { Entity } from '@backstage/catalog-model';
import type {
  EntityPipeline,
  Freight,
  Promotion,
  Stage,
  StageFreightList,
  Warehouse,
} from '@stagecoach/plugin-stagecoach-common';
import type { StagecoachApi } from '../api';

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
    },
  ),
  stage(
    'staging',
    { stages: ['dev'] },
    {
      currentFreight: { id: calmOwl.id, alias: calmOwl.alias },
      lastPromotion: stagingPromotion,
    },
  ),
  stage(
    'prod',
    { stages: ['staging'] },
    {
      currentFreight: { id: calmOwl.id, alias: calmOwl.alias },
      lastPromotion: prodPromotion,
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
};

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
      .mockImplementation(async (_project: string, stageName: string) =>
        stageFreight(stageName),
      ),
    approveFreight: jest.fn(),
    releaseAutoPromotionHold: jest.fn(),
    promote: jest.fn(),
    createFreight: jest.fn(),
    getPromotion: jest.fn(),
    abortPromotion: jest.fn(),
    ...overrides,
  };
}
