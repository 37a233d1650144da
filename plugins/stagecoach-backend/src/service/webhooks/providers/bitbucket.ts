import type { IncomingHttpHeaders } from 'node:http';
import { ignored, ParseResult, WebhookPayloadError, WebhookProvider, WebhookRequest } from '../types';
import { asArray, expectObject, header, hmacSha256Matches, httpURLs, isObject, pick, pickString } from '../util';

/**
 * Bitbucket Data Center / Server and Bitbucket Cloud webhooks. Both sign with the configured
 * secret: `X-Hub-Signature: sha256=<hex HMAC-SHA256 of the body>`; the event is in `X-Event-Key`.
 * Acts on `repo:refs_changed` and `mirror:repo_synchronized` (Data Center) and `repo:push`
 * (Cloud); answers `diagnostics:ping` (Data Center's "Test connection").
 */
export function verify(req: WebhookRequest, secret: string): boolean {
  return hmacSha256Matches(header(req.headers, 'x-hub-signature'), secret, req.rawBody, 'sha256=');
}

export function parse(headers: IncomingHttpHeaders, body: unknown): ParseResult {
  const event = header(headers, 'x-event-key');
  if (!event) throw new WebhookPayloadError('expected a Bitbucket delivery with an X-Event-Key header');
  switch (event) {
    case 'diagnostics:ping':
      return ignored('diagnostics:ping: Bitbucket checked that this receiver answers');
    case 'repo:refs_changed':
    case 'mirror:repo_synchronized':
      return dataCenterPush(event, expectObject(body, `the payload of a Bitbucket ${event} event`));
    case 'repo:push':
      return cloudPush(expectObject(body, 'the payload of a Bitbucket repo:push event'));
    default:
      return ignored(
        `Bitbucket "${event}" events do not change a repository (acted on: repo:refs_changed, repo:push, mirror:repo_synchronized)`,
      );
  }
}

/** Data Center lists clone links by protocol; its `self` link is the repository's browse page. */
function dataCenterPush(event: string, payload: Record<string, unknown>): ParseResult {
  const links = pick(payload, 'repository', 'links');
  const clone = asArray(pick(links, 'clone'))
    .filter(isObject)
    .filter(l => l.name === 'http' || l.name === 'https')
    .map(l => pickString(l, 'href'));
  const fromBrowse = asArray(pick(links, 'self'))
    .map(l => pickString(l, 'href'))
    .map(href => {
      const m = href && /^(https?:\/\/.+?)\/projects\/([^/]+)\/repos\/([^/]+)(\/browse)?\/?$/i.exec(href);
      return m ? `${m[1]}/scm/${m[2].toLowerCase()}/${m[3]}.git` : undefined;
    });
  const repoURLs = httpURLs([...clone, ...fromBrowse]);
  if (!repoURLs.length) {
    throw new WebhookPayloadError(
      `expected a Bitbucket ${event} event with repository.links.clone (an http link) or repository.links.self`,
    );
  }
  return { kind: 'git', repoURLs };
}

/** Cloud links only the repository's web page, which is also its clone URL without `.git`. */
function cloudPush(payload: Record<string, unknown>): ParseResult {
  const html = pickString(payload, 'repository', 'links', 'html', 'href');
  const fullName = pickString(payload, 'repository', 'full_name');
  const repoURLs = httpURLs([html ?? (fullName ? `https://bitbucket.org/${fullName}` : undefined)]);
  if (!repoURLs.length) {
    throw new WebhookPayloadError(
      'expected a Bitbucket repo:push event with repository.links.html.href or repository.full_name',
    );
  }
  return { kind: 'git', repoURLs };
}

export const bitbucket: WebhookProvider = { title: 'Bitbucket', secretInPath: false, verify, parse };
