/**
 * Stagecoach's backend plugin: warehouses discover artifacts and make freight; stages
 * receive freight through promotions that run steps against Git.
 *
 * @packageDocumentation
 */
export { stagecoachPlugin as default } from './plugin';
export { StagecoachEngine } from './app';
export type { StagecoachEngineOptions } from './app';
export {
  stagecoachProjectConditions,
  stagecoachStageConditions,
  createStagecoachProjectConditionalDecision,
  createStagecoachStageConditionalDecision,
  projectPermissionRules,
  stagePermissionRules,
} from './service/permissions';
export type { ProjectResource, StageResource, StagecoachQuery } from './service/permissions';
