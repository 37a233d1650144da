import type { ImageRepository } from './imageReference';
import { isImageMediaType, isIndexMediaType, Platform } from './manifests';
import {
  DEFAULT_PLATFORM,
  platformMatches,
  selectPlatformManifest,
} from './platform';
import type { CallOptions, RegistryClient } from './RegistryClient';

export interface ResolveOptions extends CallOptions {
  /** The platform the image must be for; see DEFAULT_PLATFORM for what happens without one. */
  platform?: Platform;
  /** Read the build time from the config blob (one manifest and one blob GET per new digest). */
  withCreated?: boolean;
}

/** What a tag resolves to. */
export type Resolution =
  | { found: true; image: ResolvedImage }
  /** The tag exists but has no image for the platform asked for. */
  | { found: true; image: undefined }
  | { found: false };

export interface ResolvedImage {
  /** The digest to deploy: the platform's manifest when the tag is a multi-platform index. */
  digest: string;
  /** The digest the tag points at (the index's, for a multi-platform image). */
  tagDigest: string;
  /** Build time from the image config, when asked for and known. */
  createdAt?: string;
}

const MAX_NESTING = 3;

/**
 * Resolves a tag to the image to deploy with as few requests as it can: one HEAD for the
 * tag (HEADs do not count against Docker Hub's pull rate limit; GETs of manifests do), then
 * only digest-addressed reads, which the client caches forever.
 *  - a single image, no platform asked for, no build time wanted: the HEAD is all;
 *  - an index: its manifest (cached) says which digest is the platform's image;
 *  - a platform to check on a single image, or a build time to read: the image manifest and
 *    its config blob (both cached).
 */
export async function resolveTag(
  client: RegistryClient,
  repo: ImageRepository,
  tag: string,
  options: ResolveOptions = {},
): Promise<Resolution> {
  const head = await client.headManifest(repo, tag, options);
  if (!head) return { found: false };
  const image = await resolveDigest(
    client,
    repo,
    head.digest,
    head.mediaType,
    options,
    0,
  );
  return { found: true, image: image && { ...image, tagDigest: head.digest } };
}

async function resolveDigest(
  client: RegistryClient,
  repo: ImageRepository,
  digest: string,
  mediaType: string | undefined,
  options: ResolveOptions,
  depth: number,
): Promise<Omit<ResolvedImage, 'tagDigest'> | undefined> {
  if (isImageMediaType(mediaType) && !options.platform && !options.withCreated)
    return { digest };
  if (
    !isImageMediaType(mediaType) &&
    !isIndexMediaType(mediaType) &&
    mediaType &&
    !options.platform &&
    !options.withCreated
  ) {
    // something other than an image (e.g. a schema 1 manifest): its digest is all there is to know
    return { digest };
  }
  const { manifest } = await client.getManifest(repo, digest, options);
  if (manifest.kind === 'index') {
    const entry = selectPlatformManifest(
      manifest.manifests,
      options.platform ?? DEFAULT_PLATFORM,
    );
    if (!entry) {
      // an index without the platform asked for has nothing to offer; without one asked for
      // and without linux/amd64, the index itself is what there is to deploy
      return options.platform ? undefined : { digest };
    }
    if (depth >= MAX_NESTING) return undefined;
    if (!options.withCreated && isImageMediaType(entry.mediaType))
      return { digest: entry.digest };
    // the index entry already vouched for the platform: only the build time is left to read
    return resolveDigest(
      client,
      repo,
      entry.digest,
      entry.mediaType,
      { ...options, platform: undefined },
      depth + 1,
    );
  }
  if (manifest.kind === 'other')
    return options.platform ? undefined : { digest };
  const config = await client.getConfig(repo, manifest.config, options);
  if (options.platform && !platformMatches(options.platform, config))
    return undefined;
  return {
    digest,
    createdAt: options.withCreated ? config.created : undefined,
  };
}
