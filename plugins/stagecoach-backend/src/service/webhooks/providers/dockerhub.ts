import type { IncomingHttpHeaders } from 'node:http';
import { ParseResult, WebhookPayloadError, WebhookProvider, WebhookRequest } from '../types';
import { normalizeImageRepository } from '../../../util/repositoryKeys';
import { expectObject, pickString, safeEqual } from '../util';

/**
 * Docker Hub repository webhooks. Docker Hub neither signs nor sends custom headers, so the
 * secret is the last segment of the URL: `POST /api/stagecoach/webhooks/<name>/<secret>`.
 * Every delivery is a push.
 */
export function verify(req: WebhookRequest, secret: string): boolean {
  return !!req.pathSecret && !!secret && safeEqual(req.pathSecret, secret);
}

export function parse(_headers: IncomingHttpHeaders, body: unknown): ParseResult {
  const payload = expectObject(body, 'a Docker Hub webhook payload');
  const repoName = pickString(payload, 'repository', 'repo_name');
  const namespace = pickString(payload, 'repository', 'namespace');
  const name = pickString(payload, 'repository', 'name');
  const path = repoName ?? (namespace && name ? `${namespace}/${name}` : name);
  if (!path) {
    throw new WebhookPayloadError('expected a Docker Hub push payload with repository.repo_name');
  }
  // Docker Hub names never carry a registry host: `acme/api` or, for official images, `nginx`.
  return { kind: 'image', repositories: [normalizeImageRepository(`docker.io/${path}`)] };
}

export const dockerhub: WebhookProvider = { title: 'Docker Hub', secretInPath: true, verify, parse };
