import { parse } from 'yaml';

/**
 * A classic Helm chart repository's `index.yaml` as chart discovery and helm-update-chart
 * read it: for each chart, its versions with where their archives are.
 */

export interface ChartIndexEntry {
  version: string;
  /** Where the archive is: absolute, or relative to the repository URL (as Helm allows). */
  urls: string[];
  /** The archive's sha256, hex, when the index gives it. */
  digest?: string;
}

/** As large as an index.yaml may be: public indexes reach tens of MiB. */
export const MAX_CHART_INDEX_BYTES = 100 * 2 ** 20;

/** chart name -> its entries, in the index's order. */
export type ChartIndex = Map<string, ChartIndexEntry[]>;

const text = (v: unknown) => (typeof v === 'string' || typeof v === 'number' ? String(v) : '');

/**
 * Reads an index.yaml; an Error naming the repository when it is not one. Every scalar is
 * read as text (YAML's failsafe schema), so that a version such as `1.10` stays `1.10`.
 */
export function parseChartIndex(yamlText: string, repoURL: string): ChartIndex {
  let doc: { entries?: unknown } | null;
  try {
    doc = parse(yamlText, { schema: 'failsafe' });
  } catch {
    throw new Error(`chart repository ${repoURL} sent an index.yaml that is not valid YAML`);
  }
  if (!doc || typeof doc !== 'object' || !doc.entries || typeof doc.entries !== 'object') {
    throw new Error(`chart repository ${repoURL} sent an index.yaml without entries`);
  }
  const index: ChartIndex = new Map();
  for (const [name, list] of Object.entries(doc.entries as Record<string, unknown>)) {
    const entries: ChartIndexEntry[] = [];
    for (const e of Array.isArray(list) ? list : []) {
      const version = text(e?.version);
      if (!version) continue;
      const digest = text(e?.digest);
      entries.push({
        version,
        urls: (Array.isArray(e?.urls) ? e.urls : []).map(text).filter(Boolean),
        ...(/^[0-9a-f]{64}$/i.test(digest) ? { digest: digest.toLowerCase() } : {}),
      });
    }
    index.set(name, entries);
  }
  return index;
}

/** `chart repository https://x has no chart named "y" (it has: a, b)`. */
export function noSuchChart(index: ChartIndex, repoURL: string, name: string): string {
  return `chart repository ${repoURL} has no chart named "${name}" (it has: ${[...index.keys()].slice(0, 20).join(', ') || 'none'})`;
}

/** Helm writes a version's `+` as `_` in OCI tags (which cannot hold `+`): the version a tag holds. */
export const chartVersionOfTag = (tag: string) => tag.replace(/_/g, '+');

/** The tag Helm pushes a chart version under. */
export const tagOfChartVersion = (version: string) => version.replace(/\+/g, '_');
