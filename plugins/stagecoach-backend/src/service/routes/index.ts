import { clusterRoutes } from './cluster';
import { entitiesRoutes } from './entities';
import { freightRoutes } from './freight';
import { projectsRoutes } from './projects';
import { promotionsRoutes } from './promotions';
import type { RouteContext } from './RouteContext';
import { stagesRoutes } from './stages';
import { verificationsRoutes } from './verifications';
import { warehousesRoutes } from './warehouses';

export { createRouteContext } from './RouteContext';
export type { ApiRequest, ApiRouter, RouteContext } from './RouteContext';

/**
 * The REST API's routes, one group per aggregate. A route is described in
 * src/schema/openapi.yaml (the contract; its types are generated from it) and added in its
 * group here; the router test checks that the two list the same routes.
 */
export const routeGroups: ReadonlyArray<(ctx: RouteContext) => void> = [
  projectsRoutes,
  warehousesRoutes,
  freightRoutes,
  stagesRoutes,
  promotionsRoutes,
  verificationsRoutes,
  entitiesRoutes,
  clusterRoutes,
];
