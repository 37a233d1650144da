export { StagecoachAccess, type PipelineLookup } from './access';
export { ProjectOwners, type ProjectResource, type StageResource, type StagecoachQuery } from './resources';
export {
  stagecoachProjectConditions,
  stagecoachStageConditions,
  createStagecoachProjectConditionalDecision,
  createStagecoachStageConditionalDecision,
} from './conditions';
export { projectPermissionRules, stagePermissionRules } from './rules';
