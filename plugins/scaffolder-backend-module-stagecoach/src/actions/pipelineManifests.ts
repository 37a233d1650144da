import { stringify } from 'yaml';

/**
 * The manifests of a pipeline as `stagecoach:pipeline:create` writes them: one Warehouse that
 * watches the artifacts, one Stage per environment in order (the first takes freight from the
 * warehouse, each next one what the stage before it verified) and, optionally, one
 * PromotionTask holding the steps that every stage runs. The steps update the GitOps
 * repository in one of two layouts:
 *
 * - `folder-per-env`: one branch (`gitopsBranch`) with a folder per stage
 *   (`<envFolder>/<stage>`), edited and pushed there;
 * - `branch-per-env`: the stage folders on `gitopsBranch` are the source; each stage's folder,
 *   edited, becomes the whole content of the stage's own branch `<envFolder>/<stage>` (created
 *   by the first promotion), which Argo CD follows.
 *
 * Images are set with kustomize-set-image (the stage folder holds a kustomization), charts
 * with helm-update-chart (the stage folder holds a Chart.yaml depending on them). An Argo CD
 * Application named for a stage is synced to the pushed commit after the push.
 */

export const KARGO_API_VERSION = 'kargo.akuity.io/v1alpha1';

export type Layout = 'folder-per-env' | 'branch-per-env';

export interface ImageArtifact {
  repoURL: string;
  imageSelectionStrategy?: string;
  constraint?: string;
}
export interface GitArtifact {
  repoURL: string;
  commitSelectionStrategy?: string;
  branch?: string;
  semverConstraint?: string;
}
export interface ChartArtifact {
  repoURL: string;
  name?: string;
  semverConstraint?: string;
}

export interface PipelineSpec {
  project: string;
  warehouse: string;
  images: ImageArtifact[];
  git: GitArtifact[];
  charts: ChartArtifact[];
  stages: string[];
  layout: Layout;
  gitopsRepoURL: string;
  gitopsBranch: string;
  envFolder: string;
  argocdApps: Record<string, string>;
  promotionTask: boolean;
}

type Json = Record<string, unknown>;

const dropUndefined = (o: Json): Json =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));

function warehouse(spec: PipelineSpec): Json {
  const subscriptions = [
    ...spec.git.map(g => ({ git: dropUndefined({ ...g }) })),
    ...spec.images.map(i => ({ image: dropUndefined({ ...i }) })),
    ...spec.charts.map(c => ({ chart: dropUndefined({ ...c }) })),
  ];
  return {
    apiVersion: KARGO_API_VERSION,
    kind: 'Warehouse',
    metadata: { name: spec.warehouse, namespace: spec.project },
    spec: { subscriptions },
  };
}

/** A chart as Chart.yaml names its dependency: an OCI chart's last path part is its name. */
function chartDependency(c: ChartArtifact): {
  repository: string;
  name: string;
} {
  if (c.repoURL.startsWith('oci://') && !c.name) {
    const cut = c.repoURL.replace(/\/+$/, '').lastIndexOf('/');
    return {
      repository: c.repoURL.slice(0, cut),
      name: c.repoURL.slice(cut + 1),
    };
  }
  return { repository: c.repoURL, name: c.name ?? '' };
}

/** The steps that update the GitOps repository for one stage (`env`: its folder's name). */
function deploySteps(spec: PipelineSpec, env: string): Json[] {
  const branchPerEnv = spec.layout === 'branch-per-env';
  const source = branchPerEnv ? './src' : './out';
  const stageFolder = `${source}/${spec.envFolder}/${env}`;
  const checkout: Json[] = [{ branch: spec.gitopsBranch, path: source }];
  if (branchPerEnv) {
    checkout.push({
      branch: `${spec.envFolder}/${env}`,
      create: true,
      path: './out',
    });
  }
  const steps: Json[] = [
    { uses: 'git-clone', config: { repoURL: spec.gitopsRepoURL, checkout } },
  ];
  if (spec.images.length > 0) {
    steps.push({
      uses: 'kustomize-set-image',
      as: 'set-image',
      config: {
        path: stageFolder,
        images: spec.images.map(i => ({ image: i.repoURL })),
      },
    });
  }
  if (spec.charts.length > 0) {
    steps.push({
      uses: 'helm-update-chart',
      as: 'update-chart',
      config: { path: stageFolder, charts: spec.charts.map(chartDependency) },
    });
  }
  if (branchPerEnv) {
    steps.push(
      { uses: 'git-clear', config: { path: './out' } },
      { uses: 'copy', config: { inPath: stageFolder, outPath: './out' } },
    );
  }
  steps.push(
    {
      uses: 'git-commit',
      as: 'commit',
      config: {
        path: './out',
        message: `Promote \${{ ctx.targetFreight.alias }} to ${env}`,
      },
    },
    { uses: 'git-push', as: 'push', config: { path: './out' } },
  );
  return steps;
}

function argocdStep(spec: PipelineSpec, app: string, commit: string): Json {
  return {
    uses: 'argocd-update',
    config: {
      apps: [
        {
          name: app,
          sources: [{ repoURL: spec.gitopsRepoURL, desiredRevision: commit }],
        },
      ],
    },
  };
}

export const promotionTaskName = (spec: PipelineSpec) =>
  `${spec.warehouse}-deploy`;

function promotionTask(spec: PipelineSpec): Json {
  return {
    apiVersion: KARGO_API_VERSION,
    kind: 'PromotionTask',
    metadata: { name: promotionTaskName(spec), namespace: spec.project },
    spec: {
      // an input: each stage gives its own folder's name
      vars: [{ name: 'env' }],
      steps: [
        ...deploySteps(spec, '${{ vars.env }}'),
        {
          uses: 'compose-output',
          config: { commit: '${{ task.outputs.push.commit }}' },
        },
      ],
    },
  };
}

function stage(spec: PipelineSpec, name: string, index: number): Json {
  const upstream = spec.stages[index - 1];
  const steps: Json[] = spec.promotionTask
    ? [
        {
          task: { name: promotionTaskName(spec) },
          as: 'deploy',
          vars: [{ name: 'env', value: name }],
        },
      ]
    : deploySteps(spec, name);
  const app = spec.argocdApps[name];
  if (app) {
    const commit = spec.promotionTask
      ? '${{ outputs.deploy.commit }}'
      : '${{ outputs.push.commit }}';
    steps.push(argocdStep(spec, app, commit));
  }
  return {
    apiVersion: KARGO_API_VERSION,
    kind: 'Stage',
    metadata: { name, namespace: spec.project },
    spec: {
      requestedFreight: [
        {
          origin: { kind: 'Warehouse', name: spec.warehouse },
          sources: upstream ? { stages: [upstream] } : { direct: true },
        },
      ],
      promotionTemplate: { spec: { steps } },
    },
  };
}

/** The pipeline's documents, in the order they are written. */
export function pipelineDocuments(spec: PipelineSpec): Json[] {
  return [
    warehouse(spec),
    ...(spec.promotionTask ? [promotionTask(spec)] : []),
    ...spec.stages.map((name, i) => stage(spec, name, i)),
  ];
}

/** The documents as one multi-document YAML file. */
export function pipelineYaml(spec: PipelineSpec): string {
  return pipelineDocuments(spec)
    .map(d => stringify(d, { lineWidth: 0 }))
    .join('---\n');
}
