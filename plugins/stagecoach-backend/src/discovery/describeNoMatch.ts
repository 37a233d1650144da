import { redactSecrets } from '../util/secrets';

/**
 * `nothing in <repo> matches the subscription (constraint "^2")`: what a kind says when its
 * subscription selects nothing, naming the settings that may be why.
 */
export function nothingMatches(
  repoURL: string,
  by: ReadonlyArray<string | false | undefined>,
): string {
  const why = by.filter(Boolean);
  return `nothing in ${redactSecrets(repoURL)} matches the subscription${
    why.length ? ` (${why.join(', ')})` : ''
  }`;
}
