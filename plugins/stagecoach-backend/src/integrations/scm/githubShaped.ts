import { ownerAndRepo, RepoLocation } from './repoUrl';
import type { ScmProviderKind } from './ScmCredentials';
import { MergeAttempt, NewPullRequest, PullRequest, ScmProvider } from './ScmProvider';
import { ScmHttp, ScmResponse } from './scmHttp';

/** A pull request that is open and not a draft, about to be merged. */
export interface MergeCandidate {
  number: number;
  /** The host's own answer, for what only this host reports (mergeability). */
  raw: any;
  pr: PullRequest;
  /** For messages: `merge pull request #3 of acme/app`. */
  what: string;
}

/**
 * What GitHub's REST API and Gitea's, which was modelled on it, have in common: a repository
 * at `/repos/<owner>/<repo>`, its pull requests at `/pulls`, labels added through the issue of
 * the same number. Each host's subclass keeps what it does differently in plain sight: how it
 * lists, which refusals mean "already open", how it decides whether a merge can go ahead.
 */
export abstract class GithubShapedProvider implements ScmProvider {
  abstract readonly kind: ScmProviderKind;
  abstract readonly label: string;
  abstract readonly mergeMethods: readonly string[];
  readonly supportsLabels = true;
  readonly repository: string;
  protected readonly owner: string;
  protected readonly base: string;
  /** Statuses of a refused create that `refusedToCreate` reads. */
  protected abstract readonly createRefusals: number[];

  constructor(
    protected readonly http: ScmHttp,
    loc: RepoLocation,
  ) {
    const { owner, repo } = ownerAndRepo(loc);
    this.owner = owner;
    this.repository = `${owner}/${repo}`;
    this.base = `/repos/${encodeURIComponent(owner)}/${encodeURIComponent(repo)}`;
  }

  protected abstract toPullRequest(d: any): PullRequest;
  /** The tip commit of a branch, from the `commit` of the host's branch answer. */
  protected abstract tipOf(commit: any): { sha: string; message: string };
  /** `exists` when the refusal means one is open already; throws otherwise. */
  protected abstract refusedToCreate(pr: NewPullRequest, what: string, res: ScmResponse<any>): 'exists';
  protected abstract mergeOpen(candidate: MergeCandidate, method: string | undefined): Promise<MergeAttempt>;
  abstract findPullRequests(source: string, target: string): Promise<PullRequest[]>;
  abstract addLabels(pr: PullRequest, labels: string[]): Promise<void>;

  async branchHead(branch: string) {
    const res = await this.http.request('GET', `${this.base}/branches/${encodeURIComponent(branch)}`, {
      what: `read branch ${branch} of ${this.repository}`,
      accept: [404],
    });
    if (res.status === 404) return undefined;
    return this.tipOf(res.data.commit);
  }

  async createPullRequest(pr: NewPullRequest): Promise<PullRequest | 'exists'> {
    const what = `open a pull request from ${pr.sourceBranch} into ${pr.targetBranch} in ${this.repository}`;
    const res = await this.http.request('POST', `${this.base}/pulls`, {
      what,
      body: { title: pr.title, head: pr.sourceBranch, base: pr.targetBranch, body: pr.description ?? '' },
      accept: this.createRefusals,
    });
    if (res.status === 201 || res.status === 200) return this.toPullRequest(res.data);
    return this.refusedToCreate(pr, what, res);
  }

  async getPullRequest(number: number): Promise<PullRequest> {
    return this.toPullRequest(await this.raw(number));
  }

  async mergePullRequest(number: number, method?: string): Promise<MergeAttempt> {
    const raw = await this.raw(number);
    const pr = this.toPullRequest(raw);
    if (pr.merged) return { merged: true, pr };
    if (!pr.open) return { merged: false, reason: 'it was closed without being merged', final: true };
    if (raw.draft === true) return { merged: false, reason: 'it is a draft', final: false };
    return this.mergeOpen({ number, raw, pr, what: `merge pull request #${number} of ${this.repository}` }, method);
  }

  /** Labels go on the issue of the same number: the names, or on older Gitea their IDs. */
  protected async postLabels(pr: PullRequest, labels: Array<string | number>): Promise<void> {
    await this.http.request('POST', `${this.base}/issues/${pr.number}/labels`, {
      what: `label pull request #${pr.number} of ${this.repository}`,
      body: { labels },
    });
  }

  private async raw(number: number): Promise<any> {
    const res = await this.http.request('GET', `${this.base}/pulls/${number}`, {
      what: `read pull request #${number} of ${this.repository}`,
    });
    return res.data;
  }
}

/** A pull request in the fields both hosts spell alike; whether it is merged each host says its own way. */
export function githubShapedPullRequest(d: any, merged: boolean): PullRequest {
  return {
    number: Number(d.number),
    url: String(d.html_url),
    open: d.state === 'open',
    merged,
    // an open pull request's merge_commit_sha is GitHub's test merge, not a real commit
    mergeCommit: merged && d.merge_commit_sha ? String(d.merge_commit_sha) : undefined,
    headSha: d.head?.sha ?? undefined,
    sourceBranch: String(d.head?.ref ?? ''),
    targetBranch: String(d.base?.ref ?? ''),
    labels: Array.isArray(d.labels) ? d.labels.map((l: any) => String(l.name ?? l)) : [],
  };
}
