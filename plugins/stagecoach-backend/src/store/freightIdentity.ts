import { createHash } from 'node:crypto';
import {
  adjectives,
  animals,
  uniqueNamesGenerator,
} from 'unique-names-generator';

/**
 * What a freight holds: by field, the artifact versions it bundles, as stored with it. Each
 * subscription kind names its field (discovery/<kind>/: `commits`, `images`, `charts`) and
 * declares its type here by declaration merging, so that this module names no kind.
 */
export interface FreightArtifacts {
  [field: string]: unknown[] | undefined;
}

/** How the engine names freight's artifacts in its ID: one reference per artifact, from its kind. */
export type ArtifactReferences = (artifacts: FreightArtifacts) => string[];

/**
 * The freight ID: sha1 over the origin and the sorted artifact references. The same
 * artifacts from the same warehouse always give the same ID; a re-pushed tag (new digest
 * or commit) gives a new one.
 */
export function freightId(
  warehouse: string,
  references: readonly string[],
): string {
  const parts = [...references].sort();
  return createHash('sha1')
    .update(`Warehouse/${warehouse}:${parts.join('|')}`)
    .digest('hex');
}

/** A readable alias such as `brave-otter`. */
export function randomAlias(): string {
  return uniqueNamesGenerator({
    dictionaries: [adjectives, animals],
    separator: '-',
    style: 'lowerCase',
    length: 2,
  }).replace(/[^a-z0-9-]+/g, '-');
}
