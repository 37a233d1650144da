import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { KubeApiServer, KubeType, startKubeApi } from './kubeApi';

/*
 * A Kargo installation as its API server shows it, in the shape of Kargo's quickstart: a
 * project whose warehouse watches an nginx image, and test, uat and prod stages that render a
 * GitOps repository with kustomize, through a PromotionTask, and update Argo CD apps; a
 * ProjectConfig auto-promoting test, an AnalysisTemplate that verifies uat, Freight and a
 * Promotion (history), a credentials Secret. Plus a project "legacy" with Kargo's pre-v1.7
 * Project.spec.promotionPolicies, a project "broken" whose Stage names a warehouse it does
 * not have, and a project "platform" whose Stage calls a ClusterPromotionTask.
 */

const kargo = (
  kind: string,
  plural: string,
  clusterScoped = false,
): KubeType => ({
  group: 'kargo.akuity.io',
  version: 'v1alpha1',
  plural,
  kind,
  ...(clusterScoped ? { clusterScoped } : {}),
});

export const TYPES = {
  projects: kargo('Project', 'projects', true),
  projectConfigs: kargo('ProjectConfig', 'projectconfigs'),
  warehouses: kargo('Warehouse', 'warehouses'),
  stages: kargo('Stage', 'stages'),
  promotionTasks: kargo('PromotionTask', 'promotiontasks'),
  clusterPromotionTasks: kargo(
    'ClusterPromotionTask',
    'clusterpromotiontasks',
    true,
  ),
  freight: kargo('Freight', 'freights'),
  promotions: kargo('Promotion', 'promotions'),
  analysisTemplates: {
    group: 'argoproj.io',
    version: 'v1alpha1',
    plural: 'analysistemplates',
    kind: 'AnalysisTemplate',
  },
  clusterAnalysisTemplates: {
    group: 'argoproj.io',
    version: 'v1alpha1',
    plural: 'clusteranalysistemplates',
    kind: 'ClusterAnalysisTemplate',
    clusterScoped: true,
  },
  secrets: { group: '', version: 'v1', plural: 'secrets', kind: 'Secret' },
} satisfies Record<string, KubeType>;

const GITOPS = 'https://git.example.com/acme/kargo-demo.git';
const IMAGE = 'public.ecr.aws/nginx/nginx';

const stage = (name: string, upstream?: string) => ({
  metadata: {
    name,
    namespace: 'kargo-demo',
    labels: { tier: name === 'prod' ? 'production' : 'pre-production' },
    annotations: {
      'kubectl.kubernetes.io/last-applied-configuration':
        '{"apiVersion":"kargo.akuity.io/v1alpha1","kind":"Stage"}',
    },
    finalizers: ['kargo.akuity.io/finalizer'],
  },
  spec: {
    requestedFreight: [
      {
        origin: { kind: 'Warehouse', name: 'kargo-demo' },
        sources: upstream ? { stages: [upstream] } : { direct: true },
      },
    ],
    promotionTemplate: {
      spec: {
        steps: [
          {
            task: { name: 'render-and-update' },
            vars: [{ name: 'stage', value: name }],
          },
        ],
      },
    },
    ...(name === 'uat'
      ? { verification: { analysisTemplates: [{ name: 'smoke' }] } }
      : {}),
  },
  status: { currentFreight: { name: 'f00d' }, health: { status: 'Healthy' } },
});

