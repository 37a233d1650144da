/**
 * A Git smart-HTTP server on loopback, and helpers to seed bare repositories:
 * the Git host of the demo and of the tests.
 *
 * @packageDocumentation
 */
export { startGitHttpServer } from './GitHttpServer';
export type { GitHttpServer, GitHttpServerOptions } from './GitHttpServer';
export { createBareRepo, git } from './repos';
export type { SeedCommit } from './repos';
