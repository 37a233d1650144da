import { BitbucketCloudProvider, BitbucketServerProvider } from './bitbucket';
import { GiteaProvider } from './gitea';
import { GithubProvider } from './github';
import { GitlabProvider } from './gitlab';
import type { EgressPolicy } from '../http/egress';
import { defaultApiBaseUrl, guessProvider, parseRepoURL, RepoLocation } from './repoUrl';
import type { ScmApiAccess, ScmCredentials, ScmProviderKind } from './ScmCredentials';
import { ScmConfigError, ScmProvider } from './ScmProvider';
import { ScmHttp } from './scmHttp';

export type { PullRequest, ScmProvider, MergeAttempt, OpenedPullRequest } from './ScmProvider';
export { openPullRequest, ScmApiError, ScmConfigError } from './ScmProvider';
export { parseRepoURL } from './repoUrl';

/** The provider names Kargo's steps take in `provider`. */
export type StepProviderName = 'github' | 'gitlab' | 'gitea' | 'bitbucket';

export interface ConnectOptions {
  repoURL: string;
  /** A step's `provider`; without it, the configured integration (or the host's name) decides. */
  provider?: StepProviderName;
  credentials: ScmCredentials;
  /** Where API requests may go (app-config `stagecoach.egress`): a refused request throws ScmConfigError. */
  egress: EgressPolicy;
  signal?: AbortSignal;
  insecureSkipTLSVerify?: boolean;
}

/** The pull request API of the repository at `repoURL`, with the credentials configured for its host. */
export async function connectScmProvider(options: ConnectOptions): Promise<ScmProvider> {
  const loc = parseRepoURL(options.repoURL);
  const wanted = options.provider;
  // `bitbucket` may be either kind: the configured integration knows which
  let access: ScmApiAccess | undefined = await options.credentials.api(
    loc.webURL,
    wanted && wanted !== 'bitbucket' ? wanted : undefined,
  );
  if (access && wanted === 'bitbucket' && !access.provider.startsWith('bitbucket')) access = undefined;
  if (!access) {
    const forced = wanted ? kindOf(wanted, loc) : undefined;
    const kind = forced ?? guessProvider(loc.host);
    if (!kind) {
      throw new ScmConfigError(
        `cannot tell which Git provider serves ${loc.host}: set provider (github, gitlab, gitea or bitbucket), or configure ${loc.host} under integrations`,
      );
    }
    access = { provider: kind, apiBaseUrl: defaultApiBaseUrl(kind, loc) };
  }
  const http = new ScmHttp({
    kind: access.provider,
    apiBaseUrl: access.apiBaseUrl.replace(/\/+$/, ''),
    authorization: access.authorization,
    egress: options.egress,
    signal: options.signal,
    insecureSkipTLSVerify: options.insecureSkipTLSVerify,
  });
  return createScmProvider(access.provider, http, loc);
}

const PROVIDERS: Record<ScmProviderKind, new (http: ScmHttp, loc: RepoLocation) => ScmProvider> = {
  github: GithubProvider,
  gitlab: GitlabProvider,
  gitea: GiteaProvider,
  bitbucketCloud: BitbucketCloudProvider,
  bitbucketServer: BitbucketServerProvider,
};

export function createScmProvider(kind: ScmProviderKind, http: ScmHttp, loc: RepoLocation): ScmProvider {
  return new PROVIDERS[kind](http, loc);
}

/** Kargo has one `bitbucket`; Backstage tells the cloud (bitbucket.org) from self-hosted servers. */
function kindOf(name: StepProviderName, loc: RepoLocation): ScmProviderKind {
  if (name !== 'bitbucket') return name;
  return loc.host === 'bitbucket.org' ? 'bitbucketCloud' : 'bitbucketServer';
}
