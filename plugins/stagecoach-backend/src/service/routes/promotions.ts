import { InputError } from '@backstage/errors';
import {
  stagecoachPromotePermission,
  stagecoachPromotionAbortPermission,
} from '@stagecoach/plugin-stagecoach-common';
import type { RouteContext } from './RouteContext';

/** Promotions: queueing freight into a stage, the history, one promotion, aborting. */
export function promotionsRoutes({
  router,
  engine,
  readProject,
  change,
  actorOf,
  limitParam,
  stringParam,
}: RouteContext): void {
  router.post(
    '/projects/:project/stages/:stage/promotions',
    async (req, res) => {
      const { project, stage } = req.params;
      const body = (req.body ?? {}) as {
        freight?: unknown;
        freightAlias?: unknown;
        origin?: unknown;
        supersede?: unknown;
      };
      const given = [body.freight, body.freightAlias, body.origin].filter(
        v => v !== undefined,
      ).length;
      if (given !== 1) {
        throw new InputError(
          'the body must name the freight to promote, one way: {"freight": "<id or alias>"}, {"freightAlias": "<alias>"} ' +
            'or {"origin": {"kind": "Warehouse", "name": "<warehouse>"}} (the newest freight of that warehouse the stage may take)',
        );
      }
      if (body.supersede !== undefined && typeof body.supersede !== 'boolean') {
        throw new InputError('supersede must be true or false');
      }
      let origin: string | undefined;
      if (body.origin !== undefined) {
        const o = body.origin as { kind?: unknown; name?: unknown } | null;
        if (
          typeof o !== 'object' ||
          o === null ||
          (o.kind ?? 'Warehouse') !== 'Warehouse' ||
          typeof o.name !== 'string' ||
          !o.name
        ) {
          throw new InputError(
            'origin must be {"kind": "Warehouse", "name": "<warehouse>"}',
          );
        }
        origin = o.name;
      }
      const named = body.freight ?? body.freightAlias;
      if (origin === undefined && (typeof named !== 'string' || !named)) {
        throw new InputError('freight must be the ID or alias of a freight');
      }
      const promotion = await change(
        req,
        {
          eventId: 'promotion-create',
          permission: stagecoachPromotePermission,
          project,
          stage,
          meta: origin ? { origin } : { freight: named as string },
        },
        async credentials => {
          const ref = origin
            ? (await engine.promotions.candidateFreight(project, stage, origin))
                .id
            : (named as string);
          return engine.promotions.promote(
            project,
            stage,
            ref,
            actorOf(credentials),
            { supersede: body.supersede as boolean | undefined },
          );
        },
        p => ({ promotion: p.id, freight: p.freight.id }),
      );
      res.status(202).json(promotion);
    },
  );

  router.get('/projects/:project/promotions', async (req, res) => {
    await readProject(req, req.params.project);
    const items = await engine.promotions.list(req.params.project, {
      stage: stringParam(req, 'stage'),
      limit: limitParam(req),
    });
    res.json({ items });
  });

  router.get('/projects/:project/promotions/:id', async (req, res) => {
    await readProject(req, req.params.project);
    res.json(await engine.promotions.get(req.params.project, req.params.id));
  });

  router.post('/projects/:project/promotions/:id/abort', async (req, res) => {
    const { project, id } = req.params;
    // the stage it concerns is the promotion's: reading it needs the project's read permission
    await readProject(req, project);
    const { stage } = await engine.promotions.get(project, id);
    const promotion = await change(
      req,
      {
        eventId: 'promotion-abort',
        permission: stagecoachPromotionAbortPermission,
        project,
        stage,
        meta: { promotion: id },
      },
      credentials => engine.promotions.abort(project, id, actorOf(credentials)),
      p => ({ phase: p.phase }),
    );
    res.status(202).json(promotion);
  });
}
