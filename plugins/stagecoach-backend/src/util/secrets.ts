/** Removes credentials from text that may reach a log, a status or an API response. */
export function redactSecrets(text: string): string {
  return text
    .replace(/(\b[a-z][a-z0-9+.-]*:\/\/)[^/\s@]+@/gi, '$1***@')
    .replace(/(authorization:\s*(?:bearer|basic)\s+)\S+/gi, '$1***');
}
