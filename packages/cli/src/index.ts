/**
 * The `stagecoach` command line: `stagecoach import kargo` imports a Kargo installation's
 * projects into Stagecoach.
 *
 * @packageDocumentation
 */
export { runCli, type CliIo } from './cli';
export {
  importKargo,
  type ImportReport,
  type ProjectReport,
  type DocumentReport,
} from './kargo/importKargo';
