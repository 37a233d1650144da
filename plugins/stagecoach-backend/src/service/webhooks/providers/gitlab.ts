import type { IncomingHttpHeaders } from 'node:http';
import { ignored, ParseResult, WebhookPayloadError, WebhookProvider, WebhookRequest } from '../types';
import { expectObject, header, httpURLs, pickString, safeEqual } from '../util';

/**
 * GitLab project, group or system hooks. GitLab does not sign: it sends the configured
 * "Secret token" verbatim in `X-Gitlab-Token`. Acts on push and tag push events.
 */
export function verify(req: WebhookRequest, secret: string): boolean {
  const token = header(req.headers, 'x-gitlab-token');
  return !!token && !!secret && safeEqual(token, secret);
}

const ACTED_ON = new Set(['push', 'tag_push']);

export function parse(headers: IncomingHttpHeaders, body: unknown): ParseResult {
  const payload = expectObject(body, 'a GitLab webhook payload');
  const kind = pickString(payload, 'object_kind') ?? pickString(payload, 'event_name');
  if (!kind) throw new WebhookPayloadError('expected a GitLab webhook payload with object_kind');
  if (!ACTED_ON.has(kind)) {
    const name = header(headers, 'x-gitlab-event') ?? kind;
    return ignored(`GitLab "${name}" events do not change a repository (acted on: Push Hook, Tag Push Hook)`);
  }
  const repoURLs = httpURLs([
    pickString(payload, 'project', 'git_http_url'),
    pickString(payload, 'project', 'web_url'),
    pickString(payload, 'repository', 'git_http_url'),
    pickString(payload, 'repository', 'homepage'),
  ]);
  if (!repoURLs.length) {
    throw new WebhookPayloadError(`expected a GitLab ${kind} event with project.git_http_url or project.web_url`);
  }
  return { kind: 'git', repoURLs };
}

export const gitlab: WebhookProvider = { title: 'GitLab', secretInPath: false, verify, parse };
