import type { Descriptor, ImageConfigSummary, Platform } from './manifests';

/**
 * When an image is multi-platform and the subscription names no platform, discovery resolves
 * the index to its linux/amd64 image: that is what most clusters run, and it is what
 * `docker pull` on such a node would fetch. Set `platform` on the subscription for anything else.
 */
export const DEFAULT_PLATFORM: Platform = {
  os: 'linux',
  architecture: 'amd64',
};

/** `linux/arm64/v8` -> {os: linux, architecture: arm64, variant: v8}. */
export function parsePlatform(text: string): Platform {
  const [os, architecture, variant, ...rest] = text.trim().split('/');
  if (!os || !architecture || rest.length)
    throw new Error(
      `platform "${text}" must be os/arch or os/arch/variant, such as linux/amd64`,
    );
  return { os, architecture, variant: variant || undefined };
}

export function formatPlatform(p: Platform): string {
  return [p.os, p.architecture, p.variant].filter(Boolean).join('/');
}

/** arm64 images often say variant v8 and often say nothing; both mean the same. */
function sameVariant(
  architecture: string,
  wanted: string | undefined,
  actual: string | undefined,
): boolean {
  if (!wanted || wanted === actual) return true;
  return architecture === 'arm64' && wanted === 'v8' && !actual;
}

/** Whether an image (by its index entry or config) is for the wanted platform. */
export function platformMatches(
  wanted: Platform,
  actual: Partial<Platform> | ImageConfigSummary | undefined,
): boolean {
  if (!actual?.os || !actual.architecture) return false;
  return (
    actual.os === wanted.os &&
    actual.architecture === wanted.architecture &&
    sameVariant(wanted.architecture, wanted.variant, actual.variant)
  );
}

/**
 * The index entry for a platform. With no variant asked for, an entry without a variant is
 * preferred over one with, then the first in the index. Attestation entries (platform
 * unknown/unknown) never match.
 */
export function selectPlatformManifest(
  manifests: Descriptor[],
  wanted: Platform,
): Descriptor | undefined {
  const matching = manifests.filter(m => platformMatches(wanted, m.platform));
  if (wanted.variant) return matching[0];
  return matching.find(m => !m.platform?.variant) ?? matching[0];
}
