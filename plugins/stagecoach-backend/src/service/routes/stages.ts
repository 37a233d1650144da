import { stagecoachAutoPromotionHoldReleasePermission } from '@stagecoach/plugin-stagecoach-common';
import type { RouteContext } from './RouteContext';

/** Stages: their state, the freight each may take and why, and releasing an auto-promotion hold. */
export function stagesRoutes({
  router,
  engine,
  readProject,
  change,
  actorOf,
  pageLimitParam,
  booleanParam,
  stringParam,
}: RouteContext): void {
  router.get('/projects/:project/stages', async (req, res) => {
    await readProject(req, req.params.project);
    res.json({ items: await engine.stages.list(req.params.project) });
  });

  router.get('/projects/:project/stages/:stage', async (req, res) => {
    await readProject(req, req.params.project);
    res.json(await engine.stages.get(req.params.project, req.params.stage));
  });

  // a page of the freight of the stage's warehouses: available or not, and why
  router.get('/projects/:project/stages/:stage/freight', async (req, res) => {
    await readProject(req, req.params.project);
    res.json(
      await engine.stages.freight(req.params.project, req.params.stage, {
        warehouse: stringParam(req, 'warehouse'),
        q: stringParam(req, 'q'),
        available: booleanParam(req, 'available'),
        limit: pageLimitParam(req),
        cursor: stringParam(req, 'cursor'),
      }),
    );
  });

  router.delete(
    '/projects/:project/stages/:stage/auto-promotion-hold',
    async (req, res) => {
      const { project, stage } = req.params;
      const origin = stringParam(req, 'origin');
      res.json(
        await change(
          req,
          {
            eventId: 'auto-promotion-hold-release',
            permission: stagecoachAutoPromotionHoldReleasePermission,
            project,
            stage,
            meta: origin ? { origin } : {},
          },
          credentials =>
            engine.stages.releaseAutoPromotionHold(
              project,
              stage,
              origin,
              actorOf(credentials),
            ),
        ),
      );
    },
  );
}
