import { isDigest } from './RegistryClient';
import { describeRepository, ImageRepository, parseImageRepository } from './imageReference';

/** An artifact as a step names it: a repository and a tag, a digest, or both (`repo:tag@sha256:...`). */
export interface ArtifactReference extends ImageRepository {
  tag?: string;
  digest?: string;
}

/** A tag as the distribution spec allows it. */
const TAG = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;

/**
 * Reads `registry/repository:tag`, `registry/repository@sha256:...` (Helm's `oci://` prefix
 * allowed, as in Kargo). The error says what is wrong with the reference, for the caller
 * to prefix with the field.
 */
export function parseArtifactReference(text: string): ArtifactReference {
  let rest = text.trim().replace(/^oci:\/\//i, '');
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!isDigest(digest)) throw new Error(`"${text}" has an invalid digest "${digest}"`);
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) throw new Error(`"${text}" has an invalid tag "${tag}" (letters, digits, _, . and -, at most 128)`);
  }
  if (!tag && !digest) throw new Error(`"${text}" names no tag or digest (registry/repository:tag or registry/repository@sha256:...)`);
  let repo: ImageRepository;
  try {
    repo = parseImageRepository(rest);
  } catch {
    throw new Error(`"${text}" is not an artifact reference (registry/repository:tag or registry/repository@sha256:...)`);
  }
  if (repo.repository !== repo.repository.toLowerCase()) {
    throw new Error(`"${text}": repository names are lower case`);
  }
  return { ...repo, tag, digest };
}

/** The reference to ask the registry for: the digest when there is one (it pins the content), else the tag. */
export const manifestReference = (ref: ArtifactReference): string => ref.digest ?? ref.tag!;

/** `ghcr.io/acme/api:1.0.0`, for messages and outputs. */
export function describeArtifact(ref: ArtifactReference): string {
  return `${describeRepository(ref)}${ref.tag ? `:${ref.tag}` : ''}${ref.digest ? `@${ref.digest}` : ''}`;
}
