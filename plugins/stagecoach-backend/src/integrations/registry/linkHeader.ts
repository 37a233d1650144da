/**
 * The `rel="next"` target of a Link header (`</v2/app/tags/list?last=b&n=100>; rel="next"`),
 * resolved against the URL it came with; undefined when there is none.
 */
export function nextPageURL(
  link: string | string[] | undefined,
  current: URL,
): URL | undefined {
  const text = Array.isArray(link) ? link.join(', ') : link;
  if (!text) return undefined;
  for (const m of text.matchAll(/<([^>]*)>([^,<]*)/g)) {
    const rel = /;\s*rel\s*=\s*(?:"([^"]*)"|([^\s;,]+))/i.exec(m[2]);
    const rels = (rel?.[1] ?? rel?.[2] ?? '').toLowerCase().split(/\s+/);
    if (!rels.includes('next')) continue;
    try {
      return new URL(m[1], current);
    } catch {
      return undefined;
    }
  }
  return undefined;
}
