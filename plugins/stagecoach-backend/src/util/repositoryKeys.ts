/*
 * Repository names reduced to what identifies the repository, so that two spellings of one
 * source compare equal: a webhook's change is matched against subscriptions with them. Loose on
 * purpose (case, scheme, credentials are dropped): a needless refresh is harmless.
 */

const DOCKER_HUB = 'docker.io';
const DOCKER_HUB_ALIASES = new Set([
  'docker.io',
  'index.docker.io',
  'registry-1.docker.io',
  'registry.hub.docker.com',
]);

/** `https://user:token@host/x` -> `https://host/x`; anything that is not a URL is returned as is. */
export function withoutCredentials(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@?#]*@/i, '$1');
}

/** `host/path:tag` or `host/path@sha256:...` -> `host/path` (a port in the host is kept). */
export function stripTagAndDigest(reference: string): string {
  let ref = reference.trim();
  const at = ref.indexOf('@');
  if (at >= 0) ref = ref.slice(0, at);
  const lastSlash = ref.lastIndexOf('/');
  const colon = ref.lastIndexOf(':');
  if (colon > lastSlash) ref = ref.slice(0, colon);
  return ref;
}

/**
 * A Git repository URL reduced to what identifies the repository, for comparison only:
 * no scheme, credentials, default port, query, trailing slash or `.git`; lower case (hosting
 * services treat paths case-insensitively). `git@host:owner/repo.git` (scp-like SSH) becomes
 * `host/owner/repo` too.
 *
 *   https://User:tok@GitHub.com/Acme/App.git/  ->  github.com/acme/app
 */
export function gitRepositoryKey(url: string): string {
  let s = url.trim();
  const scp = /^[^/@:\s]+@([^/:\s]+):(?!\d+\/)(.+)$/.exec(s);
  if (scp) s = `ssh://${scp[1]}/${scp[2]}`;
  s = withoutCredentials(s);
  s = s.replace(/[?#].*$/, '');
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(s);
  let rest = scheme ? s.slice(scheme[0].length) : s;
  rest = rest.replace(
    /^([^/]+):(80|443)(?=\/|$)/,
    (whole, host: string, port: string) => {
      const proto = scheme?.[1].toLowerCase();
      return (proto === 'http' && port === '80') ||
        (proto === 'https' && port === '443')
        ? host
        : whole;
    },
  );
  rest = rest
    .replace(/\/+$/, '')
    .replace(/\.git$/i, '')
    .replace(/\/+$/, '');
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
  const hasHost =
    parts.length > 1 &&
    (first.includes('.') ||
      first.includes(':') ||
      first.toLowerCase() === 'localhost');
  let host = hasHost ? first.toLowerCase() : DOCKER_HUB;
  const path = (hasHost ? parts.slice(1) : parts).join('/').toLowerCase();
  if (DOCKER_HUB_ALIASES.has(host)) host = DOCKER_HUB;
  if (host === DOCKER_HUB && !path.includes('/'))
    return `${host}/library/${path}`;
  return `${host}/${path}`;
}

/**
 * A chart source for comparison: `oci://` references become `oci://<image repository>`; http(s)
 * chart repositories are compared like Git URLs (and `/index.yaml` is dropped).
 */
export function chartRepositoryKey(url: string): string {
  const s = url.trim();
  if (/^oci:\/\//i.test(s)) return `oci://${normalizeImageRepository(s)}`;
  return gitRepositoryKey(s.replace(/\/index\.ya?ml\/?$/i, ''));
}
