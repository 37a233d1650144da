import type { Request } from 'express';
import type {
  BackstageCredentials,
  HttpAuthService,
} from '@backstage/backend-plugin-api';
import type { CatalogService } from '@backstage/plugin-catalog-node';
import { InputError } from '@backstage/errors';
import type { ResourcePermission } from '@backstage/plugin-permission-common';
import { stagecoachProjectReadPermission } from '@stagecoach/plugin-stagecoach-common';
import type { StagecoachEngine } from '../../app';
import type { createOpenApiRouter } from '../../schema/openapi';
import { audited, AuditedChange } from '../audit';
import type { AuditorService } from '@backstage/backend-plugin-api';
import type { StagecoachAccess } from '../permissions';

/** The router the routes are added to: typed and validated by the OpenAPI document. */
export type ApiRouter = Awaited<ReturnType<typeof createOpenApiRouter>>;

/**
 * A request to any of the routes, as the helpers read it: each route's handler has its own
 * parameter, query and body types, from the OpenAPI document.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type ApiRequest = Request<any, any, any, any>;

/** A change as the audit log records it, with the permission it needs on its project or stage. */
export type CheckedChange = AuditedChange & {
  permission: ResourcePermission;
  project: string;
  stage?: string;
};

/** What every group of routes is given: the engine, and the checks every route makes. */
export interface RouteContext {
  router: ApiRouter;
  engine: StagecoachEngine;
  httpAuth: HttpAuthService;
  access: StagecoachAccess;
  catalog: CatalogService;
  /** For changes that concern no project (the cluster scope); a project's go through `change`. */
  auditor: AuditorService;
  /** Called after a warehouse was asked to refresh, to run discovery now. */
  onRefresh?: () => Promise<void>;
  /** The caller, once allowed to read the project. */
  readProject(req: ApiRequest, project: string): Promise<BackstageCredentials>;
  /** A change of a project (or, with `stage`, of one of its stages): checked, run and audited. */
  change<T>(
    req: ApiRequest,
    what: CheckedChange,
    run: (credentials: BackstageCredentials) => Promise<T>,
    outcome?: (result: T) => AuditedChange['meta'],
  ): Promise<T>;
  /** Who the caller is, as promotions and the audit log name them. */
  actorOf(credentials: BackstageCredentials): string;
  /** `?limit=`, 1 to 1000. */
  limitParam(req: ApiRequest): number | undefined;
  /** A query parameter given once, not empty. */
  stringParam(req: ApiRequest, name: string): string | undefined;
  /** `limit` of a paginated list, as a number (its bounds are the list's to check). */
  pageLimitParam(req: ApiRequest): number | undefined;
  /** A query parameter `true` or `false`. */
  booleanParam(req: ApiRequest, name: string): boolean | undefined;
}

export interface RouteContextOptions {
  router: ApiRouter;
  engine: StagecoachEngine;
  httpAuth: HttpAuthService;
  access: StagecoachAccess;
  auditor: AuditorService;
  catalog: CatalogService;
  onRefresh?: () => Promise<void>;
}

/** The checks and parameter readers the routes share, over the plugin's services. */
export function createRouteContext(options: RouteContextOptions): RouteContext {
  const { httpAuth, access, auditor } = options;
  return {
    ...options,
    async readProject(req, project) {
      const credentials = await httpAuth.credentials(req);
      await access.checkProject(
        credentials,
        stagecoachProjectReadPermission,
        project,
      );
      return credentials;
    },
    change(req, what, run, outcome) {
      return audited(
        auditor,
        req,
        {
          eventId: what.eventId,
          meta: {
            project: what.project,
            ...(what.stage ? { stage: what.stage } : {}),
            ...what.meta,
          },
        },
        async () => {
          const credentials = await httpAuth.credentials(req);
          if (what.stage)
            await access.checkStage(
              credentials,
              what.permission,
              what.project,
              what.stage,
            );
          else
            await access.checkProject(
              credentials,
              what.permission,
              what.project,
            );
          return run(credentials);
        },
        outcome,
      );
    },
    actorOf(credentials) {
      const p = credentials.principal as {
        type: string;
        userEntityRef?: string;
        subject?: string;
      };
      return p.userEntityRef ?? p.subject ?? p.type;
    },
    limitParam(req) {
      const raw = req.query.limit;
      if (raw === undefined) return undefined;
      const n = Number(raw);
      if (!Number.isInteger(n) || n < 1 || n > 1000)
        throw new InputError('limit must be an integer from 1 to 1000');
      return n;
    },
    stringParam(req, name) {
      const v = req.query[name];
      if (v === undefined) return undefined;
      if (typeof v !== 'string' || !v)
        throw new InputError(`${name} must be a single non-empty value`);
      return v;
    },
    pageLimitParam(req) {
      const raw = req.query.limit;
      if (raw === undefined) return undefined;
      let n = NaN;
      if (typeof raw === 'number') n = raw;
      else if (typeof raw === 'string' && /^\d+$/.test(raw)) n = Number(raw);
      if (!Number.isInteger(n))
        throw new InputError('limit must be a whole number of items per page');
      return n;
    },
    booleanParam(req, name) {
      const v = req.query[name];
      if (v === undefined || typeof v === 'boolean') return v;
      if (v !== 'true' && v !== 'false')
        throw new InputError(`${name} must be true or false`);
      return v === 'true';
    },
  };
}
