/** A `WWW-Authenticate` challenge: `Bearer realm="https://auth.example/token",service="x",scope="repository:a:pull"`. */
export interface AuthChallenge {
  scheme: 'bearer' | 'basic' | 'other';
  params: Record<string, string>;
}

/**
 * Reads the first challenge of a WWW-Authenticate header. Parameter values may be quoted,
 * and quoted values may contain commas (scopes such as `repository:a:pull,push` do).
 */
export function parseAuthChallenge(
  header: string | string[] | undefined,
): AuthChallenge | undefined {
  const text = (Array.isArray(header) ? header[0] : header)?.trim();
  if (!text) return undefined;
  const schemeMatch = /^([A-Za-z][A-Za-z0-9._-]*)\s*/.exec(text);
  if (!schemeMatch) return undefined;
  const name = schemeMatch[1].toLowerCase();
  const scheme = name === 'bearer' || name === 'basic' ? name : 'other';
  const params: Record<string, string> = {};
  const param =
    /\s*([A-Za-z0-9_-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))\s*(?:,|$)/gy;
  param.lastIndex = schemeMatch[0].length;
  for (let m = param.exec(text); m; m = param.exec(text)) {
    params[m[1].toLowerCase()] =
      m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : m[3];
    if (param.lastIndex >= text.length) break;
  }
  return { scheme, params };
}
