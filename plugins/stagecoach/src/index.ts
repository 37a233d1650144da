/**
 * Stagecoach frontend: the Promotions tab for catalog entities.
 *
 * @packageDocumentation
 */
export {
  stagecoachPlugin,
  EntityStagecoachContent,
  isStagecoachAvailable,
} from './plugin';
export {
  StagecoachClient,
  stagecoachApiRef,
  type StagecoachApi,
  type StagecoachEntityRef,
} from './api';
