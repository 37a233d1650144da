/**
 * Image repository names as users write them (`nginx`, `ghcr.io/acme/api`, `host:5000/team/app`),
 * turned into the registry host to talk to and the repository path on it.
 */

/** Where Docker Hub's distribution API lives; `docker.io` is only its public name. */
export const DOCKER_HUB_REGISTRY = 'registry-1.docker.io';
const DOCKER_HUB_ALIASES = new Set([
  'docker.io',
  'index.docker.io',
  DOCKER_HUB_REGISTRY,
]);

export interface ImageRepository {
  /** The API host, with its port when one is given: `ghcr.io`, `127.0.0.1:5000`, `registry-1.docker.io`. */
  registry: string;
  /** The repository path on that host: `acme/api`, `library/nginx`. */
  repository: string;
}

/** Lower-cases a host and maps Docker Hub's public names to its API host. */
export function canonicalRegistryHost(host: string): string {
  const h = host
    .trim()
    .replace(/^[a-z][a-z0-9+.-]*:\/\//i, '')
    .replace(/\/+$/, '')
    .toLowerCase();
  return DOCKER_HUB_ALIASES.has(h) ? DOCKER_HUB_REGISTRY : h;
}

/** The first path component names a host when it looks like one (Docker's rule). */
function looksLikeHost(component: string): boolean {
  return (
    component.includes('.') ||
    component.includes(':') ||
    component === 'localhost' ||
    component.startsWith('[')
  );
}

/**
 * Splits an image repository name into registry host and repository path. Names without a
 * host are on Docker Hub, and single-component Docker Hub names are official images under
 * `library/`. A tag or digest is not part of a repository name and is refused.
 */
export function parseImageRepository(name: string): ImageRepository {
  const trimmed = name.trim();
  if (!trimmed || /\s/.test(trimmed))
    throw new Error(`"${name}" is not an image repository name`);
  const parts = trimmed.split('/');
  let registry = DOCKER_HUB_REGISTRY;
  if (parts.length > 1 && looksLikeHost(parts[0]))
    registry = canonicalRegistryHost(parts.shift()!);
  const last = parts[parts.length - 1];
  if (last.includes('@') || last.includes(':')) {
    throw new Error(
      `"${name}" names a tag or digest; an image subscription takes the repository only (e.g. ghcr.io/acme/api)`,
    );
  }
  if (parts.some(p => p === '') || parts.length === 0)
    throw new Error(`"${name}" is not an image repository name`);
  if (registry === DOCKER_HUB_REGISTRY && parts.length === 1)
    parts.unshift('library');
  return { registry, repository: parts.join('/') };
}

/** The name people know a registry by (Docker Hub's API host reads as docker.io). */
export function displayRegistry(registry: string): string {
  return registry === DOCKER_HUB_REGISTRY ? 'docker.io' : registry;
}

/** `ghcr.io/acme/api`, `docker.io/library/nginx`: for messages. */
export function describeRepository(repo: ImageRepository): string {
  return `${displayRegistry(repo.registry)}/${repo.repository}`;
}

/** The host part without its port: `127.0.0.1:5000` -> `127.0.0.1`, `[::1]:5000` -> `::1`. */
export function hostWithoutPort(registry: string): string {
  if (registry.startsWith('[')) return registry.slice(1, registry.indexOf(']'));
  return registry.replace(/:\d+$/, '');
}

/** Loopback hosts are spoken to in plain HTTP unless configured otherwise. */
export function isLoopbackHost(registry: string): boolean {
  const host = hostWithoutPort(registry).toLowerCase();
  return (
    host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host)
  );
}
