import { InputError } from '@backstage/errors';
import { stagecoachManifestApplyPermission } from '@stagecoach/plugin-stagecoach-common';
import { readApplyRequest } from '../../manifests/applyRequest';
import type { RouteContext } from './RouteContext';

/** Projects and their manifests: the list (filtered by what the caller may read), one project, applying manifests and their history. */
export function projectsRoutes({
  router,
  engine,
  httpAuth,
  access,
  readProject,
  change,
  actorOf,
  limitParam,
}: RouteContext): void {
  router.get('/projects', async (req, res) => {
    const credentials = await httpAuth.credentials(req);
    const projects = await engine.projects.list();
    const readable = await access.readableProjects(
      credentials,
      projects.map(p => p.name),
    );
    res.json({ items: projects.filter(p => readable.has(p.name)) });
  });

  router.get('/projects/:project', async (req, res) => {
    await readProject(req, req.params.project);
    res.json(await engine.projects.get(req.params.project));
  });

  router.put('/projects/:project/manifests', async (req, res) => {
    const { project } = req.params;
    const body: unknown = req.body;
    let text: string | undefined;
    if (typeof body === 'string') text = body;
    else if (
      typeof (body as { manifests?: unknown } | undefined)?.manifests ===
      'string'
    ) {
      text = (body as { manifests: string }).manifests;
    }
    const result = await change(
      req,
      {
        eventId: 'manifests-apply',
        permission: stagecoachManifestApplyPermission,
        project,
        meta: {},
      },
      async credentials => {
        if (!text?.trim()) {
          throw new InputError(
            'send the manifests as YAML (Content-Type: application/yaml) or as JSON {"manifests": "<yaml>"}',
          );
        }
        // ?prune=true to remove what the set does not define; the revision is recorded with the actor
        return engine.projects.applyManifests(project, text, {
          ...readApplyRequest(req.query, body),
          actor: actorOf(credentials),
        });
      },
      // credentials by name only; warnings say which documents were skipped
      r => ({
        warehouses: r.warehouses,
        stages: r.stages,
        ...(r.credentials ? { credentials: r.credentials } : {}),
        ...(r.warnings ? { skipped: r.warnings.map(w => w.resource ?? `document ${w.document}`) } : {}),
      }),
    );
    res.json(result);
  });

  // the project's credentials (Secrets in its manifests): names, types and repositories, never values
  router.get('/projects/:project/credentials', async (req, res) => {
    await readProject(req, req.params.project);
    res.json({ items: await engine.projects.credentials(req.params.project) });
  });

  // who applied which manifests, newest first
  router.get('/projects/:project/manifests/history', async (req, res) => {
    await readProject(req, req.params.project);
    res.json({
      items: await engine.projects.manifestHistory(
        req.params.project,
        limitParam(req),
      ),
    });
  });
}
