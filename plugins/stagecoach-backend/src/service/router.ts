import express, { NextFunction, Request, Response } from 'express';
import type {
  AuditorService,
  HttpAuthService,
  LoggerService,
} from '@backstage/backend-plugin-api';
import type { CatalogService } from '@backstage/plugin-catalog-node';
import { InputError } from '@backstage/errors';
import { StagecoachEngine } from '../app';
import { ManifestValidationError } from '../manifests/ManifestValidationError';
import { createOpenApiRouter } from '../schema/openapi';
import { StagecoachAccess } from './permissions';
import { createRouteContext, routeGroups } from './routes';

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
 * The REST API under /api/stagecoach. Every route needs user or service credentials, and
 * every read and change is checked against the permission policy on the project or stage it
 * concerns; every change is an auditor event.
 */
export async function createRouter(
  options: RouterOptions,
): Promise<express.Router> {
  const { engine, httpAuth, access, auditor, catalog } = options;
  // Each request is checked against the OpenAPI document (src/schema/openapi.yaml) before its
  // handler runs: a parameter or body of the wrong type is a 400 that names it.
  const router = await createOpenApiRouter({
    middleware: [
      readBody(express.json({ limit: MAX_BODY })),
      readBody(
        express.text({
          limit: MAX_BODY,
          type: ['application/yaml', 'application/x-yaml', 'text/*'],
        }),
      ),
    ],
    // the caller is authenticated by Backstage's httpAuth, not by the spec's security scheme
    validatorOptions: { validateSecurity: false },
  });

  const context = createRouteContext({
    router,
    engine,
    httpAuth,
    access,
    auditor,
    catalog,
    onRefresh: options.onRefresh,
  });
  for (const addRoutes of routeGroups) addRoutes(context);

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
      const { type, status, message } = (err ?? {}) as {
        type?: string;
        status?: number;
        message?: string;
      };
      if (err && type?.startsWith('entity.') && status && status < 500) {
        const limit =
          type === 'entity.too.large' ? ` (the limit is ${MAX_BODY})` : '';
        next(
          new InputError(
            `the request body could not be read: ${message}${limit}`,
          ),
        );
        return;
      }
      next(err);
    });
}
