export { createPipelineCreateAction } from './pipelineCreate';
export { createManifestsApplyAction } from './manifestsApply';
export { createFreightCreateAction } from './freightCreate';
export { createPromoteAction } from './promote';
export { createFreightWaitAction } from './freightWait';
export type { StagecoachActionOptions } from './stagecoachApi';
