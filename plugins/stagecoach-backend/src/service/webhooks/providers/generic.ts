import type { IncomingHttpHeaders } from 'node:http';
import { ParseResult, WebhookPayloadError, WebhookProvider, WebhookRequest } from '../types';
import { normalizeImageRepository, withoutCredentials } from '../../../util/repositoryKeys';
import { bearerToken, header, hmacSha256Matches, isObject, safeEqual } from '../util';

/**
 * For CI jobs, scripts and senders not listed: authenticate with `Authorization: Bearer <secret>`
 * or sign like GitHub (`X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the body>`), and say
 * what changed in one of three lists:
 *
 *   {"repoURLs": ["https://git.example.com/team/app.git"]}
 *   {"images": ["registry.example.com/team/app"]}
 *   {"charts": ["oci://registry.example.com/charts/app"]}
 */
export function verify(req: WebhookRequest, secret: string): boolean {
  if (!secret) return false;
  const signature = header(req.headers, 'x-hub-signature-256');
  if (signature !== undefined) return hmacSha256Matches(signature, secret, req.rawBody, 'sha256=');
  const token = bearerToken(req.headers);
  return !!token && safeEqual(token, secret);
}

const EXPECTED =
  'expected a JSON object with exactly one of "repoURLs" (Git repository URLs), "images" (image repositories) ' +
  'or "charts" (chart repository URLs), each a non-empty list of strings';

const KEYS = ['repoURLs', 'images', 'charts'] as const;

export function parse(_headers: IncomingHttpHeaders, body: unknown): ParseResult {
  if (!isObject(body)) throw new WebhookPayloadError(EXPECTED);
  const present = KEYS.filter(k => body[k] !== undefined);
  if (present.length !== 1) throw new WebhookPayloadError(EXPECTED);
  const key = present[0];
  const list = body[key];
  if (!Array.isArray(list) || !list.length || !list.every(v => typeof v === 'string' && v.trim())) {
    throw new WebhookPayloadError(`"${key}" must be a non-empty list of non-empty strings`);
  }
  const values = [...new Set((list as string[]).map(v => v.trim()))];
  switch (key) {
    case 'repoURLs':
      return { kind: 'git', repoURLs: values.map(withoutCredentials) };
    case 'images':
      return { kind: 'image', repositories: [...new Set(values.map(normalizeImageRepository))] };
    default:
      return { kind: 'chart', repoURLs: values.map(withoutCredentials) };
  }
}

export const generic: WebhookProvider = { title: 'Generic', secretInPath: false, verify, parse };
