import type { Chart, GitCommit, Image } from '@stagecoach/plugin-stagecoach-common';

/**
 * What a subscriber found out cheaply: a digest of the source's current state. When it is
 * the same as last time, discovery stops there and writes nothing.
 */
export interface Probe {
  hash: string;
  /** Whatever the subscriber wants to reuse in discover() (e.g. the tag list it fetched). */
  state?: unknown;
}

/** One kind of artifact source (git, image, chart): a module behind this interface. */
export interface Subscriber<Sub, Artifact> {
  /** Cheap look at the source: a digest of what is there now. */
  probe(sub: Sub): Promise<Probe>;
  /** The artifacts the subscription selects, newest (or best) first, at most discoveryLimit. */
  discover(sub: Sub, probe: Probe): Promise<Artifact[]>;
}

export type DiscoveredArtifacts =
  | { kind: 'git'; repoURL: string; commits: GitCommit[] }
  | { kind: 'image'; repoURL: string; images: Image[] }
  | { kind: 'chart'; repoURL: string; name?: string; charts: Chart[] };
