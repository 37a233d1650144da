/**
 * Types, the REST API's client, catalog annotations and permissions shared by the Stagecoach
 * plugins.
 *
 * @packageDocumentation
 */
export * from './annotations';
export * from './api';
export * from './client';
export * from './permissions';
