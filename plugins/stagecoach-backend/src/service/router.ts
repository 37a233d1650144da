import express, { NextFunction, Request, Response } from 'express';
import Router from 'express-promise-router';
import type {
  AuthService,
  HttpAuthService,
  LoggerService,
  PermissionsService,
} from '@backstage/backend-plugin-api';
import type { CatalogService } from '@backstage/plugin-catalog-node';
import { InputError, NotAllowedError, NotFoundError } from '@backstage/errors';
import { AuthorizeResult, BasicPermission } from '@backstage/plugin-permission-common';
import {
  ANNOTATION_ARGOCD_APP_NAME,
  ANNOTATION_ARGOCD_APP_NAMESPACE,
  ANNOTATION_ARGOCD_APP_SELECTOR,
  ANNOTATION_PROJECT,
  ANNOTATION_WAREHOUSES,
  stagecoachAutoPromotionHoldReleasePermission,
  stagecoachFreightApprovePermission,
  stagecoachFreightCreatePermission,
  stagecoachFreightUpdatePermission,
  stagecoachManifestApplyPermission,
  stagecoachPromotePermission,
  stagecoachPromotionAbortPermission,
  stagecoachRefreshPermission,
  stagecoachVerifyPermission,
} from '@stagecoach/plugin-stagecoach-common';
import { StagecoachEngine } from '../engine';
import { ManifestValidationError } from '../manifests/ManifestValidationError';
import { readApplyRequest } from '../manifests/applyRequest';

export interface RouterOptions {
  engine: StagecoachEngine;
  httpAuth: HttpAuthService;
  auth: AuthService;
  permissions: PermissionsService;
  catalog: CatalogService;
  logger: LoggerService;
  /** Called after a warehouse was asked to refresh, to run discovery now. */
  onRefresh?: () => Promise<void>;
}

const MAX_BODY = '1mb';

