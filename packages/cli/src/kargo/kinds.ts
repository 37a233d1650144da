/**
 * The Kubernetes resource types the import reads: Kargo's (kargo.akuity.io), Argo Rollouts'
 * AnalysisTemplates (argoproj.io) and, for their names only, Secrets.
 */
export interface ResourceType {
  group: string;
  version: string;
  plural: string;
  kind: string;
  /** Cluster-scoped types have no namespace (Kargo's Project, ClusterPromotionTask). */
  clusterScoped?: boolean;
}

const kargo = (
  kind: string,
  plural: string,
  clusterScoped = false,
): ResourceType => ({
  group: 'kargo.akuity.io',
  version: 'v1alpha1',
  plural,
  kind,
  ...(clusterScoped ? { clusterScoped } : {}),
});
const rollouts = (
  kind: string,
  plural: string,
  clusterScoped = false,
): ResourceType => ({
  group: 'argoproj.io',
  version: 'v1alpha1',
  plural,
  kind,
  ...(clusterScoped ? { clusterScoped } : {}),
});

export const PROJECTS = kargo('Project', 'projects', true);
export const PROJECT_CONFIGS = kargo('ProjectConfig', 'projectconfigs');
export const WAREHOUSES = kargo('Warehouse', 'warehouses');
export const STAGES = kargo('Stage', 'stages');
export const PROMOTION_TASKS = kargo('PromotionTask', 'promotiontasks');
export const CLUSTER_PROMOTION_TASKS = kargo(
  'ClusterPromotionTask',
  'clusterpromotiontasks',
  true,
);
export const FREIGHT = kargo('Freight', 'freights');
export const PROMOTIONS = kargo('Promotion', 'promotions');
export const ANALYSIS_TEMPLATES = rollouts(
  'AnalysisTemplate',
  'analysistemplates',
);
export const CLUSTER_ANALYSIS_TEMPLATES = rollouts(
  'ClusterAnalysisTemplate',
  'clusteranalysistemplates',
  true,
);
export const SECRETS: ResourceType = {
  group: '',
  version: 'v1',
  plural: 'secrets',
  kind: 'Secret',
};

/** Kargo labels the Secrets that hold credentials with their type: git, helm, image or generic. */
export const CREDENTIAL_LABEL = 'kargo.akuity.io/cred-type';

/** `warehouses.kargo.akuity.io`, `secrets`: how kubectl and RBAC name a resource type. */
export function resourceName(type: ResourceType): string {
  return type.group ? `${type.plural}.${type.group}` : type.plural;
}

/** A Kubernetes object as the API answers it. */
export type KubeObject = {
  apiVersion?: string;
  kind?: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    [field: string]: unknown;
  };
  spec?: unknown;
  [field: string]: unknown;
};
