import { createBackendModule } from '@backstage/backend-plugin-api';
import { stagecoachPromotionStepsExtensionPoint } from '@stagecoach/plugin-stagecoach-node';
import { writeReleaseNotes } from './writeReleaseNotes';

/** Adds this organisation's own promotion steps to Stagecoach (docs/extending.md). */
export default createBackendModule({
  pluginId: 'stagecoach',
  moduleId: 'example-steps',
  register(reg) {
    reg.registerInit({
      deps: { steps: stagecoachPromotionStepsExtensionPoint },
      async init({ steps }) {
        steps.addSteps(writeReleaseNotes);
      },
    });
  },
});
