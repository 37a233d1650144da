import {
  ApiBlueprint,
  createFrontendPlugin,
  discoveryApiRef,
  fetchApiRef,
} from '@backstage/frontend-plugin-api';
import {
  EntityCardBlueprint,
  EntityContentBlueprint,
} from '@backstage/plugin-catalog-react/alpha';
import { StagecoachClient, stagecoachApiRef } from './api';
import { isStagecoachAvailable } from './conditions';

/** The Stagecoach API client, for the new frontend system. */
export const stagecoachApi = ApiBlueprint.make({
  params: defineParams =>
    defineParams({
      api: stagecoachApiRef,
      deps: { discoveryApi: discoveryApiRef, fetchApi: fetchApiRef },
      factory: ({ discoveryApi, fetchApi }) =>
        new StagecoachClient({ discoveryApi, fetchApi }),
    }),
});

/** The Promotions tab on the pages of entities annotated with `stagecoach.io/project`. */
export const stagecoachEntityContent = EntityContentBlueprint.make({
  params: {
    path: 'stagecoach',
    title: 'Promotions',
    filter: isStagecoachAvailable,
    loader: () =>
      import('./components/EntityStagecoachContent').then(m => (
        <m.EntityStagecoachContent />
      )),
  },
});

/**
 * The overview card (versions per stage, health, verification, last promotion) on the
 * Overview tab of entities annotated with `stagecoach.io/project`.
 */
export const stagecoachEntityOverviewCard = EntityCardBlueprint.make({
  name: 'overview',
  params: {
    filter: isStagecoachAvailable,
    loader: () =>
      import('./components/EntityStagecoachOverviewCard').then(m => (
        <m.EntityStagecoachOverviewCard />
      )),
  },
});

/** Stagecoach for apps on the new frontend system. */
export default createFrontendPlugin({
  pluginId: 'stagecoach',
  extensions: [
    stagecoachApi,
    stagecoachEntityContent,
    stagecoachEntityOverviewCard,
  ],
});
