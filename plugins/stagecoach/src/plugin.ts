import {
  createApiFactory,
  createComponentExtension,
  createPlugin,
  createRoutableExtension,
  discoveryApiRef,
  fetchApiRef,
} from '@backstage/core-plugin-api';
import { StagecoachClient, stagecoachApiRef } from './api';
import { rootRouteRef } from './routes';

export { isStagecoachAvailable } from './conditions';

export const stagecoachPlugin = createPlugin({
  id: 'stagecoach',
  apis: [
    createApiFactory({
      api: stagecoachApiRef,
      deps: { discoveryApi: discoveryApiRef, fetchApi: fetchApiRef },
      factory: ({ discoveryApi, fetchApi }) =>
        new StagecoachClient({ discoveryApi, fetchApi }),
    }),
  ],
  routes: {
    root: rootRouteRef,
  },
});

/** The entity page's Promotions tab: stages, their freight, promotions and progress. */
export const EntityStagecoachContent = stagecoachPlugin.provide(
  createRoutableExtension({
    name: 'EntityStagecoachContent',
    component: () =>
      import('./components/EntityStagecoachContent').then(
        m => m.EntityStagecoachContent,
      ),
    mountPoint: rootRouteRef,
  }),
);

/**
 * A card for the entity's Overview tab: what version runs in each stage, its health and
 * verification, its last promotion, and a link to the Promotions tab.
 */
export const EntityStagecoachOverviewCard = stagecoachPlugin.provide(
  createComponentExtension({
    name: 'EntityStagecoachOverviewCard',
    component: {
      lazy: () =>
        import('./components/EntityStagecoachOverviewCard').then(
          m => m.EntityStagecoachOverviewCard,
        ),
    },
  }),
);
