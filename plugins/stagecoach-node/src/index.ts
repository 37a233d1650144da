/**
 * Extension points of the Stagecoach backend plugin, for backend modules that add to it:
 * promotion steps and verification providers, with their public contracts.
 *
 * @packageDocumentation
 */
export * from './extensions';
export type {
  StagecoachHttpRequest,
  StagecoachHttpResponse,
  StagecoachLogger,
} from './shared';
export * from './steps';
export * from './verification';
