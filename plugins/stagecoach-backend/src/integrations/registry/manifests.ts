/** The manifest formats the client understands: OCI and Docker v2, single images and indexes. */

export const MEDIA_TYPES = {
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerManifestList:
    'application/vnd.docker.distribution.manifest.list.v2+json',
} as const;

/** The Accept header of every manifest request (HEAD and GET). */
export const MANIFEST_ACCEPT = [
  MEDIA_TYPES.ociIndex,
  MEDIA_TYPES.dockerManifestList,
  MEDIA_TYPES.ociManifest,
  MEDIA_TYPES.dockerManifest,
].join(', ');

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

export interface Descriptor {
  mediaType?: string;
  digest: string;
  size?: number;
  platform?: Platform;
  annotations?: Record<string, string>;
}

/** A single image: its config blob and layers. */
export interface ImageManifest {
  kind: 'image';
  mediaType: string;
  config: Descriptor;
}

/** A multi-platform image: one manifest per platform. */
export interface ImageIndex {
  kind: 'index';
  mediaType: string;
  manifests: Descriptor[];
}

/** Something else stored under a tag (e.g. a Docker schema 1 manifest): it has a digest, no more. */
export interface OtherManifest {
  kind: 'other';
  mediaType: string;
}

export type Manifest = ImageManifest | ImageIndex | OtherManifest;

export function isIndexMediaType(mediaType: string | undefined): boolean {
  return (
    mediaType === MEDIA_TYPES.ociIndex ||
    mediaType === MEDIA_TYPES.dockerManifestList
  );
}

export function isImageMediaType(mediaType: string | undefined): boolean {
  return (
    mediaType === MEDIA_TYPES.ociManifest ||
    mediaType === MEDIA_TYPES.dockerManifest
  );
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const DIGEST = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;

function descriptor(v: unknown): Descriptor | undefined {
  if (!isObject(v) || typeof v.digest !== 'string' || !DIGEST.test(v.digest))
    return undefined;
  const p = v.platform;
  const platform =
    isObject(p) &&
    typeof p.os === 'string' &&
    typeof p.architecture === 'string'
      ? {
          os: p.os,
          architecture: p.architecture,
          variant: typeof p.variant === 'string' ? p.variant : undefined,
        }
      : undefined;
  return {
    digest: v.digest,
    mediaType: typeof v.mediaType === 'string' ? v.mediaType : undefined,
    size: typeof v.size === 'number' ? v.size : undefined,
    platform,
  };
}

/**
 * Reads a manifest document. The media type comes from the document or, failing that, from
 * the response's Content-Type. Returns undefined when the document is not of the shape its
 * type promises (the caller reports it as malformed).
 */
export function readManifest(
  json: unknown,
  contentType: string | undefined,
): Manifest | undefined {
  if (!isObject(json)) return undefined;
  const mediaType =
    typeof json.mediaType === 'string'
      ? json.mediaType
      : (contentType ?? '').split(';')[0].trim();
  const looksLikeIndex =
    isIndexMediaType(mediaType) ||
    (!mediaType && Array.isArray(json.manifests));
  if (looksLikeIndex) {
    if (!Array.isArray(json.manifests)) return undefined;
    const manifests = json.manifests.map(descriptor);
    if (manifests.some(m => m === undefined)) return undefined;
    return {
      kind: 'index',
      mediaType: mediaType || MEDIA_TYPES.ociIndex,
      manifests: manifests as Descriptor[],
    };
  }
  const looksLikeImage =
    isImageMediaType(mediaType) || (!mediaType && json.config !== undefined);
  if (looksLikeImage) {
    const config = descriptor(json.config);
    if (!config) return undefined;
    return {
      kind: 'image',
      mediaType: mediaType || MEDIA_TYPES.ociManifest,
      config,
    };
  }
  return { kind: 'other', mediaType };
}

/** The parts of an image config blob that discovery uses. */
export interface ImageConfigSummary {
  /** RFC 3339 build time, as an ISO string, when the config has a valid one. */
  created?: string;
  os?: string;
  architecture?: string;
  variant?: string;
}

export function readImageConfig(json: unknown): ImageConfigSummary | undefined {
  if (!isObject(json)) return undefined;
  const str = (v: unknown) => (typeof v === 'string' && v ? v : undefined);
  const created = str(json.created);
  const time = created ? Date.parse(created) : NaN;
  return {
    // keep the registry's precision out of it: one normalised form, so equal times compare equal
    created: Number.isNaN(time) ? undefined : new Date(time).toISOString(),
    os: str(json.os),
    architecture: str(json.architecture),
    variant: str(json.variant),
  };
}
