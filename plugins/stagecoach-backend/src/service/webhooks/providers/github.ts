import type { IncomingHttpHeaders } from 'node:http';
import { ignored, ParseResult, WebhookPayloadError, WebhookProvider, WebhookRequest } from '../types';
import { normalizeImageRepository } from '../../../util/repositoryKeys';
import { expectObject, header, hmacSha256Matches, httpURLs, pick, pickString } from '../util';

/**
 * GitHub (and GitHub Enterprise Server) repository or organization webhooks.
 * Signed: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the body>`. Acts on `push` and on
 * `package` / `registry_package` events for container packages (GHCR); answers `ping`.
 */
export function verify(req: WebhookRequest, secret: string): boolean {
  return hmacSha256Matches(header(req.headers, 'x-hub-signature-256'), secret, req.rawBody, 'sha256=');
}

export function parse(headers: IncomingHttpHeaders, body: unknown): ParseResult {
  const event = header(headers, 'x-github-event');
  if (!event) throw new WebhookPayloadError('expected a GitHub delivery with an X-GitHub-Event header');
  const payload = expectObject(body, `the payload of a GitHub "${event}" event`);

  switch (event) {
    case 'ping':
      return ignored('ping: GitHub checked that this receiver answers');
    case 'push': {
      const repo = payload.repository;
      const repoURLs = httpURLs([
        pickString(repo, 'clone_url'),
        pickString(repo, 'html_url'),
        pickString(repo, 'url'),
      ]);
      if (!repoURLs.length) {
        throw new WebhookPayloadError('expected a GitHub push event with repository.clone_url or repository.html_url');
      }
      return { kind: 'git', repoURLs };
    }
    case 'package':
    case 'registry_package':
      return parsePackage(event, payload);
    default:
      return ignored(`GitHub "${event}" events do not change a repository or an image (acted on: push, package)`);
  }
}

function parsePackage(event: string, payload: Record<string, unknown>): ParseResult {
  const pkg = pick(payload, event);
  if (!pkg) throw new WebhookPayloadError(`expected a GitHub ${event} event with a "${event}" object`);
  const type = pickString(pkg, 'package_type')?.toLowerCase();
  if (type !== 'container' && type !== 'docker') {
    return ignored(`GitHub ${event} event for a ${type ?? 'non-container'} package: only container images are acted on`);
  }
  const action = pickString(payload, 'action');
  if (action && action !== 'published' && action !== 'updated') {
    return ignored(`GitHub ${event} event with action "${action}": only published and updated are acted on`);
  }

  // The version's own reference is the most precise (`ghcr.io/acme/api:1.2.3`); otherwise the
  // registry's URL, the owner and the package name.
  const packageURL = pickString(pkg, 'package_version', 'package_url');
  if (packageURL && /^[a-z0-9.-]+\.[a-z]{2,}(:\d+)?\/.+/i.test(packageURL)) {
    return { kind: 'image', repositories: [normalizeImageRepository(packageURL)] };
  }
  const name = pickString(pkg, 'name');
  const owner = pickString(pkg, 'namespace') ?? pickString(pkg, 'owner', 'login');
  if (!name || !owner) {
    throw new WebhookPayloadError(
      `expected a GitHub ${event} event with ${event}.package_version.package_url, or ${event}.name and ${event}.owner.login`,
    );
  }
  const registryURL = pickString(pkg, 'registry', 'url');
  const host = registryURL ? registryURL.replace(/^https?:\/\//i, '').replace(/\/.*$/, '') : 'ghcr.io';
  const decoded = safeDecode(name);
  return { kind: 'image', repositories: [normalizeImageRepository(`${host}/${owner}/${decoded}`)] };
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

export const github: WebhookProvider = { title: 'GitHub', secretInPath: false, verify, parse };
