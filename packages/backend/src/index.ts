import { createBackend } from '@backstage/backend-defaults';

const backend = createBackend();

backend.add(import('@backstage/plugin-app-backend'));

backend.add(import('@backstage/plugin-auth-backend'));
backend.add(import('@backstage/plugin-auth-backend-module-guest-provider'));

backend.add(import('@backstage/plugin-catalog-backend'));
backend.add(
  import('@backstage/plugin-catalog-backend-module-scaffolder-entity-model'),
);
backend.add(import('@backstage/plugin-catalog-backend-module-logs'));

backend.add(import('@backstage/plugin-scaffolder-backend'));
backend.add(import('@stagecoach/plugin-scaffolder-backend-module-stagecoach'));

backend.add(import('@backstage/plugin-permission-backend'));
// the example tenancy policy: everyone reads, owners promote, prod needs platform-team
backend.add(import('./permissions/module'));

backend.add(import('./demo'));
backend.add(import('@stagecoach/plugin-stagecoach-backend'));
// an example of the organisation's own promotion steps: write-release-notes
backend.add(import('./stagecoachSteps/module'));
// and of its own verification providers: statuspage
backend.add(import('./stagecoachProviders/module'));
// and of its own subscription kinds: releaseFeed
backend.add(import('./stagecoachKinds/module'));

backend.start();
