import { createPermission } from '@backstage/plugin-permission-common';

/**
 * Stagecoach's permissions, on two resource types:
 *
 * - a **project** (`stagecoach-project`, resource ref: the project's name): reading it and
 *   everything in it, applying its manifests, refreshing its warehouses, creating and renaming
 *   its freight;
 * - a **stage** (`stagecoach-stage`, resource ref `<project>:<stage>`, as in Kargo's
 *   `authorized-stage` annotation): promoting into it, aborting its promotions, approving
 *   freight for it, re-verifying it, releasing its auto-promotion hold.
 *
 * A policy can answer any of them with a conditional decision built from the rules the
 * backend exports (project owner, project name, stage name, stage label).
 *
 * The cluster scope (ClusterPromotionTasks, ClusterConfig) belongs to no project: reading and
 * changing it are permissions with no resource type, allowed or denied outright.
 */
export const STAGECOACH_PROJECT_RESOURCE_TYPE = 'stagecoach-project';
export const STAGECOACH_STAGE_RESOURCE_TYPE = 'stagecoach-stage';

/** The resource ref of a project in permission requests: its name. */
export function projectResourceRef(project: string): string {
  return project;
}

/** The resource ref of a stage in permission requests: `<project>:<stage>`. */
export function stageResourceRef(project: string, stage: string): string {
  return `${project}:${stage}`;
}

/** Splits a stage resource ref; undefined when it is not `<project>:<stage>`. */
export function parseStageResourceRef(ref: string): { project: string; stage: string } | undefined {
  const colon = ref.indexOf(':');
  if (colon <= 0 || colon === ref.length - 1 || ref.indexOf(':', colon + 1) !== -1) return undefined;
  return { project: ref.slice(0, colon), stage: ref.slice(colon + 1) };
}

/** Read a project: its warehouses, freight, stages, promotions and verifications. Lists are filtered by it. */
export const stagecoachProjectReadPermission = createPermission({
  name: 'stagecoach.project.read',
  attributes: { action: 'read' },
  resourceType: STAGECOACH_PROJECT_RESOURCE_TYPE,
});

/** Apply (create, replace, prune) a project's manifests. */
export const stagecoachManifestApplyPermission = createPermission({
  name: 'stagecoach.manifests.apply',
  attributes: { action: 'update' },
  resourceType: STAGECOACH_PROJECT_RESOURCE_TYPE,
});

/** Ask a project's warehouse to discover now. */
export const stagecoachRefreshPermission = createPermission({
  name: 'stagecoach.warehouse.refresh',
  attributes: { action: 'update' },
  resourceType: STAGECOACH_PROJECT_RESOURCE_TYPE,
});

/** Change a project's freight: its alias. */
export const stagecoachFreightUpdatePermission = createPermission({
  name: 'stagecoach.freight.update',
  attributes: { action: 'update' },
  resourceType: STAGECOACH_PROJECT_RESOURCE_TYPE,
});

/** Assemble freight by hand from artifacts a project's warehouse discovered. */
export const stagecoachFreightCreatePermission = createPermission({
  name: 'stagecoach.freight.create',
  attributes: { action: 'create' },
  resourceType: STAGECOACH_PROJECT_RESOURCE_TYPE,
});

/** Start a promotion of freight into a stage. */
export const stagecoachPromotePermission = createPermission({
  name: 'stagecoach.promotion.create',
  attributes: { action: 'create' },
  resourceType: STAGECOACH_STAGE_RESOURCE_TYPE,
});

/** Abort a pending, waiting or running promotion of a stage. */
export const stagecoachPromotionAbortPermission = createPermission({
  name: 'stagecoach.promotion.abort',
  attributes: { action: 'update' },
  resourceType: STAGECOACH_STAGE_RESOURCE_TYPE,
});

/** Approve freight for a stage: it may then enter that stage unverified and unsoaked. */
export const stagecoachFreightApprovePermission = createPermission({
  name: 'stagecoach.freight.approve',
  attributes: { action: 'update' },
  resourceType: STAGECOACH_STAGE_RESOURCE_TYPE,
});

/** Release a stage's auto-promotion hold, so that auto-promotion resumes there. */
export const stagecoachAutoPromotionHoldReleasePermission = createPermission({
  name: 'stagecoach.stage.auto-promotion-hold.release',
  attributes: { action: 'update' },
  resourceType: STAGECOACH_STAGE_RESOURCE_TYPE,
});

/** Verify a stage again, or abort its running verification. */
export const stagecoachVerifyPermission = createPermission({
  name: 'stagecoach.stage.verify',
  attributes: { action: 'update' },
  resourceType: STAGECOACH_STAGE_RESOURCE_TYPE,
});

/**
 * Change the cluster scope: the ClusterPromotionTasks every project's stages may call, and the
 * ClusterConfig (commit identity, links of every project). Not tied to a resource: a policy
 * grants it to a platform team.
 */
export const stagecoachClusterUpdatePermission = createPermission({
  name: 'stagecoach.cluster.update',
  attributes: { action: 'update' },
});

/** Read the cluster scope: its ClusterPromotionTasks, ClusterConfig and apply history. */
export const stagecoachClusterReadPermission = createPermission({
  name: 'stagecoach.cluster.read',
  attributes: { action: 'read' },
});

export const stagecoachProjectPermissions = [
  stagecoachProjectReadPermission,
  stagecoachManifestApplyPermission,
  stagecoachRefreshPermission,
  stagecoachFreightUpdatePermission,
  stagecoachFreightCreatePermission,
];

export const stagecoachStagePermissions = [
  stagecoachPromotePermission,
  stagecoachPromotionAbortPermission,
  stagecoachFreightApprovePermission,
  stagecoachAutoPromotionHoldReleasePermission,
  stagecoachVerifyPermission,
];

/** The cluster scope's permissions, which name no resource. */
export const stagecoachClusterPermissions = [stagecoachClusterReadPermission, stagecoachClusterUpdatePermission];

/** The permissions on projects and stages (the cluster scope's are stagecoachClusterPermissions). */
export const stagecoachPermissions = [...stagecoachProjectPermissions, ...stagecoachStagePermissions];
