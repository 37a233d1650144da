import type { Config } from '@backstage/config';
import {
  DefaultGithubCredentialsProvider,
  getBitbucketCloudRequestOptions,
  getBitbucketServerRequestOptions,
  ScmIntegrations,
} from '@backstage/integration';
import { defaultApiBaseUrl, parseRepoURL, RepoLocation } from './repoUrl';
import { ScmConfigError } from './ScmProvider';
import type { GitCredentials, ScmApiAccess, ScmCredentials, ScmProviderKind } from './ScmCredentials';

const KINDS: ScmProviderKind[] = ['github', 'gitlab', 'gitea', 'bitbucketCloud', 'bitbucketServer'];

/**
 * Credentials from Backstage's `integrations` config, the same entries the catalog and the
 * scaffolder use: GitHub tokens or apps, GitLab tokens, Gitea username/password, Bitbucket
 * Cloud username/appPassword (or token) and Bitbucket Server token or username/password.
 */
export function scmCredentialsFromConfig(config: Config): ScmCredentials {
  const integrations = ScmIntegrations.fromConfig(config);
  const github = DefaultGithubCredentialsProvider.fromIntegrations(integrations);

  /** A GitHub token: the configured one, or an app installation's (minted and cached by Backstage). */
  const githubToken = async (url: string) => (await github.getCredentials({ url })).token;

  type Lookup = (loc: RepoLocation) => Promise<ScmApiAccess | undefined>;
  const lookups: Record<ScmProviderKind, Lookup> = {
    async github(loc) {
      const cfg = integrations.github.byUrl(loc.webURL)?.config;
      if (!cfg) return undefined;
      const token = await githubToken(loc.webURL);
      return {
        provider: 'github',
        apiBaseUrl: cfg.apiBaseUrl ?? defaultApiBaseUrl('github', loc),
        authorization: token ? `Bearer ${token}` : undefined,
      };
    },
    async gitlab(loc) {
      const cfg = integrations.gitlab.byUrl(loc.webURL)?.config;
      if (!cfg) return undefined;
      return { provider: 'gitlab', apiBaseUrl: cfg.apiBaseUrl, authorization: cfg.token ? `Bearer ${cfg.token}` : undefined };
    },
    async gitea(loc) {
      const cfg = integrations.gitea.byUrl(loc.webURL)?.config;
      if (!cfg) return undefined;
      const base = (cfg.baseUrl ?? `https://${cfg.host}`).replace(/\/+$/, '');
      let authorization: string | undefined;
      if (cfg.password && cfg.username) authorization = basic(cfg.username, cfg.password);
      else if (cfg.password) authorization = `token ${cfg.password}`;
      return { provider: 'gitea', apiBaseUrl: `${base}/api/v1`, authorization };
    },
    async bitbucketCloud(loc) {
      const cfg = integrations.bitbucketCloud.byUrl(loc.webURL)?.config;
      if (!cfg) return undefined;
      const { headers } = await getBitbucketCloudRequestOptions(cfg);
      // a repository or workspace access token comes without a username
      const authorization = headers.Authorization ?? (cfg.token ? `Bearer ${cfg.token}` : undefined);
      return { provider: 'bitbucketCloud', apiBaseUrl: cfg.apiBaseUrl, authorization };
    },
    async bitbucketServer(loc) {
      const cfg = integrations.bitbucketServer.byUrl(loc.webURL)?.config;
      if (!cfg) return undefined;
      const { headers } = getBitbucketServerRequestOptions(cfg);
      return { provider: 'bitbucketServer', apiBaseUrl: cfg.apiBaseUrl, authorization: headers.Authorization };
    },
  };

  const plainHttpAllowed = insecureCredentialHosts(config);

  async function apiAccess(loc: RepoLocation, provider?: ScmProviderKind): Promise<ScmApiAccess | undefined> {
    if (provider) return (await lookups[provider](loc)) ?? { provider, apiBaseUrl: defaultApiBaseUrl(provider, loc) };
    for (const kind of KINDS) {
      const found = await lookups[kind](loc);
      if (found) return found;
    }
    return undefined;
  }

  return {
    async git(repoURL) {
      // basic credentials only mean something to git over HTTP(S)
      if (!/^https?:\/\//i.test(repoURL)) return undefined;
      const loc = parseQuietly(repoURL);
      if (!loc) return undefined;
      const credentials = await gitCredentials(integrations, loc, githubToken);
      if (credentials) refuseOverPlainHttp(new URL(loc.webURL), plainHttpAllowed);
      return credentials;
    },
    async api(repoURL, provider) {
      const loc = parseQuietly(repoURL);
      if (!loc) return undefined;
      const access = await apiAccess(loc, provider);
      if (access?.authorization) refuseOverPlainHttp(new URL(access.apiBaseUrl), plainHttpAllowed);
      return access;
    },
  };
}

export const INSECURE_CREDENTIALS_KEY = 'stagecoach.git.allowInsecureCredentials';

/** `stagecoach.git.allowInsecureCredentials`: hosts (`host` for any port, or `host:port`) that get credentials over plain HTTP. */
function insecureCredentialHosts(config: Config): (url: URL) => boolean {
  const entries = (config.getOptionalStringArray(INSECURE_CREDENTIALS_KEY) ?? []).map(h => h.trim().toLowerCase());
  return url => entries.some(h => h === url.host || h === url.hostname);
}

/**
 * Git and SCM credentials travel over HTTPS only: over plain HTTP anyone on the way reads
 * them. A host listed in stagecoach.git.allowInsecureCredentials is the exception. Refusing
 * throws, so the operation fails saying why rather than going on without them.
 */
function refuseOverPlainHttp(url: URL, allowed: (url: URL) => boolean): void {
  if (url.protocol !== 'http:' || allowed(url)) return;
  throw new ScmConfigError(
    `the credentials configured for ${url.host} (Backstage integrations) are not sent over plain HTTP (${url.origin}): ` +
      `use an https:// URL, or list ${url.host} in ${INSECURE_CREDENTIALS_KEY}`,
  );
}

async function gitCredentials(
  integrations: ScmIntegrations,
  loc: RepoLocation,
  githubToken: (url: string) => Promise<string | undefined>,
): Promise<GitCredentials | undefined> {
  const url = loc.webURL;
  if (integrations.github.byUrl(url)) {
    const token = await githubToken(url);
    return token ? { username: 'x-access-token', password: token } : undefined;
  }
  const gitlab = integrations.gitlab.byUrl(url)?.config;
  if (gitlab) return gitlab.token ? { username: 'oauth2', password: gitlab.token } : undefined;
  const gitea = integrations.gitea.byUrl(url)?.config;
  if (gitea) {
    // Gitea takes a token as the password of any username
    return gitea.password ? { username: gitea.username ?? 'oauth2', password: gitea.password } : undefined;
  }
  const cloud = integrations.bitbucketCloud.byUrl(url)?.config;
  if (cloud) {
    const secret = cloud.token ?? cloud.appPassword;
    if (cloud.username && secret) return { username: cloud.username, password: secret };
    // repository and workspace access tokens clone as x-token-auth
    return cloud.token ? { username: 'x-token-auth', password: cloud.token } : undefined;
  }
  const server = integrations.bitbucketServer.byUrl(url)?.config;
  if (server) {
    if (server.token) return { username: server.username ?? 'x-token-auth', password: server.token };
    if (server.username && server.password) return { username: server.username, password: server.password };
  }
  return undefined;
}

function basic(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`, 'utf8').toString('base64')}`;
}

function parseQuietly(repoURL: string): RepoLocation | undefined {
  try {
    return parseRepoURL(repoURL);
  } catch {
    return undefined;
  }
}
