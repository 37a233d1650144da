import type { IncomingHttpHeaders } from 'node:http';
import { ignored, ParseResult, WebhookPayloadError, WebhookProvider, WebhookRequest } from '../types';
import { normalizeImageRepository } from '../../../util/repositoryKeys';
import { asArray, bearerToken, expectObject, header, isObject, pick, pickString, safeEqual, unique } from '../util';

/**
 * Harbor project webhooks (HTTP endpoint), in either payload format: Default
 * (`type: PUSH_ARTIFACT`, `event_data`) or CloudEvents (`type: harbor.artifact.pushed`, `data`).
 * Harbor sends the policy's "Auth Header" verbatim as `Authorization`; set it to the secret
 * or to `Bearer <secret>`.
 */
export function verify(req: WebhookRequest, secret: string): boolean {
  if (!secret) return false;
  const raw = header(req.headers, 'authorization')?.trim();
  if (!raw) return false;
  const token = bearerToken(req.headers) ?? raw;
  return safeEqual(token, secret);
}

const PUSH_TYPES = new Set(['PUSH_ARTIFACT', 'harbor.artifact.pushed']);

export function parse(_headers: IncomingHttpHeaders, body: unknown): ParseResult {
  const payload = expectObject(body, 'a Harbor webhook payload');
  const type = pickString(payload, 'type');
  if (!type) throw new WebhookPayloadError('expected a Harbor webhook payload with type (e.g. PUSH_ARTIFACT)');
  if (!PUSH_TYPES.has(type)) {
    return ignored(`Harbor "${type}" events do not add an artifact (acted on: PUSH_ARTIFACT)`);
  }
  const data = isObject(payload.event_data) ? payload.event_data : pick(payload, 'data');
  const resources = asArray(pick(data, 'resources'));
  // resource_url is `<harbor host>/<project>/<repository>:<tag>` (or `@<digest>`).
  const fromResources = resources.map(r => pickString(r, 'resource_url'));
  const host = fromResources.find(Boolean)?.split('/')[0];
  const fullName = pickString(data, 'repository', 'repo_full_name');
  const repositories = unique([
    ...fromResources.map(u => (u ? normalizeImageRepository(u) : undefined)),
    host && fullName ? normalizeImageRepository(`${host}/${fullName}`) : undefined,
  ]);
  if (!repositories.length) {
    throw new WebhookPayloadError(
      'expected a Harbor push event with event_data.resources[].resource_url (host/project/repository:tag)',
    );
  }
  return { kind: 'image', repositories };
}

export const harbor: WebhookProvider = { title: 'Harbor', secretInPath: false, verify, parse };
