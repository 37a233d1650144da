import type { Config } from '@backstage/config';
import { canonicalRegistryHost, isLoopbackHost } from './imageReference';

/** How to sign in to one registry host: a username and password (or access token as password), or a bearer token used as is. */
export type RegistryCredentials =
  | { username: string; password: string }
  | { token: string };

/** The credentials for a registry host (as in ImageRepository.registry), if any are configured. */
export type CredentialsProvider = (
  registry: string,
) => RegistryCredentials | undefined;

/** One entry of app-config `stagecoach.registries`. */
export interface RegistryHostSettings {
  host: string;
  username?: string;
  password?: string;
  token?: string;
  plainHTTP?: boolean;
  /** At most this many requests per second to the host. */
  requestsPerSecond?: number;
}

/** Reads `stagecoach.registries`; a half-given credential is a configuration error that names the entry, never its secret. */
export function readRegistryHostSettings(
  config: Config,
): RegistryHostSettings[] {
  return (config.getOptionalConfigArray('stagecoach.registries') ?? []).map(
    (c, i) => {
      const s: RegistryHostSettings = {
        host: c.getString('host'),
        username: c.getOptionalString('username'),
        password: c.getOptionalString('password'),
        token: c.getOptionalString('token'),
        plainHTTP: c.getOptionalBoolean('plainHTTP'),
        requestsPerSecond: c.getOptionalNumber('requestsPerSecond'),
      };
      const where = `stagecoach.registries[${i}] (host ${s.host})`;
      if (s.token && (s.username || s.password))
        throw new Error(
          `${where}: give either token, or username and password, not both`,
        );
      if (!s.username !== !s.password)
        throw new Error(`${where}: username and password go together`);
      if (
        s.requestsPerSecond !== undefined &&
        !(Number.isFinite(s.requestsPerSecond) && s.requestsPerSecond > 0)
      )
        throw new Error(
          `${where}: requestsPerSecond must be a number above 0, not ${s.requestsPerSecond}`,
        );
      return s;
    },
  );
}

/**
 * The credentials provider and plain-HTTP rule for a list of host settings. Hosts match after
 * the same normalisation as image names, so `docker.io` in config covers Docker Hub images.
 */
export function registryAccessFromSettings(settings: RegistryHostSettings[]): {
  credentials: CredentialsProvider;
  plainHTTP: (registry: string) => boolean;
  requestsPerSecond: (registry: string) => number | undefined;
} {
  const byHost = new Map(settings.map(s => [canonicalRegistryHost(s.host), s]));
  return {
    credentials: registry => {
      const s = byHost.get(canonicalRegistryHost(registry));
      if (s?.token) return { token: s.token };
      if (s?.username && s.password)
        return { username: s.username, password: s.password };
      return undefined;
    },
    plainHTTP: registry =>
      byHost.get(canonicalRegistryHost(registry))?.plainHTTP === true ||
      isLoopbackHost(registry),
    requestsPerSecond: registry =>
      byHost.get(canonicalRegistryHost(registry))?.requestsPerSecond,
  };
}
