import type { Config } from '@backstage/config';

/**
 * Credentials for the web and prometheus metrics, from app-config (never from manifests, which
 * the API shows): headers sent to every URL under a prefix.
 *
 *   stagecoach.verification.credentials:
 *     - url: https://prometheus.example.com/
 *       headers:
 *         Authorization: Bearer ${PROMETHEUS_TOKEN}
 */
export interface VerificationCredentials {
  /** The headers for a request to `url`: those of the longest prefix it starts with. */
  headersFor(url: string): Array<{ name: string; value: string }>;
  /** Every configured header value, to be scrubbed from whatever is stored or shown. */
  secretValues(): string[];
}

export interface CredentialEntry {
  url: string;
  headers: Record<string, string>;
}

export const noVerificationCredentials: VerificationCredentials = { headersFor: () => [], secretValues: () => [] };

export function verificationCredentials(entries: CredentialEntry[]): VerificationCredentials {
  // longest prefix first: https://prom.example.com/team-a/ wins over https://prom.example.com/
  const sorted = [...entries].sort((a, b) => b.url.length - a.url.length);
  return {
    headersFor(url) {
      const hit = sorted.find(e => url.startsWith(e.url));
      return hit ? Object.entries(hit.headers).map(([name, value]) => ({ name, value })) : [];
    },
    // `Bearer abc`: the token alone is as secret as the header, and more likely to be echoed
    secretValues: () => entries.flatMap(e => Object.values(e.headers).flatMap(v => [v, v.replace(/^\s*(bearer|basic|token)\s+/i, '')])),
  };
}

/** Reads `stagecoach.verification.credentials`; a bad entry throws naming its key. */
export function readVerificationCredentials(config: Config): VerificationCredentials {
  const list = config.getOptionalConfigArray('stagecoach.verification.credentials') ?? [];
  const entries = list.map((c, i) => {
    const at = `stagecoach.verification.credentials[${i}]`;
    const url = c.getString('url');
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new Error(`${at}.url must be an http(s) URL prefix such as https://prometheus.example.com/, got "${url}"`);
    }
    if (!['http:', 'https:'].includes(parsed.protocol)) {
      throw new Error(`${at}.url must be an http(s) URL prefix such as https://prometheus.example.com/, got "${url}"`);
    }
    const headers = c.getConfig('headers');
    // a prefix without a path names the whole host; with one, only what is under it
    return { url: parsed.pathname === '/' && !url.endsWith('/') ? `${url}/` : url, headers: Object.fromEntries(headers.keys().map(k => [k, headers.getString(k)])) };
  });
  return verificationCredentials(entries);
}
