import express, { NextFunction, Request, Response } from 'express';
import type {
  AuditorService,
  BackstageCredentials,
  HttpAuthService,
  LoggerService,
} from '@backstage/backend-plugin-api';
import type { CatalogService } from '@backstage/plugin-catalog-node';
import { InputError, NotFoundError } from '@backstage/errors';
import type { ResourcePermission } from '@backstage/plugin-permission-common';
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
  stagecoachProjectReadPermission,
  stagecoachPromotePermission,
  stagecoachPromotionAbortPermission,
  stagecoachRefreshPermission,
  stagecoachVerifyPermission,
} from '@stagecoach/plugin-stagecoach-common';
import { StagecoachEngine } from '../app';
import { ManifestValidationError } from '../manifests/ManifestValidationError';
import { createOpenApiRouter } from '../schema/openapi';
import { readApplyRequest } from '../manifests/applyRequest';
import { audited, AuditedChange } from './audit';
import { StagecoachAccess } from './permissions';

export interface RouterOptions {
  engine: StagecoachEngine;
  httpAuth: HttpAuthService;
  /** Permission checks on projects and stages. */
  access: StagecoachAccess;
  auditor: AuditorService;
  catalog: CatalogService;
  logger: LoggerService;
  /** Called after a warehouse was asked to refresh, to run discovery now. */
  onRefresh?: () => Promise<void>;
}

const MAX_BODY = '1mb';

/**
 * A request to any of the routes, as the helpers read it: each route's handler has its own
 * parameter, query and body types, from the OpenAPI document.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type ApiRequest = Request<any, any, any, any>;

/**
 * The REST API under /api/stagecoach. Every route needs user or service credentials, and
 * every read and change is checked against the permission policy on the project or stage it
 * concerns; every change is an auditor event.
 */
