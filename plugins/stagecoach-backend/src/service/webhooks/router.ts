import express, { Request, Response } from 'express';
import type { LoggerService } from '@backstage/backend-plugin-api';
import { validateWebhookReceivers } from './config';
import { providers } from './providers';
import { WebhookEvent, WebhookPayloadError, WebhookProviderType, WebhookReceiverConfig } from './types';
import { header } from './util';

export const DEFAULT_MAX_WEBHOOK_BODY_BYTES = 5 * 1024 * 1024;

export interface WebhookRouterOptions {
  /** From `stagecoach.webhooks.receivers` (see readWebhookReceivers); checked again here. */
  receivers: WebhookReceiverConfig[];
  /**
   * Refreshes the warehouses that subscribe to what the event names (see matchesSubscription)
   * and says which ones, as `project/name`. Only called for verified, well-formed deliveries.
   */
  onEvent(
    event: WebhookEvent,
    context: { receiver: string; type: WebhookProviderType; project?: string },
  ): Promise<{ warehouses: string[] }>;
  /**
   * A project's receiver (its ProjectConfig's webhookReceivers) by the last segment of its
   * URL, `/webhooks/<hash>`, with its secret; its events refresh that project's warehouses only.
   */
  projectReceiver?(pathHash: string): Promise<ProjectWebhookReceiver | undefined>;
  logger: LoggerService;
  /** Larger bodies are refused with 413. Default 5 MB. */
  maxBodyBytes?: number;
}

/** A project's receiver, as the router checks and serves it. */
export interface ProjectWebhookReceiver {
  project: string;
  name: string;
  type: WebhookProviderType;
  secret: string;
}

/** What a project receiver's URL ends with: a SHA-256, hex. */
const PATH_HASH = /^[0-9a-f]{64}$/;

type ErrorName = 'NotFoundError' | 'AuthenticationError' | 'InputError' | 'NotAllowedError' | 'PayloadTooLargeError' | 'Error';

/**
 * Inbound webhooks: `POST /<name>` and, for senders that can only be given a URL,
 * `POST /<name>/<secret>`. Mount it at `/webhooks` of the plugin's router, ahead of anything that
 * parses bodies: signatures are checked over the raw bytes, which this router reads itself.
 *
 * Answers: 404 for an unknown receiver; 401 (and nothing triggered) when the secret or signature
 * does not match; 400 for a body that is not what the sender sends; 200 `{ignored, reason}` for
 * deliveries that ask for nothing (pings, pulls, other event types); 202 `{event, warehouses}`
 * once onEvent has refreshed the matching warehouses. Every answer is written here, so neither
 * the URL (which may hold a secret) nor a secret reaches a response or a log; a secret path
 * segment is also masked in `req.originalUrl`, which request loggers print.
 */
