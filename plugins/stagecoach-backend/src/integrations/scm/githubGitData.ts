import { defaultApiBaseUrl, guessProvider, ownerAndRepo, parseRepoURL } from './repoUrl';
import type { ScmCredentials } from './ScmCredentials';
import { ScmConfigError } from './ScmProvider';
import { ScmHttp } from './scmHttp';
import type { EgressPolicy } from '../http/egress';

/**
 * GitHub's Git Data API (blobs, trees, commits, refs) for one repository: what github-push
 * uses to create commits on GitHub itself, which GitHub then signs and marks as verified.
 */

/** One entry of a new tree: a path (with `/`), and what is there; `sha: null` deletes it. */
export interface TreeChange {
  path: string;
  mode: string;
  type: 'blob' | 'commit';
  sha: string | null;
}

export interface NewCommit {
  message: string;
  tree: string;
  parents: string[];
  /** Left out: GitHub attributes the commit to the authenticated identity and signs it. */
  author?: { name: string; email: string; date?: string };
}

export interface CreatedCommit {
  sha: string;
  /** Its page on GitHub. */
  url?: string;
  verified?: boolean;
}

/** A ref update GitHub refused because the branch moved (not a fast forward) or appeared meanwhile. */
export type RefOutcome = 'done' | 'moved';

/** `heads/a/b` with each segment encoded, as GitHub's ref paths take them. */
const refPath = (branch: string) => `heads/${branch.split('/').map(encodeURIComponent).join('/')}`;

export class GithubGitData {
  readonly repository: string;
  private readonly base: string;

  constructor(
    private readonly http: ScmHttp,
    repoURL: string,
  ) {
    const { owner, repo } = ownerAndRepo(parseRepoURL(repoURL));
    this.repository = `${owner}/${repo}`;
    this.base = `/repos/${encodeURIComponent(owner)}/${encodeURIComponent(repo)}`;
  }

  /** The commit a branch points at, or undefined when there is no such branch. */
  async branchHead(branch: string): Promise<string | undefined> {
    const res = await this.http.request('GET', `${this.base}/git/ref/${refPath(branch)}`, {
      what: `read branch ${branch} of ${this.repository}`,
      accept: [404],
    });
    if (res.status === 404) return undefined;
    const sha = res.data?.object?.sha;
    if (typeof sha !== 'string') throw this.http.refusal(`read branch ${branch} of ${this.repository}`, res.status, res.data, 'GitHub answered without a commit');
    return sha;
  }

  async createBlob(content: Buffer): Promise<string> {
    const res = await this.http.request('POST', `${this.base}/git/blobs`, {
      what: `upload a file (${content.length} bytes) to ${this.repository}`,
      body: { content: content.toString('base64'), encoding: 'base64' },
    });
    return String(res.data?.sha);
  }

  async createTree(baseTree: string | undefined, changes: TreeChange[]): Promise<string> {
    const res = await this.http.request('POST', `${this.base}/git/trees`, {
      what: `create a tree of ${changes.length} changes in ${this.repository}`,
      body: { ...(baseTree ? { base_tree: baseTree } : {}), tree: changes },
    });
    return String(res.data?.sha);
  }

  async createCommit(commit: NewCommit): Promise<CreatedCommit> {
    const res = await this.http.request('POST', `${this.base}/git/commits`, {
      what: `create a commit in ${this.repository}`,
      body: { message: commit.message, tree: commit.tree, parents: commit.parents, ...(commit.author ? { author: commit.author } : {}) },
    });
    return {
      sha: String(res.data?.sha),
      ...(typeof res.data?.html_url === 'string' ? { url: res.data.html_url } : {}),
      ...(typeof res.data?.verification?.verified === 'boolean' ? { verified: res.data.verification.verified } : {}),
    };
  }

  /** Moves a branch; without `force`, only forward: `moved` when it is no longer where it was. */
  async updateBranch(branch: string, sha: string, force: boolean): Promise<RefOutcome> {
    const what = `update branch ${branch} of ${this.repository}`;
    const res = await this.http.request('PATCH', `${this.base}/git/refs/${refPath(branch)}`, {
      what,
      body: { sha, force },
      accept: [409, 422],
    });
    if (res.status === 200 || res.status === 201) return 'done';
    const said = this.http.providerMessage(res.data) ?? '';
    if (/fast.forward|does not exist/i.test(said) || res.status === 409) return 'moved';
    throw this.http.refusal(what, res.status, res.data, 'check the branch and its protection rules');
  }

  /** Creates a branch; `moved` when it came into being meanwhile. */
  async createBranch(branch: string, sha: string): Promise<RefOutcome> {
    const what = `create branch ${branch} in ${this.repository}`;
    const res = await this.http.request('POST', `${this.base}/git/refs`, {
      what,
      body: { ref: `refs/heads/${branch}`, sha },
      accept: [422],
    });
    if (res.status === 200 || res.status === 201) return 'done';
    if (/already exists/i.test(this.http.providerMessage(res.data) ?? '')) return 'moved';
    throw this.http.refusal(what, res.status, res.data, 'check the branch name');
  }
}

export interface GitDataOptions {
  repoURL: string;
  credentials: ScmCredentials;
  egress: EgressPolicy;
  signal?: AbortSignal;
  insecureSkipTLSVerify?: boolean;
}

/** The Git Data API of a GitHub repository, with the credentials configured for its host. */
export async function connectGithubGitData(options: GitDataOptions): Promise<GithubGitData> {
  const loc = parseRepoURL(options.repoURL);
  let access = await options.credentials.api(loc.webURL, 'github');
  if (access && access.provider !== 'github') {
    throw new ScmConfigError(`${loc.host} is configured as a ${access.provider} host: github-push pushes through GitHub's API only`);
  }
  if (!access) {
    if (guessProvider(loc.host) !== 'github') {
      throw new ScmConfigError(
        `${loc.host} is not known as a GitHub host: configure it under integrations.github (github-push pushes through GitHub's API)`,
      );
    }
    access = { provider: 'github', apiBaseUrl: defaultApiBaseUrl('github', loc) };
  }
  const http = new ScmHttp({
    kind: 'github',
    apiBaseUrl: access.apiBaseUrl.replace(/\/+$/, ''),
    authorization: access.authorization,
    egress: options.egress,
    signal: options.signal,
    insecureSkipTLSVerify: options.insecureSkipTLSVerify,
  });
  return new GithubGitData(http, options.repoURL);
}
