import type { IncomingHttpHeaders } from 'node:http';
import { ignored, ParseResult, WebhookPayloadError, WebhookProvider, WebhookRequest } from '../types';
import { expectObject, header, hmacSha256Matches, httpURLs, pickString } from '../util';

/**
 * Gitea (and Forgejo, which sends the same headers under both names) repository, organization
 * or system webhooks. Signed: `X-Gitea-Signature: <hex HMAC-SHA256 of the body>`; recent versions
 * also send `X-Hub-Signature-256: sha256=<hex>`, which is accepted too. Acts on push events
 * (branch and tag pushes).
 */
export function verify(req: WebhookRequest, secret: string): boolean {
  const { headers, rawBody } = req;
  const bare = header(headers, 'x-gitea-signature') ?? header(headers, 'x-forgejo-signature');
  if (bare !== undefined) return hmacSha256Matches(bare, secret, rawBody);
  return hmacSha256Matches(header(headers, 'x-hub-signature-256'), secret, rawBody, 'sha256=');
}

export function parse(headers: IncomingHttpHeaders, body: unknown): ParseResult {
  const event = header(headers, 'x-gitea-event') ?? header(headers, 'x-forgejo-event') ?? header(headers, 'x-gogs-event');
  if (!event) throw new WebhookPayloadError('expected a Gitea delivery with an X-Gitea-Event header');
  if (event !== 'push') {
    return ignored(`Gitea "${event}" events do not change a repository (acted on: push)`);
  }
  const payload = expectObject(body, 'the payload of a Gitea push event');
  const repoURLs = httpURLs([pickString(payload, 'repository', 'clone_url'), pickString(payload, 'repository', 'html_url')]);
  if (!repoURLs.length) {
    throw new WebhookPayloadError('expected a Gitea push event with repository.clone_url or repository.html_url');
  }
  return { kind: 'git', repoURLs };
}

export const gitea: WebhookProvider = { title: 'Gitea', secretInPath: false, verify, parse };
