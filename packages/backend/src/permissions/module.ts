import { coreServices, createBackendModule } from '@backstage/backend-plugin-api';
import { policyExtensionPoint } from '@backstage/plugin-permission-node/alpha';
import { readStagecoachExamplePolicyOptions, StagecoachExamplePolicy } from './StagecoachExamplePolicy';

/** Installs the example policy in the permission backend (instead of allow-all). */
export default createBackendModule({
  pluginId: 'permission',
  moduleId: 'stagecoach-example-policy',
  register(reg) {
    reg.registerInit({
      deps: { policy: policyExtensionPoint, config: coreServices.rootConfig },
      async init({ policy, config }) {
        policy.setPolicy(new StagecoachExamplePolicy(readStagecoachExamplePolicyOptions(config)));
      },
    });
  },
});
