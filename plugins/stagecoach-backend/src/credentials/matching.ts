import { normalizeGitURL } from '../util/gitUrl';
import { compileRegex } from '../util/safeRegex';
import { canonicalRegistryHost } from '../integrations/registry/imageReference';
import type { CredentialType } from '../manifests/secrets';

/** What matching needs of a credential: its name, type and the URL or pattern it is for. */
export interface MatchableCredential {
  name: string;
  type: CredentialType;
  repoURL?: string;
  repoURLIsRegex?: boolean;
}

/**
 * One spelling per repository, as each type names them: Git URLs without `.git` or a
 * trailing `/` and with a lower-case host; images as `host/path` with Docker Hub's names made
 * one; Helm repositories (https:// or oci://) with a lower-case scheme and host and no trailing `/`.
 */
export function normalizeRepoURL(type: CredentialType, url: string): string {
  const trimmed = url.trim();
  if (type === 'git') return normalizeGitURL(trimmed);
  if (type === 'image') {
    const withoutScheme = trimmed.replace(/^[a-z][a-z0-9+.-]*:\/\//i, '').replace(/\/+$/, '');
    const slash = withoutScheme.indexOf('/');
    if (slash < 0) return canonicalRegistryHost(withoutScheme);
    return `${canonicalRegistryHost(withoutScheme.slice(0, slash))}${withoutScheme.slice(slash)}`;
  }
  const m = /^([a-z][a-z0-9+.-]*:\/\/)([^/]*)(.*)$/i.exec(trimmed);
  const unslashed = (s: string) => s.replace(/\/+$/, '');
  return m ? `${m[1].toLowerCase()}${m[2].toLowerCase()}${unslashed(m[3])}` : unslashed(trimmed);
}

/**
 * The credential for a repository, as Kargo chooses it: of the credentials of `type`, one whose
 * repoURL is the repository's (both normalized) wins over one whose pattern matches it; among
 * several of either, the first by name. Patterns run on RE2 (util/safeRegex), so none can
 * stall the backend, and are searched in the URL as written and in its normalized form (anchor them with ^ and $).
 */
export function pickCredential<C extends MatchableCredential>(
  credentials: readonly C[],
  type: CredentialType,
  url: string,
): C | undefined {
  const wanted = normalizeRepoURL(type, url);
  const ofType = credentials.filter(c => c.type === type && c.repoURL).sort((a, b) => byName(a.name, b.name));
  const exact = ofType.find(c => !c.repoURLIsRegex && normalizeRepoURL(type, c.repoURL!) === wanted);
  if (exact) return exact;
  return ofType.find(c => {
    if (!c.repoURLIsRegex) return false;
    try {
      const pattern = compileRegex(c.repoURL!);
      return pattern.test(url.trim()) || pattern.test(wanted);
    } catch {
      return false; // checked when the Secret was applied; a pattern that no longer compiles matches nothing
    }
  });
}

/** Lexical order of names, as Kargo takes credentials of equal rank. */
function byName(a: string, b: string): number {
  if (a === b) return 0;
  return a < b ? -1 : 1;
}
