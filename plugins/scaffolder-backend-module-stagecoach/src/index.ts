/**
 * Scaffolder actions for Stagecoach: write a pipeline's manifests, apply them, create freight,
 * promote and wait, as the user running the template.
 *
 * @packageDocumentation
 */
export { scaffolderModuleStagecoach as default } from './module';
export * from './actions';