/** The REST API under /api/stagecoach. Every route needs user or service credentials. */
export async function createRouter(options: RouterOptions): Promise<express.Router> {
  const { engine, httpAuth, permissions, catalog } = options;
  const router = Router();
  router.use(express.json({ limit: MAX_BODY }));
  router.use(express.text({ limit: MAX_BODY, type: ['application/yaml', 'application/x-yaml', 'text/*'] }));

  const authorize = async (req: Request, permission: BasicPermission) => {
    const credentials = await httpAuth.credentials(req);
    const [decision] = await permissions.authorize([{ permission }], { credentials });
    if (decision.result !== AuthorizeResult.ALLOW) {
      throw new NotAllowedError(`not allowed to ${permission.name}`);
    }
    return credentials;
  };

  const actorOf = (credentials: Awaited<ReturnType<HttpAuthService['credentials']>>) => {
    const p = credentials.principal as { type: string; userEntityRef?: string; subject?: string };
    return p.userEntityRef ?? p.subject ?? p.type;
  };

  const limitParam = (req: Request) => {
    const raw = req.query.limit;
    if (raw === undefined) return undefined;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 1 || n > 1000) throw new InputError('limit must be an integer from 1 to 1000');
    return n;
  };

  const stringParam = (req: Request, name: string) => {
    const v = req.query[name];
    if (v === undefined) return undefined;
    if (typeof v !== 'string' || !v) throw new InputError(`${name} must be a single non-empty value`);
    return v;
  };

  router.get('/projects', async (req, res) => {
    await httpAuth.credentials(req);
    res.json({ items: await engine.listProjects() });
  });

  router.get('/projects/:project', async (req, res) => {
    await httpAuth.credentials(req);
    res.json(await engine.getProject(req.params.project));
  });

  router.put('/projects/:project/manifests', async (req, res) => {
    const credentials = await authorize(req, stagecoachManifestApplyPermission);
    const body: unknown = req.body;
    let text: string | undefined;
    if (typeof body === 'string') text = body;
    else if (typeof (body as { manifests?: unknown } | undefined)?.manifests === 'string') {
      text = (body as { manifests: string }).manifests;
    }
    if (!text?.trim()) {
      throw new InputError(
        'send the manifests as YAML (Content-Type: application/yaml) or as JSON {"manifests": "<yaml>"}',
      );
    }
    // ?prune=true to remove what the set does not define; the revision is recorded with the actor
    res.json(await engine.applyManifests(req.params.project, text, { ...readApplyRequest(req.query, body), actor: actorOf(credentials) }));
  });

  // who applied which manifests, newest first
  router.get('/projects/:project/manifests/history', async (req, res) => {
    await httpAuth.credentials(req);
    res.json({ items: await engine.manifestHistory(req.params.project, limitParam(req)) });
  });

  router.get('/projects/:project/warehouses', async (req, res) => {
    await httpAuth.credentials(req);
    res.json({ items: await engine.listWarehouses(req.params.project) });
  });

  router.get('/projects/:project/warehouses/:warehouse', async (req, res) => {
    await httpAuth.credentials(req);
    res.json(await engine.getWarehouse(req.params.project, req.params.warehouse));
  });

  router.post('/projects/:project/warehouses/:warehouse/refresh', async (req, res) => {
    await authorize(req, stagecoachRefreshPermission);
    await engine.refreshWarehouse(req.params.project, req.params.warehouse);
    await options.onRefresh?.();
    res.status(202).json(await engine.getWarehouse(req.params.project, req.params.warehouse));
  });

  router.get('/projects/:project/freight', async (req, res) => {
    await httpAuth.credentials(req);
    const items = await engine.listFreight(req.params.project, {
      stage: stringParam(req, 'stage'),
      origin: stringParam(req, 'origin'),
      limit: limitParam(req),
    });
    res.json({ items });
  });

  // freight assembled by hand from what a warehouse discovered: 201 when new, 200 when it existed
  router.post('/projects/:project/freight', async (req, res) => {
    const credentials = await authorize(req, stagecoachFreightCreatePermission);
    const { project } = req.params;
    const { freight, created } = await engine.createFreight(project, req.body, actorOf(credentials));
    res.location(`${req.baseUrl}/projects/${encodeURIComponent(project)}/freight/${freight.id}`);
    res.status(created ? 201 : 200).json(freight);
  });

  router.get('/projects/:project/freight/:freight', async (req, res) => {
    await httpAuth.credentials(req);
    res.json(await engine.getFreight(req.params.project, req.params.freight));
  });

  router.patch('/projects/:project/freight/:freight', async (req, res) => {
    await authorize(req, stagecoachFreightUpdatePermission);
    const body = (req.body ?? {}) as { alias?: unknown };
    if (!('alias' in body)) throw new InputError('send the new alias: {"alias": "<alias>"}');
    res.json(await engine.setFreightAlias(req.params.project, req.params.freight, body.alias));
  });

  router.post('/projects/:project/freight/:freight/approve', async (req, res) => {
    const credentials = await authorize(req, stagecoachFreightApprovePermission);
    const body = (req.body ?? {}) as { stage?: unknown };
    res.json(await engine.approveFreight(req.params.project, req.params.freight, body.stage, actorOf(credentials)));
  });

  // every freight of the stage's warehouses: available or not, and why
  router.get('/projects/:project/stages/:stage/freight', async (req, res) => {
    await httpAuth.credentials(req);
    res.json(await engine.stageFreight(req.params.project, req.params.stage, { limit: limitParam(req) }));
  });

  router.delete('/projects/:project/stages/:stage/auto-promotion-hold', async (req, res) => {
    const credentials = await authorize(req, stagecoachAutoPromotionHoldReleasePermission);
    const origin = stringParam(req, 'origin');
    res.json(await engine.releaseAutoPromotionHold(req.params.project, req.params.stage, origin, actorOf(credentials)));
  });

  router.get('/projects/:project/stages', async (req, res) => {
    await httpAuth.credentials(req);
    res.json({ items: await engine.listStages(req.params.project) });
  });

  router.get('/projects/:project/stages/:stage', async (req, res) => {
    await httpAuth.credentials(req);
    res.json(await engine.getStage(req.params.project, req.params.stage));
  });

  router.post('/projects/:project/stages/:stage/promotions', async (req, res) => {
    const credentials = await authorize(req, stagecoachPromotePermission);
    const body = (req.body ?? {}) as {
      freight?: unknown;
      freightAlias?: unknown;
      origin?: unknown;
      supersede?: unknown;
    };
    const given = [body.freight, body.freightAlias, body.origin].filter(v => v !== undefined).length;
    if (given !== 1) {
      throw new InputError(
        'the body must name the freight to promote, one way: {"freight": "<id or alias>"}, {"freightAlias": "<alias>"} ' +
          'or {"origin": {"kind": "Warehouse", "name": "<warehouse>"}} (the newest freight of that warehouse the stage may take)',
      );
    }
    if (body.supersede !== undefined && typeof body.supersede !== 'boolean') {
      throw new InputError('supersede must be true or false');
    }
    const { project, stage } = req.params;
    let ref = body.freight ?? body.freightAlias;
    if (body.origin !== undefined) {
      const origin = body.origin as { kind?: unknown; name?: unknown } | null;
      if (typeof origin !== 'object' || origin === null || (origin.kind ?? 'Warehouse') !== 'Warehouse' || typeof origin.name !== 'string' || !origin.name) {
        throw new InputError('origin must be {"kind": "Warehouse", "name": "<warehouse>"}');
      }
      ref = (await engine.candidateFreight(project, stage, origin.name)).id;
    }
    if (typeof ref !== 'string' || !ref) {
      throw new InputError('freight must be the ID or alias of a freight');
    }
    const promotion = await engine.promote(project, stage, ref, actorOf(credentials), {
      supersede: body.supersede,
    });
    res.status(202).json(promotion);
  });

  // verification: history, one run, re-verify, abort (Kargo's POST /stages/:s/verification)
  router.get('/projects/:project/stages/:stage/verifications', async (req, res) => {
    await httpAuth.credentials(req);
    res.json({ items: await engine.listVerifications(req.params.project, req.params.stage, limitParam(req)) });
  });

  router.post('/projects/:project/stages/:stage/verification', async (req, res) => {
    const credentials = await authorize(req, stagecoachVerifyPermission);
    res.status(202).json(await engine.reverify(req.params.project, req.params.stage, actorOf(credentials)));
  });

  router.post('/projects/:project/stages/:stage/verification/abort', async (req, res) => {
    const credentials = await authorize(req, stagecoachVerifyPermission);
    res.json(await engine.abortVerification(req.params.project, req.params.stage, actorOf(credentials)));
  });

  router.get('/projects/:project/verifications/:id', async (req, res) => {
    await httpAuth.credentials(req);
    res.json(await engine.getVerification(req.params.project, req.params.id));
  });

  router.get('/projects/:project/promotions', async (req, res) => {
    await httpAuth.credentials(req);
    const items = await engine.listPromotions(req.params.project, {
      stage: stringParam(req, 'stage'),
      limit: limitParam(req),
    });
    res.json({ items });
  });

  router.get('/projects/:project/promotions/:id', async (req, res) => {
    await httpAuth.credentials(req);
    res.json(await engine.getPromotion(req.params.project, req.params.id));
  });

  router.post('/projects/:project/promotions/:id/abort', async (req, res) => {
    const credentials = await authorize(req, stagecoachPromotionAbortPermission);
    res.status(202).json(await engine.abortPromotion(req.params.project, req.params.id, actorOf(credentials)));
  });

  router.get('/entities/:kind/:namespace/:name/pipeline', async (req, res) => {
    const credentials = await httpAuth.credentials(req);
    const { kind, namespace, name } = req.params;
    const ref = `${kind}:${namespace}/${name}`.toLocaleLowerCase('en-US');
    const entity = await catalog.getEntityByRef(ref, { credentials });
    if (!entity) throw new NotFoundError(`entity ${ref} not found in the catalog`);
    const project = entity.metadata.annotations?.[ANNOTATION_PROJECT];
    if (!project) {
      throw new NotFoundError(`entity ${ref} has no ${ANNOTATION_PROJECT} annotation`);
    }
    const warehouses = entity.metadata.annotations?.[ANNOTATION_WAREHOUSES]
      ?.split(',')
      .map(s => s.trim())
      .filter(Boolean);
    const annotations = entity.metadata.annotations ?? {};
    res.json(
      await engine.entityPipeline(project, warehouses, {
        appName: annotations[ANNOTATION_ARGOCD_APP_NAME],
        appSelector: annotations[ANNOTATION_ARGOCD_APP_SELECTOR],
        appNamespace: annotations[ANNOTATION_ARGOCD_APP_NAMESPACE],
      }),
    );
  });

  // Manifest problems are listed one by one; a malformed body is the sender's error, not ours.
  router.use((err: Error, req: Request, res: Response, next: NextFunction) => {
    if (err instanceof ManifestValidationError) {
      res.status(400).json({
        error: { name: 'InputError', message: err.message },
        problems: err.problems,
        request: { method: req.method, url: req.originalUrl },
        response: { statusCode: 400 },
      });
      return;
    }
    const status = (err as { status?: number; type?: string }).status;
    if ((err as { type?: string }).type?.startsWith('entity.') && status && status < 500) {
      const limit = (err as { type?: string }).type === 'entity.too.large' ? ` (the limit is ${MAX_BODY})` : '';
      next(new InputError(`the request body could not be read: ${err.message}${limit}`));
      return;
    }
    next(err);
  });

  return router;
}
