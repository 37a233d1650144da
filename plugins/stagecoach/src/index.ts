/**
 * Stagecoach frontend: the Promotions tab and the overview card for catalog entities.
 *
 * @packageDocumentation
 */
export {
  stagecoachPlugin,
  EntityStagecoachContent,
  EntityStagecoachOverviewCard,
  isStagecoachAvailable,
} from './plugin';
export type { EntityStagecoachOverviewCardProps } from './components/EntityStagecoachOverviewCard';
export {
  StagecoachClient,
  stagecoachApiRef,
  type StagecoachApi,
  type StagecoachEntityRef,
} from './api';
