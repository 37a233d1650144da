import { stagecoachRefreshPermission } from '@stagecoach/plugin-stagecoach-common';
import type { RouteContext } from './RouteContext';

/** Warehouses: what they subscribe to and discovered, and asking for a discovery now. */
export function warehousesRoutes({
  router,
  engine,
  onRefresh,
  readProject,
  change,
}: RouteContext): void {
  router.get('/projects/:project/warehouses', async (req, res) => {
    await readProject(req, req.params.project);
    res.json({ items: await engine.warehouses.list(req.params.project) });
  });

  router.get('/projects/:project/warehouses/:warehouse', async (req, res) => {
    await readProject(req, req.params.project);
    res.json(
      await engine.warehouses.get(req.params.project, req.params.warehouse),
    );
  });

  router.post(
    '/projects/:project/warehouses/:warehouse/refresh',
    async (req, res) => {
      const { project, warehouse } = req.params;
      await change(
        req,
        {
          eventId: 'warehouse-refresh',
          permission: stagecoachRefreshPermission,
          project,
          meta: { warehouse },
        },
        () => engine.warehouses.refresh(project, warehouse),
      );
      await onRefresh?.();
      res.status(202).json(await engine.warehouses.get(project, warehouse));
    },
  );
}
