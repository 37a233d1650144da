/**
 * Credentials for Git hosts, looked up by URL. The engine takes this interface; the plugin
 * builds it from Backstage's `integrations` config (see fromIntegrations.ts). Values never
 * reach logs, outputs, messages or API responses.
 */

/** HTTP basic credentials for git over HTTP(S): username and password or token. */
export interface GitCredentials {
  username: string;
  password: string;
  /**
   * What messages call these credentials when a server refuses them (never a value): a
   * project's own, `credential Secret/repo of project "shop"`; unset for the integrations config's.
   */
  from?: string;
}

export type ScmProviderKind = 'github' | 'gitlab' | 'gitea' | 'bitbucketCloud' | 'bitbucketServer';

/** How to reach a Git host's REST API (pull requests). */
export interface ScmApiAccess {
  provider: ScmProviderKind;
  /** The API's base URL, e.g. https://api.github.com or https://gitlab.example.com/api/v4. */
  apiBaseUrl: string;
  /** Sent as `Authorization` (the whole header value, e.g. `Bearer ...`); undefined: anonymous. */
  authorization?: string;
}

export interface ScmCredentials {
  /** Credentials for cloning from and pushing to this repository URL, if any are configured. */
  git(repoURL: string): Promise<GitCredentials | undefined>;
  /**
   * The REST API of the host serving this repository URL. `provider` forces a kind (a step's
   * `provider` field); without it the kind comes from the configured integration.
   */
  api(repoURL: string, provider?: ScmProviderKind): Promise<ScmApiAccess | undefined>;
}

/** No credentials at all: anonymous Git, no SCM API. */
export const noScmCredentials: ScmCredentials = {
  git: async () => undefined,
  api: async () => undefined,
};
