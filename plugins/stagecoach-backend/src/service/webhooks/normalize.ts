import { stripTagAndDigest, withoutCredentials } from './util';
import type { WebhookEvent } from './types';

const DOCKER_HUB = 'docker.io';
const DOCKER_HUB_ALIASES = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io', 'registry.hub.docker.com']);

/**
 * A Git repository URL reduced to what identifies the repository, for comparison only:
 * no scheme, credentials, default port, query, trailing slash or `.git`; lower case (hosting
 * services treat paths case-insensitively, and a needless refresh is harmless).
 * `git@host:owner/repo.git` (scp-like SSH) becomes `host/owner/repo` too.
 *
 *   https://User:tok@GitHub.com/Acme/App.git/  ->  github.com/acme/app
 */
export function normalizeGitURL(url: string): string {
  let s = url.trim();
  const scp = /^[^/@:\s]+@([^/:\s]+):(?!\d+\/)(.+)$/.exec(s);
  if (scp) s = `ssh://${scp[1]}/${scp[2]}`;
  s = withoutCredentials(s);
  s = s.replace(/[?#].*$/, '');
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(s);
  let rest = scheme ? s.slice(scheme[0].length) : s;
  rest = rest.replace(/^([^/]+):(80|443)(?=\/|$)/, (whole, host: string, port: string) => {
    const proto = scheme?.[1].toLowerCase();
    return (proto === 'http' && port === '80') || (proto === 'https' && port === '443') ? host : whole;
  });
  rest = rest.replace(/\/+$/, '').replace(/\.git$/i, '').replace(/\/+$/, '');
  return rest.toLowerCase();
}

/**
 * An image repository in its canonical form: registry host, then path; Docker Hub spelled
 * `docker.io` and its official images under `library/`; tag and digest dropped.
 *
 *   nginx                                  ->  docker.io/library/nginx
 *   registry-1.docker.io/bitnami/redis:7   ->  docker.io/bitnami/redis
 *   GHCR.io/acme/api@sha256:...            ->  ghcr.io/acme/api
 */
export function normalizeImageRepository(reference: string): string {
  let ref = reference.trim().replace(/^(oci|https?|docker):\/\//i, '');
  ref = stripTagAndDigest(ref).replace(/\/+$/, '');
  const parts = ref.split('/');
  const first = parts[0];
  const hasHost = parts.length > 1 && (first.includes('.') || first.includes(':') || first.toLowerCase() === 'localhost');
  let host = hasHost ? first.toLowerCase() : DOCKER_HUB;
  const path = (hasHost ? parts.slice(1) : parts).join('/').toLowerCase();
  if (DOCKER_HUB_ALIASES.has(host)) host = DOCKER_HUB;
  if (host === DOCKER_HUB && !path.includes('/')) return `${host}/library/${path}`;
  return `${host}/${path}`;
}

/**
 * A chart source for comparison: `oci://` references become `oci://<image repository>`; http(s)
 * chart repositories are compared like Git URLs (and `/index.yaml` is dropped).
 */
export function normalizeChartURL(url: string): string {
  const s = url.trim();
  if (/^oci:\/\//i.test(s)) return `oci://${normalizeImageRepository(s)}`;
  return normalizeGitURL(s.replace(/\/index\.ya?ml\/?$/i, ''));
}

/** The subscription shapes of a Warehouse (see manifests/schemas.ts); only the fields matched on. */
export interface SubscriptionLike {
  git?: { repoURL: string };
  image?: { repoURL: string };
  chart?: { repoURL: string; name?: string };
}

/**
 * Whether a warehouse subscription is about what the event says changed.
 *
 * - git events match git subscriptions of the same repository;
 * - image events match image subscriptions of the same repository, and `oci://` chart
 *   subscriptions of it (registries host Helm charts as OCI artifacts);
 * - chart events match chart subscriptions whose repository is the one named, or
 *   `<repository>/<chart name>`.
 */
export function matchesSubscription(event: WebhookEvent, subscription: SubscriptionLike): boolean {
  switch (event.kind) {
    case 'git': {
      if (!subscription.git) return false;
      const wanted = normalizeGitURL(subscription.git.repoURL);
      return event.repoURLs.some(u => normalizeGitURL(u) === wanted);
    }
    case 'image': {
      const repos = new Set(event.repositories.map(normalizeImageRepository));
      if (subscription.image) return repos.has(normalizeImageRepository(subscription.image.repoURL));
      if (subscription.chart && /^oci:\/\//i.test(subscription.chart.repoURL)) {
        return repos.has(normalizeImageRepository(subscription.chart.repoURL));
      }
      return false;
    }
    case 'chart': {
      if (!subscription.chart) return false;
      const { repoURL, name } = subscription.chart;
      const candidates = new Set([normalizeChartURL(repoURL)]);
      if (name) candidates.add(normalizeChartURL(`${repoURL.replace(/\/+$/, '')}/${name}`));
      return event.repoURLs.some(u => candidates.has(normalizeChartURL(u)));
    }
    default:
      return false;
  }
}

/** The warehouses (as `project/name`) with at least one subscription the event matches. */
export function warehousesMatching(
  event: WebhookEvent,
  warehouses: Iterable<{ project: string; name: string; subscriptions: readonly SubscriptionLike[] }>,
): string[] {
  const refs: string[] = [];
  for (const w of warehouses) {
    if (w.subscriptions.some(s => matchesSubscription(event, s))) refs.push(`${w.project}/${w.name}`);
  }
  return refs;
}
