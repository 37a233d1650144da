import { InputError } from '@backstage/errors';
import {
  stagecoachFreightApprovePermission,
  stagecoachFreightCreatePermission,
  stagecoachFreightUpdatePermission,
} from '@stagecoach/plugin-stagecoach-common';
import type { RouteContext } from './RouteContext';

/** Freight: listing, assembling by hand, renaming, approving for a stage. */
export function freightRoutes({
  router,
  engine,
  readProject,
  change,
  actorOf,
  pageLimitParam,
  stringParam,
}: RouteContext): void {
  router.get('/projects/:project/freight', async (req, res) => {
    await readProject(req, req.params.project);
    res.json(
      await engine.freight.page(req.params.project, {
        stage: stringParam(req, 'stage'),
        warehouse: stringParam(req, 'warehouse') ?? stringParam(req, 'origin'),
        q: stringParam(req, 'q'),
        inStage: stringParam(req, 'inStage'),
        verifiedIn: stringParam(req, 'verifiedIn'),
        limit: pageLimitParam(req),
        cursor: stringParam(req, 'cursor'),
      }),
    );
  });

  // freight assembled by hand from what a warehouse discovered: 201 when new, 200 when it existed
  router.post('/projects/:project/freight', async (req, res) => {
    const { project } = req.params;
    const { freight, created } = await change(
      req,
      {
        eventId: 'freight-create',
        permission: stagecoachFreightCreatePermission,
        project,
        meta: {},
      },
      credentials =>
        engine.freight.create(project, req.body, actorOf(credentials)),
      r => ({ freight: r.freight.id, created: r.created }),
    );
    res.location(
      `${req.baseUrl}/projects/${encodeURIComponent(project)}/freight/${
        freight.id
      }`,
    );
    res.status(created ? 201 : 200).json(freight);
  });

  router.get('/projects/:project/freight/:freight', async (req, res) => {
    await readProject(req, req.params.project);
    res.json(await engine.freight.get(req.params.project, req.params.freight));
  });

  router.patch('/projects/:project/freight/:freight', async (req, res) => {
    const { project, freight } = req.params;
    const body = (req.body ?? {}) as { alias?: unknown };
    res.json(
      await change(
        req,
        {
          eventId: 'freight-update',
          permission: stagecoachFreightUpdatePermission,
          project,
          meta: { freight },
        },
        async () => {
          if (!('alias' in body))
            throw new InputError('send the new alias: {"alias": "<alias>"}');
          return engine.freight.setAlias(project, freight, body.alias);
        },
        f => ({ freight: f.id, alias: f.alias }),
      ),
    );
  });

  router.post(
    '/projects/:project/freight/:freight/approve',
    async (req, res) => {
      const { project, freight } = req.params;
      const stage = ((req.body ?? {}) as { stage?: unknown }).stage;
      if (typeof stage !== 'string' || !stage) {
        throw new InputError(
          'name the stage to approve the freight for: {"stage": "<stage>"}',
        );
      }
      res.json(
        await change(
          req,
          {
            eventId: 'freight-approve',
            permission: stagecoachFreightApprovePermission,
            project,
            stage,
            meta: { freight },
          },
          credentials =>
            engine.freight.approve(
              project,
              freight,
              stage,
              actorOf(credentials),
            ),
          f => ({ freight: f.id }),
        ),
      );
    },
  );
}
