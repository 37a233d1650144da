export {
  StagecoachClient,
  stagecoachApiRef,
  type FreightPageQuery,
  type StagecoachApi,
  type StagecoachEntityRef,
} from './StagecoachClient';
export { errorMessage, errorStatus } from './errors';
