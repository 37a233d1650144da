import type { Config } from '@backstage/config';
import { isUnderPrefix, parseUrlPrefix } from '../integrations/http/urlPrefix';

/**
 * Credentials for the web and prometheus metrics, from app-config (never from manifests, which
 * the API shows): headers sent to every URL under a prefix (see integrations/http/urlPrefix).
 *
 *   stagecoach.verification.credentials:
 *     - url: https://prometheus.example.com/
 *       headers:
 *         Authorization: Bearer ${PROMETHEUS_TOKEN}
 */
export interface VerificationCredentials {
  /**
   * The headers for a request to `url`: those of the longest prefix it is under (same scheme,
   * host and port; the prefix's path segments first in the URL's, after `.`/`..` are resolved
   * and segments percent-decoded).
   */
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
  // the longest prefix first: https://prom.example.com/team-a/ wins over https://prom.example.com/
  const sorted = entries
    .map(e => ({ prefix: parseUrlPrefix(e.url), headers: e.headers }))
    .sort((a, b) => b.prefix.segments.length - a.prefix.segments.length);
  return {
    headersFor(url) {
      const hit = sorted.find(e => isUnderPrefix(url, e.prefix));
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
    try {
      parseUrlPrefix(url);
    } catch {
      throw new Error(`${at}.url must be an http(s) URL prefix such as https://prometheus.example.com/, got "${url}"`);
    }
    const headers = c.getConfig('headers');
    return { url, headers: Object.fromEntries(headers.keys().map(k => [k, headers.getString(k)])) };
  });
  return verificationCredentials(entries);
}
