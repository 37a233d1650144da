import { stagecoachVerifyPermission } from '@stagecoach/plugin-stagecoach-common';
import type { RouteContext } from './RouteContext';

/** Verifications: a stage's history, one run, verifying again, aborting. */
export function verificationsRoutes({
  router,
  engine,
  readProject,
  change,
  actorOf,
  limitParam,
}: RouteContext): void {
  // verification: history, one run, re-verify, abort (Kargo's POST /stages/:s/verification)
  router.get(
    '/projects/:project/stages/:stage/verifications',
    async (req, res) => {
      await readProject(req, req.params.project);
      res.json({
        items: await engine.verifications.list(
          req.params.project,
          req.params.stage,
          limitParam(req),
        ),
      });
    },
  );

  router.post(
    '/projects/:project/stages/:stage/verification',
    async (req, res) => {
      const { project, stage } = req.params;
      const verification = await change(
        req,
        {
          eventId: 'verification-create',
          permission: stagecoachVerifyPermission,
          project,
          stage,
          meta: {},
        },
        credentials =>
          engine.verifications.reverify(project, stage, actorOf(credentials)),
        v => ({ verification: v.id, freight: v.freight.id }),
      );
      res.status(202).json(verification);
    },
  );

  router.post(
    '/projects/:project/stages/:stage/verification/abort',
    async (req, res) => {
      const { project, stage } = req.params;
      res.json(
        await change(
          req,
          {
            eventId: 'verification-abort',
            permission: stagecoachVerifyPermission,
            project,
            stage,
            meta: {},
          },
          credentials =>
            engine.verifications.abort(project, stage, actorOf(credentials)),
          v => ({ verification: v.id }),
        ),
      );
    },
  );

  router.get('/projects/:project/verifications/:id', async (req, res) => {
    await readProject(req, req.params.project);
    res.json(await engine.verifications.get(req.params.project, req.params.id));
  });
}
