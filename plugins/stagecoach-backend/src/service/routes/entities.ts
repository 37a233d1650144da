import { NotFoundError } from '@backstage/errors';
import {
  ANNOTATION_ARGOCD_APP_NAME,
  ANNOTATION_ARGOCD_APP_NAMESPACE,
  ANNOTATION_ARGOCD_APP_SELECTOR,
  ANNOTATION_PIPELINE_REF,
  ANNOTATION_PROJECT,
  ANNOTATION_WAREHOUSES,
  stagecoachProjectReadPermission,
} from '@stagecoach/plugin-stagecoach-common';
import type { RouteContext } from './RouteContext';

/** What one catalog entity's page shows: the pipeline of the project it is annotated with. */
export function entitiesRoutes({
  router,
  engine,
  httpAuth,
  access,
  catalog,
}: RouteContext): void {
  router.get('/entities/:kind/:namespace/:name/pipeline', async (req, res) => {
    const credentials = await httpAuth.credentials(req);
    const { kind, namespace, name } = req.params;
    const ref = `${kind}:${namespace}/${name}`.toLocaleLowerCase('en-US');
    const entity = await catalog.getEntityByRef(ref, { credentials });
    if (!entity)
      throw new NotFoundError(`entity ${ref} not found in the catalog`);
    const project = entity.metadata.annotations?.[ANNOTATION_PROJECT];
    if (!project) {
      throw new NotFoundError(
        `entity ${ref} has no ${ANNOTATION_PROJECT} annotation`,
      );
    }
    await access.checkProject(
      credentials,
      stagecoachProjectReadPermission,
      project,
    );
    const warehouses = entity.metadata.annotations?.[
      ANNOTATION_WAREHOUSES
    ]?.split(',')
      .map(s => s.trim())
      .filter(Boolean);
    const annotations = entity.metadata.annotations ?? {};
    res.json(
      await engine.entities.get(
        project,
        warehouses,
        {
          appName: annotations[ANNOTATION_ARGOCD_APP_NAME],
          appSelector: annotations[ANNOTATION_ARGOCD_APP_SELECTOR],
          appNamespace: annotations[ANNOTATION_ARGOCD_APP_NAMESPACE],
        },
        { ref, pipelineRef: annotations[ANNOTATION_PIPELINE_REF] },
      ),
    );
  });
}
