import type { Config } from '@backstage/config';
import {
  AuthorizeResult,
  isResourcePermission,
  PolicyDecision,
} from '@backstage/plugin-permission-common';
import type { PermissionPolicy, PolicyQuery, PolicyQueryUser } from '@backstage/plugin-permission-node';
import {
  createStagecoachProjectConditionalDecision,
  createStagecoachStageConditionalDecision,
  stagecoachProjectConditions,
  stagecoachStageConditions,
} from '@stagecoach/plugin-stagecoach-backend';
import {
  STAGECOACH_PROJECT_RESOURCE_TYPE,
  STAGECOACH_STAGE_RESOURCE_TYPE,
} from '@stagecoach/plugin-stagecoach-common';

/** The example policy's settings, under `permission.stagecoach` in app-config. */
export interface StagecoachExamplePolicyOptions {
  /** Entity refs (groups or users) that may do everything. */
  admins: string[];
  /** The stage label that marks production stages, and its values. */
  protectedLabel: { label: string; values: string[] };
}

export function readStagecoachExamplePolicyOptions(config: Config): StagecoachExamplePolicyOptions {
  const c = config.getOptionalConfig('permission.stagecoach');
  return {
    admins: c?.getOptionalStringArray('admins') ?? ['group:default/platform-team'],
    protectedLabel: {
      label: c?.getOptionalString('protectedStages.label') ?? 'env',
      values: c?.getOptionalStringArray('protectedStages.values') ?? ['prod'],
    },
  };
}

/**
 * The host's permission policy, a working example of Stagecoach's tenancy (docs/permissions.md):
 *
 * - everyone signed in reads every project;
 * - owners of a catalog entity annotated with the project (directly or through a group)
 *   change it: apply manifests, refresh, freight, and promote, approve, abort and verify in
 *   its stages — except stages labelled `env: prod`;
 * - admins (by default the group `platform-team`) do everything, prod included; they alone
 *   change the cluster scope (`stagecoach.cluster.update`, a permission with no resource: the
 *   other users' changes end in the final DENY), which everyone reads.
 *
 * Other plugins' permissions are allowed, as the allow-all policy this replaces did.
 */
export class StagecoachExamplePolicy implements PermissionPolicy {
  constructor(private readonly options: StagecoachExamplePolicyOptions) {}

  async handle(request: PolicyQuery, user?: PolicyQueryUser): Promise<PolicyDecision> {
    const { permission } = request;
    if (!permission.name.startsWith('stagecoach.')) return { result: AuthorizeResult.ALLOW };

    const claims = user?.info.ownershipEntityRefs ?? [];
    if (claims.some(ref => this.options.admins.includes(ref))) return { result: AuthorizeResult.ALLOW };
    if (permission.attributes.action === 'read') return { result: AuthorizeResult.ALLOW };

    if (isResourcePermission(permission, STAGECOACH_PROJECT_RESOURCE_TYPE)) {
      return createStagecoachProjectConditionalDecision(
        permission,
        stagecoachProjectConditions.isProjectOwner({ claims }),
      );
    }
    if (isResourcePermission(permission, STAGECOACH_STAGE_RESOURCE_TYPE)) {
      return createStagecoachStageConditionalDecision(permission, {
        allOf: [
          stagecoachStageConditions.isProjectOwner({ claims }),
          { not: stagecoachStageConditions.hasStageLabel(this.options.protectedLabel) },
        ],
      });
    }
    return { result: AuthorizeResult.DENY };
  }
}
