/**
 * "Is this URL under that prefix?" for credentials configured per URL: the same scheme, host
 * and port, and the prefix's path segments at the start of the URL's, compared after `.` and
 * `..` are resolved and each segment is percent-decoded. So `https://prom/team-a/` covers
 * `https://prom/team-a/api` but neither `https://prom/team-ab/` nor
 * `https://prom/team-a/../team-b/` (which is `https://prom/team-b/`).
 */

export interface UrlPrefix {
  /** scheme://host[:port], the default port left out. */
  origin: string;
  segments: string[];
}

function decoded(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/** The path's segments, decoded; a trailing slash adds none. */
function pathSegments(url: URL): string[] {
  const parts = url.pathname.split('/').slice(1).map(decoded);
  if (parts.length > 0 && parts[parts.length - 1] === '') parts.pop();
  return parts;
}

/**
 * True when a segment still says "go up" once decoded (`..%2F`, `..;`): some servers act on
 * that, so such a path is under no prefix.
 */
function climbs(segment: string): boolean {
  return segment.split(/[/\\;]/).some(part => part === '..' || part === '.');
}

/** Parses a prefix such as https://prometheus.example.com/team-a/; throws when it is not an http(s) URL. */
export function parseUrlPrefix(text: string): UrlPrefix {
  const url = new URL(text);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`${url.protocol} is not http: or https:`);
  return { origin: url.origin, segments: pathSegments(url) };
}

export function isUnderPrefix(target: string | URL, prefix: UrlPrefix): boolean {
  let url: URL;
  try {
    url = new URL(target);
  } catch {
    return false;
  }
  if (url.origin !== prefix.origin) return false;
  const segments = pathSegments(url);
  if (segments.some(climbs)) return false;
  return prefix.segments.length <= segments.length && prefix.segments.every((s, i) => segments[i] === s);
}