export function createWebhookRouter(options: WebhookRouterOptions): express.Router {
  const { onEvent, logger } = options;
  const receivers = new Map(validateWebhookReceivers(options.receivers).map(r => [r.name, r]));
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_WEBHOOK_BODY_BYTES;
  const readRawBody = express.raw({ type: () => true, limit: maxBodyBytes });
  const router = express.Router();

  const fail = (res: Response, status: number, name: ErrorName, message: string) => {
    res.status(status).json({ error: { name, message } });
  };

  router.all(['/:name', '/:name/:pathSecret'], (req, res) => {
    redactPathSecret(req);
    const name = req.params.name;
    const receiver = receivers.get(name);
    if (!receiver && options.projectReceiver && PATH_HASH.test(name) && req.params.pathSecret === undefined) {
      serveProjectReceiver(req, res, name).catch(e => {
        logger.error(`a project's webhook receiver failed: ${e instanceof Error ? e.message : String(e)}`);
        if (!res.headersSent) fail(res, 500, 'Error', `the webhook receiver failed; the backend log has the details`);
      });
      return;
    }
    if (!receiver) {
      fail(res, 404, 'NotFoundError', `no webhook receiver is named "${name}"`);
      return;
    }
    const provider = providers[receiver.type];
    if (req.method !== 'POST') {
      res.setHeader('Allow', 'POST');
      fail(res, 405, 'NotAllowedError', `webhook receiver ${name} only accepts POST`);
      return;
    }
    if (req.params.pathSecret !== undefined && !provider.secretInPath) {
      fail(
        res,
        404,
        'NotFoundError',
        `webhook receiver ${name} (${receiver.type}) answers at /webhooks/${name}; only dockerhub and quay receivers take the secret in the URL`,
      );
      return;
    }

    readRawBody(req, res, (err?: unknown) => {
      if (err) {
        answerBodyError(res, name, err);
        return;
      }
      handle(req, res, receiver).catch(e => {
        logger.error(`webhook receiver ${name}: ${e instanceof Error ? e.message : String(e)}`);
        if (!res.headersSent) fail(res, 500, 'Error', `webhook receiver ${name} failed; the backend log has the details`);
      });
    });
  });

  /** `/webhooks/<hash>`: the URL names the receiver (and, for senders that cannot sign, is its secret). */
  async function serveProjectReceiver(req: Request, res: Response, pathHash: string) {
    // the hash is as good as a secret for dockerhub and quay: not in any log
    req.originalUrl = (req.originalUrl ?? req.url).replace(pathHash, '<redacted>');
    const found = await options.projectReceiver!(pathHash);
    if (!found) {
      fail(res, 404, 'NotFoundError', 'no webhook receiver answers at this URL');
      return;
    }
    const label = `${found.project}/${found.name}`;
    if (req.method !== 'POST') {
      res.setHeader('Allow', 'POST');
      fail(res, 405, 'NotAllowedError', `webhook receiver ${label} only accepts POST`);
      return;
    }
    readRawBody(req, res, (err?: unknown) => {
      if (err) {
        answerBodyError(res, label, err);
        return;
      }
      // a sender that cannot sign proves itself by the URL, which holds a digest of the secret
      const pathSecret = providers[found.type].secretInPath ? found.secret : undefined;
      handle(req, res, { name: label, type: found.type, secret: found.secret }, { project: found.project, pathSecret }).catch(e => {
        logger.error(`webhook receiver ${label}: ${e instanceof Error ? e.message : String(e)}`);
        if (!res.headersSent) fail(res, 500, 'Error', `webhook receiver ${label} failed; the backend log has the details`);
      });
    });
  }

  function answerBodyError(res: Response, name: string, err: unknown) {
    const type = (err as { type?: string }).type;
    if (type === 'entity.too.large') {
      fail(res, 413, 'PayloadTooLargeError', `the body is larger than the ${formatBytes(maxBodyBytes)} that webhook receiver ${name} accepts`);
    } else if (type === 'encoding.unsupported' || type === 'charset.unsupported') {
      fail(res, 415, 'InputError', `webhook receiver ${name} reads bodies without Content-Encoding, as UTF-8`);
    } else {
      fail(res, 400, 'InputError', `webhook receiver ${name} could not read the request body`);
    }
  }

  async function handle(req: Request, res: Response, receiver: WebhookReceiverConfig, scope: { project?: string; pathSecret?: string } = {}) {
    const { name, type } = receiver;
    const provider = providers[type];

    let rawBody: Buffer;
    if (Buffer.isBuffer(req.body)) rawBody = req.body;
    else if ((req as { _body?: boolean })._body) {
      // Another body parser ran first: the bytes the signature covers are gone.
      logger.error(
        `webhook receiver ${name}: the request body was parsed before the webhook router saw it; mount the webhook router ahead of any body parser`,
      );
      fail(res, 500, 'Error', `webhook receiver ${name} is misconfigured; the backend log has the details`);
      return;
    } else rawBody = Buffer.alloc(0);

    let verified = false;
    try {
      verified = provider.verify({ headers: req.headers, rawBody, pathSecret: scope.pathSecret ?? req.params.pathSecret }, receiver.secret);
    } catch {
      verified = false;
    }
    if (!verified) {
      logger.warn(`webhook receiver ${name} (${type}): refused a delivery whose secret or signature does not match`);
      fail(res, 401, 'AuthenticationError', `webhook signature does not match the secret of receiver ${name}`);
      return;
    }

    let body: unknown;
    try {
      body = decodeBody(req, rawBody);
    } catch (e) {
      fail(res, 400, 'InputError', `webhook receiver ${name} (${type}): ${(e as Error).message}`);
      return;
    }

    let parsed;
    try {
      parsed = provider.parse(req.headers, body);
    } catch (e) {
      if (!(e instanceof WebhookPayloadError)) {
        logger.warn(`webhook receiver ${name} (${type}): could not read a payload: ${(e as Error)?.message ?? e}`);
      }
      const detail = e instanceof WebhookPayloadError ? e.message : `expected a ${provider.title} webhook payload`;
      fail(res, 400, 'InputError', `webhook receiver ${name} (${type}): ${detail}`);
      return;
    }

    if (parsed.kind === 'ignored') {
      logger.debug(`webhook receiver ${name} (${type}): ignored: ${parsed.reason}`);
      res.status(200).json({ ignored: true, reason: parsed.reason });
      return;
    }

    const event = parsed;
    const { warehouses } = await onEvent(event, { receiver: name, type, ...(scope.project ? { project: scope.project } : {}) });
    logger.info(
      `webhook receiver ${name} (${type}): ${describeEvent(event)} changed; refreshing ${warehouses.length} warehouse(s)${
        warehouses.length ? `: ${warehouses.join(', ')}` : ''
      }`,
    );
    res.status(202).json({ event, warehouses });
  }

  return router;
}

/**
 * Backstage's request log (and other access logs in the process) print `req.originalUrl` once the
 * response is sent: replace a secret path segment there before anything can record it.
 */
function redactPathSecret(req: Request) {
  if (req.params.pathSecret === undefined) return;
  const url = req.originalUrl ?? req.url;
  const q = url.indexOf('?');
  const path = q >= 0 ? url.slice(0, q) : url;
  const query = q >= 0 ? url.slice(q) : '';
  req.originalUrl = `${path.replace(/\/[^/]+(\/?)$/, '/<redacted>$1')}${query}`;
}

/** JSON, or JSON in the `payload` field of a form (GitHub's application/x-www-form-urlencoded). */
function decodeBody(req: Request, rawBody: Buffer): unknown {
  if (!rawBody.length) throw new Error('the body is empty; expected a JSON payload');
  let text = rawBody.toString('utf8');
  const contentType = header(req.headers, 'content-type')?.toLowerCase() ?? '';
  if (contentType.startsWith('application/x-www-form-urlencoded')) {
    const payload = new URLSearchParams(text).get('payload');
    if (payload === null) throw new Error('a form-encoded body must carry the JSON payload in its "payload" field');
    text = payload;
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new Error('the body is not valid JSON');
  }
}

/** What an event says changed, for log lines: `Git repository https://...`. */
export function describeEvent(event: WebhookEvent): string {
  switch (event.kind) {
    case 'git':
      return `Git repository ${event.repoURLs.join(', ')}`;
    case 'image':
      return `image repository ${event.repositories.join(', ')}`;
    default:
      return `chart repository ${event.repoURLs.join(', ')}`;
  }
}

function formatBytes(n: number): string {
  return n >= 1024 * 1024 ? `${Math.round((n / 1024 / 1024) * 10) / 10} MB` : `${Math.round(n / 1024)} kB`;
}
