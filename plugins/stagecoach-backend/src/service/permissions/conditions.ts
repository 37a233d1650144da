import { createConditionExports } from '@backstage/plugin-permission-node';
import { projectResourceRef, stageResourceRef } from './resources';
import { projectPermissionRules, stagePermissionRules } from './rules';

/**
 * For permission policy authors: conditions on projects and stages, and the functions that
 * wrap them into conditional decisions. See docs/permissions.md.
 *
 * @example
 * ```ts
 * if (isPermission(request.permission, stagecoachPromotePermission)) {
 *   return createStagecoachStageConditionalDecision(request.permission, {
 *     allOf: [
 *       stagecoachStageConditions.isProjectOwner({ claims: user.info.ownershipEntityRefs }),
 *       { not: stagecoachStageConditions.hasStageLabel({ label: 'env', values: ['prod'] }) },
 *     ],
 *   });
 * }
 * ```
 */
const projectExports = createConditionExports({ resourceRef: projectResourceRef, rules: projectPermissionRules });
const stageExports = createConditionExports({ resourceRef: stageResourceRef, rules: stagePermissionRules });

export const stagecoachProjectConditions = projectExports.conditions;
export const createStagecoachProjectConditionalDecision = projectExports.createConditionalDecision;
export const stagecoachStageConditions = stageExports.conditions;
export const createStagecoachStageConditionalDecision = stageExports.createConditionalDecision;
