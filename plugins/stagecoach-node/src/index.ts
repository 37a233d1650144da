/**
 * Extension points of the Stagecoach backend plugin, for backend modules that add to it:
 * promotion steps, subscription kinds and verification providers, with their public
 * contracts.
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
export * from './subscriptions';
export * from './verification';
