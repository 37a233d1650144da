/**
 * Extension points of the Stagecoach backend plugin, for backend modules that add to it:
 * promotion steps, with their public contract.
 *
 * @packageDocumentation
 */
export * from './extensions';
export * from './steps';
