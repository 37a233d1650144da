export { EntityStagecoachContent } from './EntityStagecoachContent';
