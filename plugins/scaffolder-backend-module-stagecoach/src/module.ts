import {
  coreServices,
  createBackendModule,
} from '@backstage/backend-plugin-api';
import { scaffolderActionsExtensionPoint } from '@backstage/plugin-scaffolder-node';
import {
  createFreightCreateAction,
  createFreightWaitAction,
  createManifestsApplyAction,
  createPipelineCreateAction,
  createPromoteAction,
} from './actions';

/**
 * The scaffolder's Stagecoach actions: stagecoach:pipeline:create, stagecoach:manifests:apply,
 * stagecoach:freight:create, stagecoach:promote and stagecoach:freight:wait. Those that call
 * Stagecoach do so as the user running the template.
 */
export const scaffolderModuleStagecoach = createBackendModule({
  pluginId: 'scaffolder',
  moduleId: 'stagecoach',
  register(reg) {
    reg.registerInit({
      deps: {
        scaffolderActions: scaffolderActionsExtensionPoint,
        discovery: coreServices.discovery,
        auth: coreServices.auth,
      },
      async init({ scaffolderActions, discovery, auth }) {
        const options = { discovery, auth };
        scaffolderActions.addActions(
          createPipelineCreateAction(),
          createManifestsApplyAction(options),
          createFreightCreateAction(options),
          createPromoteAction(options),
          createFreightWaitAction(options),
        );
      },
    });
  },
});
