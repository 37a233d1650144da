export {
  StagecoachClient,
  stagecoachApiRef,
  type StagecoachApi,
  type StagecoachEntityRef,
} from './StagecoachClient';
export { errorMessage, errorStatus } from './errors';
