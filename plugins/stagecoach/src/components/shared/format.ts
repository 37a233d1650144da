import type {
  Chart,
  Freight,
  GitCommit,
  Image,
  RequestedFreight,
} from '@stagecoach/plugin-stagecoach-common';

/** `https://github.com/acme/app.git` and `git@github.com:acme/app.git` → `github.com/acme/app`. */
export function compactRepoURL(url: string): string {
  return url
    .trim()
    .replace(/^[a-z][a-z0-9+.-]*:\/\//i, '')
    .replace(/^[^@/]+@/, '')
    .replace(/^([^/:]+):(?!\d+\/)/, '$1/')
    .replace(/\.git$/, '')
    .replace(/\/+$/, '');
}

/** A commit as people name it: its tag, else its short SHA. */
export function commitVersion(commit: GitCommit): string {
  return commit.tag || commit.id.slice(0, 7);
}

export function commitLabel(commit: GitCommit): string {
  return `${compactRepoURL(commit.repoURL)}@${commitVersion(commit)}`;
}

export function imageLabel(image: Image): string {
  return `${compactRepoURL(image.repoURL)}:${image.tag}`;
}

export function chartLabel(chart: Chart): string {
  const name =
    chart.name || compactRepoURL(chart.repoURL).split('/').pop() || 'chart';
  return `${name}:${chart.version}`;
}

/** One artifact of a freight as short as people say it, with the full name for a tooltip. */
export interface ShortVersion {
  /** `v1.2.0` (a commit's tag), `1234567` (its short SHA), `1.2.0` (an image tag), `0.9.1` (a chart version). */
  version: string;
  /** `github.com/acme/shop@v1.2.0`, `ghcr.io/acme/shop:1.2.0`, `shop:0.9.1`. */
  label: string;
}

/** The versions a freight carries, shortest form, in the order commits, images, charts. */
export function shortVersions(
  freight: Partial<Pick<Freight, 'commits' | 'images' | 'charts'>>,
): ShortVersion[] {
  return [
    ...(freight.commits ?? []).map(c => ({
      version: commitVersion(c),
      label: commitLabel(c),
    })),
    ...(freight.images ?? []).map(i => ({
      version: i.tag || i.digest.slice(0, 19),
      label: imageLabel(i),
    })),
    ...(freight.charts ?? []).map(c => ({
      version: c.version,
      label: chartLabel(c),
    })),
  ];
}

/** Where a stage takes freight from: "upstream: dev" or "direct from warehouse app". */
export function sourcesLabel(requested: RequestedFreight[]): string {
  const parts: string[] = [];
  for (const r of requested) {
    if (r.sources.direct) parts.push(`direct from warehouse ${r.origin.name}`);
    if (r.sources.stages.length) {
      parts.push(`upstream: ${r.sources.stages.join(', ')}`);
    }
  }
  return parts.join(' · ');
}

/** "12s", "3m 04s", "1h 02m"; under a second in milliseconds. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '';
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h ${String(m % 60).padStart(2, '0')}m`;
}

/** How long something took, or has been running so far. */
export function durationBetween(
  startedAt: string | undefined,
  finishedAt: string | undefined,
  now: number = Date.now(),
): string {
  if (!startedAt) return '';
  const start = Date.parse(startedAt);
  const end = finishedAt ? Date.parse(finishedAt) : now;
  if (Number.isNaN(start) || Number.isNaN(end)) return '';
  return formatDuration(Math.max(0, end - start));
}

const units: Array<[Intl.RelativeTimeFormatUnit, number]> = [
  ['year', 365 * 24 * 3600],
  ['month', 30 * 24 * 3600],
  ['week', 7 * 24 * 3600],
  ['day', 24 * 3600],
  ['hour', 3600],
  ['minute', 60],
  ['second', 1],
];

/** "3 minutes ago", "yesterday"; empty for a missing or malformed time. */
export function timeAgo(
  iso: string | undefined,
  now: number = Date.now(),
): string {
  if (!iso) return '';
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return '';
  const seconds = Math.round((t - now) / 1000);
  if (Math.abs(seconds) < 10) return 'just now';
  const rtf = new Intl.RelativeTimeFormat('en', { numeric: 'auto' });
  for (const [unit, size] of units) {
    if (Math.abs(seconds) >= size || unit === 'second') {
      return rtf.format(Math.round(seconds / size), unit);
    }
  }
  return '';
}

/** The full local date and time, for tooltips. */
export function absoluteTime(iso: string | undefined): string {
  if (!iso) return '';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString();
}

/** How long freight soaked in a stage after verification there: "2h 05m". */
export function soakLabel(longestSoakSeconds: number | undefined): string {
  if (longestSoakSeconds === undefined) return '';
  return formatDuration(longestSoakSeconds * 1000);
}

/**
 * The URL if it is an http(s) address, else undefined: step outputs are data from other
 * systems, and a `javascript:` link must never become clickable.
 */
export function httpUrl(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  try {
    const url = new URL(value);
    return url.protocol === 'https:' || url.protocol === 'http:'
      ? value
      : undefined;
  } catch {
    return undefined;
  }
}
