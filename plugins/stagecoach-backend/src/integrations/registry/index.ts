/** The OCI distribution client used by image discovery (and by anything else that reads registries). */
export { RegistryClient, isDigest } from './RegistryClient';
export type {
  RegistryClientOptions,
  RegistryRequestEvent,
  CallOptions,
  ManifestResult,
  ManifestHead,
} from './RegistryClient';
export {
  readRegistryHostSettings,
  registryAccessFromSettings,
} from './credentials';
export type {
  CredentialsProvider,
  RegistryCredentials,
  RegistryHostSettings,
} from './credentials';
export { RegistryError, isRegistryError } from './errors';
export type { RegistryErrorKind } from './errors';
export {
  parseImageRepository,
  describeRepository,
  canonicalRegistryHost,
  isLoopbackHost,
  DOCKER_HUB_REGISTRY,
} from './imageReference';
export type { ImageRepository } from './imageReference';
export { resolveTag } from './resolveImage';
export type { ResolveOptions, Resolution, ResolvedImage } from './resolveImage';
export { DEFAULT_PLATFORM, parsePlatform, formatPlatform } from './platform';
