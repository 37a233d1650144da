import { createBackendModule } from '@backstage/backend-plugin-api';
import { stagecoachSubscriptionKindsExtensionPoint } from '@stagecoach/plugin-stagecoach-node';
import { releaseFeedKind } from './releaseFeed';

/** Adds this organisation's own subscription kinds to Stagecoach (docs/extending.md). */
export default createBackendModule({
  pluginId: 'stagecoach',
  moduleId: 'example-kinds',
  register(reg) {
    reg.registerInit({
      deps: { kinds: stagecoachSubscriptionKindsExtensionPoint },
      async init({ kinds }) {
        kinds.addKinds(releaseFeedKind);
      },
    });
  },
});
