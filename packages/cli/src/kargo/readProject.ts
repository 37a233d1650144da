import { KargoCluster, KubeReadError } from './KargoCluster';
import {
  ANALYSIS_TEMPLATES,
  CREDENTIAL_LABEL,
  FREIGHT,
  KubeObject,
  PROJECT_CONFIGS,
  PROMOTION_TASKS,
  PROMOTIONS,
  ResourceType,
  SECRETS,
  STAGES,
  WAREHOUSES,
} from './kinds';

/** One Kargo project as read from its namespace (Kargo names the namespace after the project). */
export interface KargoProject {
  name: string;
  /** The Project object itself (cluster-scoped). */
  project: KubeObject;
  projectConfigs: KubeObject[];
  warehouses: KubeObject[];
  stages: KubeObject[];
  promotionTasks: KubeObject[];
  analysisTemplates: KubeObject[];
  /** History, read to be reported as not imported. */
  freight: KubeObject[];
  promotions: KubeObject[];
  /** The names of the Secrets labelled kargo.akuity.io/cred-type; undefined when they could not be listed. */
  credentialSecrets?: string[];
  /** Kinds that are imported but could not be read: nothing of this project may be applied. */
  problems: string[];
  /** What could not be read and is not imported anyway, or is not installed. */
  warnings: string[];
}

/**
 * Reads a project's namespace. A kind the import sends that cannot be read (403, the cluster
 * gone) is a problem: applying the rest would leave out part of the pipeline. A kind whose CRD
 * is not installed is none at all (an installation without Argo Rollouts has no
 * AnalysisTemplates). Freight, Promotions and Secrets only feed the report: failing to read
 * them is a warning.
 */
export async function readProject(
  cluster: KargoCluster,
  project: KubeObject,
): Promise<KargoProject> {
  const name = project.metadata.name;
  const problems: string[] = [];
  const warnings: string[] = [];

  const imported = async (type: ResourceType) => {
    try {
      return await cluster.list(type, name);
    } catch (e) {
      if (e instanceof KubeReadError && e.notServed) return [];
      problems.push((e as Error).message);
      return [];
    }
  };
  const reported = async (
    type: ResourceType,
    options?: { labelSelector?: string; metadataOnly?: boolean },
  ) => {
    try {
      return await cluster.list(type, name, options);
    } catch (e) {
      if (!(e instanceof KubeReadError && e.notServed))
        warnings.push((e as Error).message);
      return undefined;
    }
  };

  const [
    projectConfigs,
    warehouses,
    stages,
    promotionTasks,
    analysisTemplates,
  ] = await Promise.all(
    [
      PROJECT_CONFIGS,
      WAREHOUSES,
      STAGES,
      PROMOTION_TASKS,
      ANALYSIS_TEMPLATES,
    ].map(imported),
  );
  const [freight, promotions, secrets] = await Promise.all([
    reported(FREIGHT),
    reported(PROMOTIONS),
    // metadata only: the API server sends no Secret's data
    reported(SECRETS, { labelSelector: CREDENTIAL_LABEL, metadataOnly: true }),
  ]);
  return {
    name,
    project,
    projectConfigs,
    warehouses,
    stages,
    promotionTasks,
    analysisTemplates,
    freight: freight ?? [],
    promotions: promotions ?? [],
    credentialSecrets: secrets?.map(s => s.metadata.name).sort(),
    problems,
    warnings,
  };
}
