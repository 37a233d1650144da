import type { ClusterScope } from '../stagecoach/StagecoachTarget';
import { cleanManifest } from './cleanManifest';
import { CLUSTER_PROMOTION_TASKS, KubeObject } from './kinds';
import type { PlannedDocument, ProjectPlan } from './planProject';

/** Kargo names its one ClusterConfig `cluster`; so does Stagecoach. */
const CLUSTER_CONFIG = 'cluster';
const KEPT = 'Stagecoach, kept as it is';

/**
 * The cluster scope's set: Kargo's ClusterPromotionTasks as clean manifests, and what
 * Stagecoach's cluster scope holds already, sent again as it is (its ClusterConfig, and the
 * ClusterPromotionTasks Kargo does not have, unless `prune`), so that the apply adds and never
 * removes unless asked to.
 */
export function planCluster(
  tasks: KubeObject[],
  existing: ClusterScope | undefined,
  prune: boolean,
): ProjectPlan {
  const sent: PlannedDocument[] = [...tasks]
    .sort((a, b) => a.metadata.name.localeCompare(b.metadata.name))
    .map(t => ({
      resource: `ClusterPromotionTask/${t.metadata.name}`,
      manifest: cleanManifest(t, CLUSTER_PROMOTION_TASKS),
    }));
  const apiVersion = `${CLUSTER_PROMOTION_TASKS.group}/${CLUSTER_PROMOTION_TASKS.version}`;
  if (existing?.clusterConfig) {
    sent.push({
      resource: `ClusterConfig/${CLUSTER_CONFIG}`,
      from: KEPT,
      manifest: {
        apiVersion,
        kind: 'ClusterConfig',
        metadata: { name: CLUSTER_CONFIG },
        spec: existing.clusterConfig.spec,
      },
    });
  }
  if (!prune) {
    const imported = new Set(tasks.map(t => t.metadata.name));
    for (const t of existing?.clusterPromotionTasks ?? []) {
      if (imported.has(t.name)) continue;
      sent.push({
        resource: `ClusterPromotionTask/${t.name}`,
        from: KEPT,
        manifest: {
          apiVersion,
          kind: CLUSTER_PROMOTION_TASKS.kind,
          metadata: { name: t.name },
          spec: t.spec,
        },
      });
    }
  }
  return { project: 'cluster scope', documents: sent, sent };
}
