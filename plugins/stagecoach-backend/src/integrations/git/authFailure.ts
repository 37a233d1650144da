import { GitAuth, isAuthFailure } from './GitCli';

/**
 * A git error about credentials, rewritten into one a user can act on: which credentials were
 * sent (a project's credential Secret by name, or the integrations config), or, when none
 * were, the two places credentials come from. Other errors pass through. Neither form
 * carries a secret.
 */
export function explainAuthFailure(e: unknown, url: string, auth: GitAuth | undefined): unknown {
  if (!isAuthFailure(e)) return e;
  if (!auth) {
    return new Error(
      `${url} requires credentials and none are configured for it: add an integration for its host to app-config.yaml, ` +
        "or a git credential Secret for it to the project's manifests (see docs/credentials.md)",
    );
  }
  if (auth.credentials.from) {
    return new Error(
      `${url} refused the ${auth.credentials.from}: check its username, its password or token and the token's permissions ` +
        "(the Secret is in the project's manifests, see docs/credentials.md)",
    );
  }
  return new Error(`${url} refused the configured credentials: check the token and its permissions in the integrations config`);
}