export async function createRouter(options: RouterOptions): Promise<express.Router> {
  const { engine, httpAuth, access, auditor, catalog } = options;
  // Each request is checked against the OpenAPI document (src/schema/openapi.yaml) before its
  // handler runs: a parameter or body of the wrong type is a 400 that names it.
  const router = await createOpenApiRouter({
    middleware: [
      readBody(express.json({ limit: MAX_BODY })),
      readBody(express.text({ limit: MAX_BODY, type: ['application/yaml', 'application/x-yaml', 'text/*'] })),
    ],
    // the caller is authenticated by Backstage's httpAuth, not by the spec's security scheme
    validatorOptions: { validateSecurity: false },
  });

  /** The caller, once allowed to read the project. */
  const readProject = async (req: ApiRequest, project: string) => {
    const credentials = await httpAuth.credentials(req);
    await access.checkProject(credentials, stagecoachProjectReadPermission, project);
    return credentials;
  };

  /** A change of a project (or, with `stage`, of one of its stages): checked, run and audited. */
  const change = <T>(
    req: ApiRequest,
    what: AuditedChange & { permission: ResourcePermission; project: string; stage?: string },
    run: (credentials: BackstageCredentials) => Promise<T>,
    outcome?: (result: T) => AuditedChange['meta'],
  ) =>
    audited(
      auditor,
      req,
      { eventId: what.eventId, meta: { project: what.project, ...(what.stage ? { stage: what.stage } : {}), ...what.meta } },
      async () => {
        const credentials = await httpAuth.credentials(req);
        if (what.stage) await access.checkStage(credentials, what.permission, what.project, what.stage);
        else await access.checkProject(credentials, what.permission, what.project);
        return run(credentials);
      },
      outcome,
    );

  const actorOf = (credentials: BackstageCredentials) => {
    const p = credentials.principal as { type: string; userEntityRef?: string; subject?: string };
    return p.userEntityRef ?? p.subject ?? p.type;
  };

  const limitParam = (req: ApiRequest) => {
    const raw = req.query.limit;
    if (raw === undefined) return undefined;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 1 || n > 1000) throw new InputError('limit must be an integer from 1 to 1000');
    return n;
  };

  const stringParam = (req: ApiRequest, name: string) => {
    const v = req.query[name];
    if (v === undefined) return undefined;
    if (typeof v !== 'string' || !v) throw new InputError(`${name} must be a single non-empty value`);
    return v;
  };

  router.get('/projects', async (req, res) => {
    const credentials = await httpAuth.credentials(req);
    const projects = await engine.projects.list();
    const readable = await access.readableProjects(credentials, projects.map(p => p.name));
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
    else if (typeof (body as { manifests?: unknown } | undefined)?.manifests === 'string') {
      text = (body as { manifests: string }).manifests;
    }
    const result = await change(
      req,
      { eventId: 'manifests-apply', permission: stagecoachManifestApplyPermission, project, meta: {} },
      async credentials => {
        if (!text?.trim()) {
          throw new InputError(
            'send the manifests as YAML (Content-Type: application/yaml) or as JSON {"manifests": "<yaml>"}',
          );
        }
        // ?prune=true to remove what the set does not define; the revision is recorded with the actor
        return engine.projects.applyManifests(project, text, { ...readApplyRequest(req.query, body), actor: actorOf(credentials) });
      },
      r => ({ warehouses: r.warehouses, stages: r.stages }),
    );
    res.json(result);
  });

  // who applied which manifests, newest first
  router.get('/projects/:project/manifests/history', async (req, res) => {
    await readProject(req, req.params.project);
    res.json({ items: await engine.projects.manifestHistory(req.params.project, limitParam(req)) });
  });

  router.get('/projects/:project/warehouses', async (req, res) => {
    await readProject(req, req.params.project);
    res.json({ items: await engine.warehouses.list(req.params.project) });
  });

  router.get('/projects/:project/warehouses/:warehouse', async (req, res) => {
    await readProject(req, req.params.project);
    res.json(await engine.warehouses.get(req.params.project, req.params.warehouse));
  });

  router.post('/projects/:project/warehouses/:warehouse/refresh', async (req, res) => {
    const { project, warehouse } = req.params;
    await change(
      req,
      { eventId: 'warehouse-refresh', permission: stagecoachRefreshPermission, project, meta: { warehouse } },
      () => engine.warehouses.refresh(project, warehouse),
    );
    await options.onRefresh?.();
    res.status(202).json(await engine.warehouses.get(project, warehouse));
  });

  router.get('/projects/:project/freight', async (req, res) => {
    await readProject(req, req.params.project);
    const items = await engine.freight.list(req.params.project, {
      stage: stringParam(req, 'stage'),
      origin: stringParam(req, 'origin'),
      limit: limitParam(req),
    });
    res.json({ items });
  });

  // freight assembled by hand from what a warehouse discovered: 201 when new, 200 when it existed
  router.post('/projects/:project/freight', async (req, res) => {
    const { project } = req.params;
    const { freight, created } = await change(
      req,
      { eventId: 'freight-create', permission: stagecoachFreightCreatePermission, project, meta: {} },
      credentials => engine.freight.create(project, req.body, actorOf(credentials)),
      r => ({ freight: r.freight.id, created: r.created }),
    );
    res.location(`${req.baseUrl}/projects/${encodeURIComponent(project)}/freight/${freight.id}`);
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
        { eventId: 'freight-update', permission: stagecoachFreightUpdatePermission, project, meta: { freight } },
        async () => {
          if (!('alias' in body)) throw new InputError('send the new alias: {"alias": "<alias>"}');
          return engine.freight.setAlias(project, freight, body.alias);
        },
        f => ({ freight: f.id, alias: f.alias }),
      ),
    );
  });

  router.post('/projects/:project/freight/:freight/approve', async (req, res) => {
    const { project, freight } = req.params;
    const stage = ((req.body ?? {}) as { stage?: unknown }).stage;
    if (typeof stage !== 'string' || !stage) {
      throw new InputError('name the stage to approve the freight for: {"stage": "<stage>"}');
    }
    res.json(
      await change(
        req,
        { eventId: 'freight-approve', permission: stagecoachFreightApprovePermission, project, stage, meta: { freight } },
        credentials => engine.freight.approve(project, freight, stage, actorOf(credentials)),
        f => ({ freight: f.id }),
      ),
    );
  });

  // every freight of the stage's warehouses: available or not, and why
  router.get('/projects/:project/stages/:stage/freight', async (req, res) => {
    await readProject(req, req.params.project);
    res.json(await engine.stages.freight(req.params.project, req.params.stage, { limit: limitParam(req) }));
  });

  router.delete('/projects/:project/stages/:stage/auto-promotion-hold', async (req, res) => {
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
        credentials => engine.stages.releaseAutoPromotionHold(project, stage, origin, actorOf(credentials)),
      ),
    );
  });

  router.get('/projects/:project/stages', async (req, res) => {
    await readProject(req, req.params.project);
    res.json({ items: await engine.stages.list(req.params.project) });
  });

  router.get('/projects/:project/stages/:stage', async (req, res) => {
    await readProject(req, req.params.project);
    res.json(await engine.stages.get(req.params.project, req.params.stage));
  });

  router.post('/projects/:project/stages/:stage/promotions', async (req, res) => {
    const { project, stage } = req.params;
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
    let origin: string | undefined;
    if (body.origin !== undefined) {
      const o = body.origin as { kind?: unknown; name?: unknown } | null;
      if (typeof o !== 'object' || o === null || (o.kind ?? 'Warehouse') !== 'Warehouse' || typeof o.name !== 'string' || !o.name) {
        throw new InputError('origin must be {"kind": "Warehouse", "name": "<warehouse>"}');
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
        const ref = origin ? (await engine.promotions.candidateFreight(project, stage, origin)).id : (named as string);
        return engine.promotions.promote(project, stage, ref, actorOf(credentials), { supersede: body.supersede as boolean | undefined });
      },
      p => ({ promotion: p.id, freight: p.freight.id }),
    );
    res.status(202).json(promotion);
  });

  // verification: history, one run, re-verify, abort (Kargo's POST /stages/:s/verification)
  router.get('/projects/:project/stages/:stage/verifications', async (req, res) => {
    await readProject(req, req.params.project);
    res.json({ items: await engine.verifications.list(req.params.project, req.params.stage, limitParam(req)) });
  });

  router.post('/projects/:project/stages/:stage/verification', async (req, res) => {
    const { project, stage } = req.params;
    const verification = await change(
      req,
      { eventId: 'verification-create', permission: stagecoachVerifyPermission, project, stage, meta: {} },
      credentials => engine.verifications.reverify(project, stage, actorOf(credentials)),
      v => ({ verification: v.id, freight: v.freight.id }),
    );
    res.status(202).json(verification);
  });

  router.post('/projects/:project/stages/:stage/verification/abort', async (req, res) => {
    const { project, stage } = req.params;
    res.json(
      await change(
        req,
        { eventId: 'verification-abort', permission: stagecoachVerifyPermission, project, stage, meta: {} },
        credentials => engine.verifications.abort(project, stage, actorOf(credentials)),
        v => ({ verification: v.id }),
      ),
    );
  });

  router.get('/projects/:project/verifications/:id', async (req, res) => {
    await readProject(req, req.params.project);
    res.json(await engine.verifications.get(req.params.project, req.params.id));
  });

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
      { eventId: 'promotion-abort', permission: stagecoachPromotionAbortPermission, project, stage, meta: { promotion: id } },
      credentials => engine.promotions.abort(project, id, actorOf(credentials)),
      p => ({ phase: p.phase }),
    );
    res.status(202).json(promotion);
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
    await access.checkProject(credentials, stagecoachProjectReadPermission, project);
    const warehouses = entity.metadata.annotations?.[ANNOTATION_WAREHOUSES]
      ?.split(',')
      .map(s => s.trim())
      .filter(Boolean);
    const annotations = entity.metadata.annotations ?? {};
    res.json(
      await engine.entities.get(project, warehouses, {
        appName: annotations[ANNOTATION_ARGOCD_APP_NAME],
        appSelector: annotations[ANNOTATION_ARGOCD_APP_SELECTOR],
        appNamespace: annotations[ANNOTATION_ARGOCD_APP_NAMESPACE],
      }),
    );
  });

  // Manifest problems are listed one by one.
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
    next(err);
  });

  return router;
}

/**
 * A body parser whose failures (malformed JSON, a body over the limit) are the sender's error,
 * said in words: the OpenAPI router turns whatever its middleware fails with into a 400 with
 * that message.
 */
function readBody(parser: express.RequestHandler): express.RequestHandler {
  return (req, res, next) =>
    parser(req, res, (err?: unknown) => {
      const { type, status, message } = (err ?? {}) as { type?: string; status?: number; message?: string };
      if (err && type?.startsWith('entity.') && status && status < 500) {
        const limit = type === 'entity.too.large' ? ` (the limit is ${MAX_BODY})` : '';
        next(new InputError(`the request body could not be read: ${message}${limit}`));
        return;
      }
      next(err);
    });
}
