import { createHash } from 'node:crypto';
import { adjectives, animals, uniqueNamesGenerator } from 'unique-names-generator';
import type { Chart, GitCommit, Image } from '@stagecoach/plugin-stagecoach-common';
import { normalizeGitURL } from '../util/gitUrl';

/** What a freight holds: the artifact versions it bundles, as stored with it. */
export interface FreightArtifacts {
  commits: GitCommit[];
  images: Image[];
  charts: Chart[];
}

/**
 * The freight ID: sha1 over the origin and the sorted artifact references. The same
 * artifacts from the same warehouse always give the same ID; a re-pushed tag (new digest
 * or commit) gives a new one.
 */
export function freightId(warehouse: string, artifacts: FreightArtifacts): string {
  const parts = [
    ...artifacts.commits.map(c => `${normalizeGitURL(c.repoURL)}${c.tag ? `:${c.tag}` : ''}:${c.id}`),
    ...artifacts.images.map(i => `${i.repoURL}:${i.tag}@${i.digest}`),
    ...artifacts.charts.map(c => `${c.repoURL.replace(/\/+$/, '')}${c.name ? `/${c.name}` : ''}:${c.version}`),
  ].sort();
  return createHash('sha1').update(`Warehouse/${warehouse}:${parts.join('|')}`).digest('hex');
}

/** A readable alias such as `brave-otter`. */
export function randomAlias(): string {
  return uniqueNamesGenerator({ dictionaries: [adjectives, animals], separator: '-', style: 'lowerCase', length: 2 })
    .replace(/[^a-z0-9-]+/g, '-');
}
