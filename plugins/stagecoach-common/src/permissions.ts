import { createPermission } from '@backstage/plugin-permission-common';

/** Read any Stagecoach resource: projects, warehouses, freight, stages, promotions. */
export const stagecoachReadPermission = createPermission({
  name: 'stagecoach.read',
  attributes: { action: 'read' },
});

/** Apply (create or replace) a project's manifests. */
export const stagecoachManifestApplyPermission = createPermission({
  name: 'stagecoach.manifests.apply',
  attributes: { action: 'update' },
});

/** Start a promotion of freight into a stage. */
export const stagecoachPromotePermission = createPermission({
  name: 'stagecoach.promotion.create',
  attributes: { action: 'create' },
});

/** Abort a pending, waiting or running promotion. */
export const stagecoachPromotionAbortPermission = createPermission({
  name: 'stagecoach.promotion.abort',
  attributes: { action: 'update' },
});

/** Ask a warehouse to discover now. */
export const stagecoachRefreshPermission = createPermission({
  name: 'stagecoach.warehouse.refresh',
  attributes: { action: 'update' },
});

/** Change freight: its alias. */
export const stagecoachFreightUpdatePermission = createPermission({
  name: 'stagecoach.freight.update',
  attributes: { action: 'update' },
});

/** Assemble freight by hand from artifacts a warehouse discovered. */
export const stagecoachFreightCreatePermission = createPermission({
  name: 'stagecoach.freight.create',
  attributes: { action: 'create' },
});

/** Approve freight for a stage: it may then enter that stage unverified and unsoaked. */
export const stagecoachFreightApprovePermission = createPermission({
  name: 'stagecoach.freight.approve',
  attributes: { action: 'update' },
});

/** Release a stage's auto-promotion hold, so that auto-promotion resumes there. */
export const stagecoachAutoPromotionHoldReleasePermission = createPermission({
  name: 'stagecoach.stage.auto-promotion-hold.release',
  attributes: { action: 'update' },
});

/** Verify a stage again, or abort its running verification. */
export const stagecoachVerifyPermission = createPermission({
  name: 'stagecoach.stage.verify',
  attributes: { action: 'update' },
});

export const stagecoachPermissions = [
  stagecoachVerifyPermission,
  stagecoachFreightApprovePermission,
  stagecoachAutoPromotionHoldReleasePermission,
  stagecoachFreightCreatePermission,
  stagecoachFreightUpdatePermission,
  stagecoachReadPermission,
  stagecoachManifestApplyPermission,
  stagecoachPromotePermission,
  stagecoachPromotionAbortPermission,
  stagecoachRefreshPermission,
];
