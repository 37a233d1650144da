import type { IncomingHttpHeaders } from 'node:http';
import { ignored, ParseResult, WebhookPayloadError, WebhookProvider, WebhookRequest } from '../types';
import { normalizeImageRepository } from '../../../util/repositoryKeys';
import { asArray, bearerToken, expectObject, isObject, pickString, safeEqual, unique } from '../util';

/**
 * Notifications of the CNCF Distribution registry (`registry:2`, `docker-registry`) and of
 * registries built on it. Configure an endpoint with the header
 * `Authorization: Bearer <secret>`. Acts on `push` events; the repository's host is the one the
 * pushing client addressed (`request.host`), or else the host of `target.url`.
 */
export function verify(req: WebhookRequest, secret: string): boolean {
  const token = bearerToken(req.headers);
  return !!token && !!secret && safeEqual(token, secret);
}

export function parse(_headers: IncomingHttpHeaders, body: unknown): ParseResult {
  const envelope = expectObject(body, 'a registry notification envelope ({"events": [...]})');
  if (!Array.isArray(envelope.events)) {
    throw new WebhookPayloadError('expected a registry notification envelope with an events list');
  }
  const pushes = asArray(envelope.events)
    .filter(isObject)
    .filter(e => e.action === 'push');
  if (!pushes.length) {
    return ignored('registry notification without push events (pull, mount and delete are not acted on)');
  }
  const repositories = unique(
    pushes.map(e => {
      const repository = pickString(e, 'target', 'repository');
      const host = pickString(e, 'request', 'host') ?? hostOf(pickString(e, 'target', 'url'));
      return repository && host ? normalizeImageRepository(`${host}/${repository}`) : undefined;
    }),
  );
  if (!repositories.length) {
    throw new WebhookPayloadError(
      'expected push events with target.repository and request.host (or target.url) to name the image repository',
    );
  }
  return { kind: 'image', repositories };
}

function hostOf(url: string | undefined): string | undefined {
  if (!url) return undefined;
  try {
    return new URL(url).host || undefined;
  } catch {
    return undefined;
  }
}

export const distribution: WebhookProvider = { title: 'Distribution registry', secretInPath: false, verify, parse };
