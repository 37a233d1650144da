import { usePermission } from '@backstage/plugin-permission-react';
import {
  projectResourceRef,
  STAGECOACH_STAGE_RESOURCE_TYPE,
  stageResourceRef,
  type stagecoachPermissions,
} from '@stagecoach/plugin-stagecoach-common';

/** One of Stagecoach's permissions (on a project or on a stage). */
export type StagecoachPermission = (typeof stagecoachPermissions)[number];

/** What the user may do, as the permission framework answered. */
export interface StagecoachPermissionAnswer {
  /** True only once the answer is ALLOW. */
  allowed: boolean;
  /** Not answered yet: the activity is unavailable, with nothing to say why. */
  loading: boolean;
  /** Why the activity is unavailable, in words for the user; set when denied or unanswered. */
  reason?: string;
}

/**
 * What the user sees when the policy denies them an activity: the activity, the permission's
 * name (for an admin who reads the policy) and whom to ask.
 */
export function deniedReason(
  permission: StagecoachPermission,
  project: string,
  activity: string,
): string {
  return `Your permissions do not allow ${activity} (${permission.name}). Ask the owners of project ${project} or a Stagecoach admin.`;
}

/** What the user sees when their permissions could not be checked. */
export function uncheckedReason(activity: string, error: Error): string {
  return `Could not check whether your permissions allow ${activity}: ${error.message}`;
}

/**
 * The resource ref the backend checks: the project's name for project permissions,
 * `<project>:<stage>` for stage permissions (undefined without a stage: usePermission denies).
 */
function resourceRefOf(
  permission: StagecoachPermission,
  project: string,
  stage: string | undefined,
): string | undefined {
  if (permission.resourceType !== STAGECOACH_STAGE_RESOURCE_TYPE) {
    return projectResourceRef(project);
  }
  return stage === undefined ? undefined : stageResourceRef(project, stage);
}

/**
 * Asks the permission framework (`usePermission`) whether the user may do something to a
 * project or one of its stages, and says why not.
 *
 * `activity` names what the permission allows here, for the reason ("promoting to prod").
 */
export function useStagecoachPermission(options: {
  permission: StagecoachPermission;
  project: string;
  stage?: string;
  activity: string;
}): StagecoachPermissionAnswer {
  const { permission, project, stage, activity } = options;
  const resourceRef = resourceRefOf(permission, project, stage);
  const { allowed, loading, error } = usePermission({
    permission,
    resourceRef,
  });
  if (allowed || loading) return { allowed, loading };
  return {
    allowed: false,
    loading: false,
    reason: error
      ? uncheckedReason(activity, error)
      : deniedReason(permission, project, activity),
  };
}
