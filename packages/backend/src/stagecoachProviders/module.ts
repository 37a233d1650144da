import { createBackendModule } from '@backstage/backend-plugin-api';
import { stagecoachVerificationProvidersExtensionPoint } from '@stagecoach/plugin-stagecoach-node';
import { statuspageProvider } from './statuspage';

/** Adds this organisation's own verification providers to Stagecoach (docs/extending.md). */
export default createBackendModule({
  pluginId: 'stagecoach',
  moduleId: 'example-providers',
  register(reg) {
    reg.registerInit({
      deps: { providers: stagecoachVerificationProvidersExtensionPoint },
      async init({ providers }) {
        providers.addProviders(statuspageProvider);
      },
    });
  },
});
