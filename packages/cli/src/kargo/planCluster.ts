import { cleanManifest } from './cleanManifest';
import { CLUSTER_PROMOTION_TASKS, KubeObject } from './kinds';
import type { PlannedDocument, ProjectPlan } from './planProject';

/**
 * The cluster scope's set: Kargo's ClusterPromotionTasks as clean manifests, and nothing else.
 * It is applied as a merge (`?merge=true`), which keeps what Stagecoach's cluster scope holds
 * besides (its ClusterConfig, other tasks, shared ConfigMaps and Secrets), or with `--prune`
 * as the whole cluster scope.
 */
export function planCluster(tasks: KubeObject[]): ProjectPlan {
  const sent: PlannedDocument[] = [...tasks]
    .sort((a, b) => a.metadata.name.localeCompare(b.metadata.name))
    .map(t => ({
      resource: `ClusterPromotionTask/${t.metadata.name}`,
      manifest: cleanManifest(t, CLUSTER_PROMOTION_TASKS),
    }));
  return { project: 'cluster scope', documents: sent, sent };
}