/** The quickstart-like installation in a loopback API server, and a kubeconfig that points at it. */
export async function startKargoInstallation(): Promise<{
  api: KubeApiServer;
  kubeconfig: string;
  cleanup(): Promise<void>;
}> {
  const token = 'kube-test-token';
  const api = await startKubeApi({ served: Object.values(TYPES), token });
  const put = api.put;

  for (const name of ['kargo-demo', 'legacy', 'broken', 'platform']) {
    put(TYPES.projects, {
      metadata: { name },
      ...(name === 'legacy'
        ? {
            spec: {
              promotionPolicies: [
                { stage: 'test', autoPromotionEnabled: true },
              ],
            },
          }
        : {}),
      status: { conditions: [{ type: 'Ready', status: 'True' }] },
    });
  }

  // kargo-demo
  put(TYPES.projectConfigs, {
    metadata: { name: 'kargo-demo', namespace: 'kargo-demo' },
    spec: {
      promotionPolicies: [
        { stageSelector: { name: 'test' }, autoPromotionEnabled: true },
      ],
    },
  });
  put(TYPES.warehouses, {
    metadata: {
      name: 'kargo-demo',
      namespace: 'kargo-demo',
      ownerReferences: [
        { apiVersion: 'v1', kind: 'Namespace', name: 'kargo-demo', uid: '1' },
      ],
    },
    spec: {
      subscriptions: [
        { image: { repoURL: IMAGE, constraint: '^1.26.0', discoveryLimit: 5 } },
      ],
    },
    status: { lastFreightID: 'f00d' },
  });
  put(TYPES.promotionTasks, {
    metadata: { name: 'render-and-update', namespace: 'kargo-demo' },
    spec: {
      vars: [{ name: 'stage' }, { name: 'gitopsRepo', value: GITOPS }],
      steps: [
        {
          uses: 'git-clone',
          config: {
            repoURL: '${{ vars.gitopsRepo }}',
            checkout: [
              { branch: 'main', path: './src' },
              {
                branch: 'stage/${{ vars.stage }}',
                create: true,
                path: './out',
              },
            ],
          },
        },
        { uses: 'git-clear', config: { path: './out' } },
        {
          uses: 'kustomize-set-image',
          as: 'update',
          config: { path: './src/base', images: [{ image: IMAGE }] },
        },
        {
          uses: 'kustomize-build',
          config: { path: './src/stages/${{ vars.stage }}', outPath: './out' },
        },
        {
          uses: 'git-commit',
          as: 'commit',
          config: {
            path: './out',
            message: '${{ outputs.update.commitMessage }}',
          },
        },
        { uses: 'git-push', config: { path: './out' } },
        {
          uses: 'argocd-update',
          config: {
            apps: [
              {
                name: 'kargo-demo-${{ vars.stage }}',
                sources: [
                  {
                    repoURL: '${{ vars.gitopsRepo }}',
                    desiredRevision: '${{ outputs.commit.commit }}',
                  },
                ],
              },
            ],
          },
        },
      ],
    },
  });
  put(TYPES.analysisTemplates, {
    metadata: { name: 'smoke', namespace: 'kargo-demo' },
    spec: {
      metrics: [
        {
          name: 'up',
          successCondition: 'result == "ok"',
          provider: {
            web: {
              url: 'https://uat.example.com/healthz',
              jsonPath: '{$.status}',
            },
          },
        },
      ],
    },
  });
  put(TYPES.stages, stage('test'));
  put(TYPES.stages, stage('uat', 'test'));
  put(TYPES.stages, stage('prod', 'uat'));
  put(TYPES.freight, {
    metadata: { name: 'f00d', namespace: 'kargo-demo' },
    alias: 'brave-otter',
    origin: { kind: 'Warehouse', name: 'kargo-demo' },
    images: [
      {
        repoURL: IMAGE,
        tag: '1.27.0',
        digest:
          'sha256:0000000000000000000000000000000000000000000000000000000000000000',
      },
    ],
  });
  put(TYPES.promotions, {
    metadata: {
      name: 'test.01j0000000000000000000000.f00d',
      namespace: 'kargo-demo',
    },
    spec: { stage: 'test', freight: 'f00d' },
    status: { phase: 'Succeeded' },
  });
  put(TYPES.secrets, {
    metadata: {
      name: 'kargo-demo-repo',
      namespace: 'kargo-demo',
      labels: { 'kargo.akuity.io/cred-type': 'git' },
    },
    type: 'Opaque',
    data: {
      repoURL: Buffer.from(GITOPS).toString('base64'),
      password: Buffer.from('s3cret-value-never-shown').toString('base64'),
    },
  });
  put(TYPES.secrets, {
    metadata: { name: 'unrelated', namespace: 'kargo-demo' },
    type: 'Opaque',
    data: { key: Buffer.from('other').toString('base64') },
  });

  // legacy: the promotion policies are still in the Project
  put(TYPES.warehouses, {
    metadata: { name: 'app', namespace: 'legacy' },
    spec: { subscriptions: [{ image: { repoURL: IMAGE } }] },
  });
  put(TYPES.stages, {
    metadata: { name: 'test', namespace: 'legacy' },
    spec: {
      requestedFreight: [
        {
          origin: { kind: 'Warehouse', name: 'app' },
          sources: { direct: true },
        },
      ],
    },
  });

  // broken: a stage that takes freight from a warehouse the project does not have
  put(TYPES.warehouses, {
    metadata: { name: 'app', namespace: 'broken' },
    spec: { subscriptions: [{ image: { repoURL: IMAGE } }] },
  });
  put(TYPES.stages, {
    metadata: { name: 'dev', namespace: 'broken' },
    spec: {
      requestedFreight: [
        {
          origin: { kind: 'Warehouse', name: 'ap' },
          sources: { direct: true },
        },
      ],
    },
  });
  // platform: a stage that calls a ClusterPromotionTask
  put(TYPES.warehouses, {
    metadata: { name: 'app', namespace: 'platform' },
    spec: { subscriptions: [{ image: { repoURL: IMAGE } }] },
  });
  put(TYPES.stages, {
    metadata: { name: 'shared', namespace: 'platform' },
    spec: {
      requestedFreight: [
        {
          origin: { kind: 'Warehouse', name: 'app' },
          sources: { direct: true },
        },
      ],
      promotionTemplate: {
        spec: {
          steps: [
            {
              task: { kind: 'ClusterPromotionTask', name: 'standard-promote' },
            },
          ],
        },
      },
    },
  });
  put(TYPES.clusterPromotionTasks, {
    metadata: { name: 'standard-promote' },
    spec: {
      steps: [
        {
          uses: 'git-clone',
          config: {
            repoURL: GITOPS,
            checkout: [{ branch: 'main', path: './src' }],
          },
        },
      ],
    },
  });

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stagecoach-cli-kube-'));
  const kubeconfig = path.join(dir, 'config');
  fs.writeFileSync(
    kubeconfig,
    [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      '  - name: kargo',
      `    cluster: {server: "${api.url}", insecure-skip-tls-verify: true}`,
      '  - name: elsewhere',
      '    cluster: {server: "https://127.0.0.1:1", insecure-skip-tls-verify: true}',
      'users:',
      `  - name: admin`,
      `    user: {token: ${token}}`,
      'contexts:',
      '  - name: other',
      '    context: {cluster: elsewhere, user: admin}',
      '  - name: kargo',
      '    context: {cluster: kargo, user: admin}',
      'current-context: other',
      '',
    ].join('\n'),
  );
  return {
    api,
    kubeconfig,
    cleanup: async () => {
      await api.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
