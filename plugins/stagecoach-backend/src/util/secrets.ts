/**
 * Replaces every occurrence of known secret values (a configured token, a password, a
 * header made from them) with `***`. Values shorter than 4 characters are left alone: they
 * would blank out ordinary words and tell nothing.
 */
export function redactValues(text: string, secrets: readonly string[]): string {
  return secrets.filter(s => s.length >= 4).reduce((t, s) => t.split(s).join('***'), text);
}

/** Removes credentials from text that may reach a log, a status or an API response. */
export function redactSecrets(text: string): string {
  return text
    .replace(/(\b[a-z][a-z0-9+.-]*:\/\/)[^/\s@]+@/gi, '$1***@')
    .replace(/(authorization:\s*(?:bearer|basic)\s+)\S+/gi, '$1***');
}
