/** Durations and lists as the API's explanations write them. */

const UNITS: Array<[string, number]> = [
  ['d', 86_400_000],
  ['h', 3_600_000],
  ['m', 60_000],
  ['s', 1000],
];

/** `45s`, `7m`, `7m30s`, `1h5m`, `2d3h`: the two largest units, whole seconds rounded down. */
export function formatDuration(ms: number): string {
  let rest = Math.max(0, Math.floor(ms / 1000) * 1000);
  const parts: string[] = [];
  for (const [unit, size] of UNITS) {
    const n = Math.floor(rest / size);
    rest -= n * size;
    if (n > 0 || parts.length > 0) parts.push(`${n}${unit}`);
    if (parts.length === 2) break;
  }
  const shown = parts.filter((p, i) => i === 0 || !p.startsWith('0'));
  return shown.length > 0 ? shown.join('') : '0s';
}

/** How long ago, in words: `3m ago`, or `just now` under a second. */
export function ago(ms: number): string {
  return ms < 1000 ? 'just now' : `${formatDuration(ms)} ago`;
}

/** A wait, rounded up to the second so that it never reads `0s` while something is left. */
export function formatWait(ms: number): string {
  return formatDuration(Math.ceil(ms / 1000) * 1000);
}

/** Go's time.Duration spelling (`1h2m3s`, `3m0s`, `0s`), as Kargo shows longestSoak. */
export function goDuration(ms: number): string {
  let s = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  if (h > 0) return `${h}h${m}m${s}s`;
  if (m > 0) return `${m}m${s}s`;
  return `${s}s`;
}

/** `dev`, `dev or qa`, `dev, qa or prod` (with `and` when told). */
export function joinWords(items: readonly string[], word: 'or' | 'and' = 'or'): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} ${word} ${items[items.length - 1]}`;
}
