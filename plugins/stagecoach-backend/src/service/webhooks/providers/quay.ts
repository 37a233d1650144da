import type { IncomingHttpHeaders } from 'node:http';
import { ignored, ParseResult, WebhookPayloadError, WebhookProvider, WebhookRequest } from '../types';
import { normalizeImageRepository } from '../../../util/repositoryKeys';
import { expectObject, pick, pickString, safeEqual } from '../util';

/**
 * Quay (quay.io or self-hosted) repository notifications of the "Push to Repository" kind,
 * with the "Webhook POST" method. Quay does not sign, so the secret is the last segment of the
 * URL: `POST /api/stagecoach/webhooks/<name>/<secret>`.
 */
export function verify(req: WebhookRequest, secret: string): boolean {
  return !!req.pathSecret && !!secret && safeEqual(req.pathSecret, secret);
}

export function parse(_headers: IncomingHttpHeaders, body: unknown): ParseResult {
  const payload = expectObject(body, 'a Quay notification payload');
  // Only push notifications list updated_tags; build and vulnerability notifications do not.
  if (pick(payload, 'updated_tags') === undefined) {
    return ignored('Quay notification other than "Push to Repository" (it has no updated_tags)');
  }
  const dockerURL = pickString(payload, 'docker_url');
  const repository = pickString(payload, 'repository');
  const ref = dockerURL ?? (repository ? `quay.io/${repository}` : undefined);
  if (!ref) {
    throw new WebhookPayloadError('expected a Quay push notification with docker_url (e.g. quay.io/acme/api)');
  }
  return { kind: 'image', repositories: [normalizeImageRepository(ref)] };
}

export const quay: WebhookProvider = { title: 'Quay', secretInPath: true, verify, parse };
