export {
  EntityStagecoachOverviewCard,
  type EntityStagecoachOverviewCardProps,
} from './EntityStagecoachOverviewCard';
