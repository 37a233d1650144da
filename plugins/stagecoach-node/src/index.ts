/**
 * Extension points of the Stagecoach backend plugin: promotion steps, subscription kinds and
 * verification providers that other backend modules add.
 *
 * @packageDocumentation
 */
export {};
