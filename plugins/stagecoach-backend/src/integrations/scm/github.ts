import { ownerAndRepo, RepoLocation } from './repoUrl';
import { MergeAttempt, NewPullRequest, PullRequest, ScmProvider } from './ScmProvider';
import { ScmHttp } from './scmHttp';

/** Pull requests through GitHub's REST API v3 (github.com, GitHub Enterprise Server and Cloud). */
export class GithubProvider implements ScmProvider {
  readonly kind = 'github' as const;
  readonly label = 'GitHub';
  readonly mergeMethods = ['merge', 'squash', 'rebase'] as const;
  readonly supportsLabels = true;
  readonly repository: string;
  private readonly owner: string;
  private readonly base: string;

  constructor(
    private readonly http: ScmHttp,
    loc: RepoLocation,
  ) {
    const { owner, repo } = ownerAndRepo(loc);
    this.owner = owner;
    this.repository = `${owner}/${repo}`;
    this.base = `/repos/${encodeURIComponent(owner)}/${encodeURIComponent(repo)}`;
  }

  async branchHead(branch: string) {
    const res = await this.http.request('GET', `${this.base}/branches/${encodeURIComponent(branch)}`, {
      what: `read branch ${branch} of ${this.repository}`,
      accept: [404],
    });
    if (res.status === 404) return undefined;
    return { sha: String(res.data.commit.sha), message: String(res.data.commit.commit?.message ?? '') };
  }

  async findPullRequests(source: string, target: string): Promise<PullRequest[]> {
    const res = await this.http.request<any[]>('GET', `${this.base}/pulls`, {
      what: `list pull requests of ${this.repository}`,
      // `head` needs the owner even for a branch of the same repository
      query: { state: 'all', head: `${this.owner}:${source}`, base: target, sort: 'created', direction: 'desc', per_page: 100 },
    });
    return res.data.map(toPullRequest).filter(p => p.sourceBranch === source && p.targetBranch === target);
  }

  async createPullRequest(pr: NewPullRequest): Promise<PullRequest | 'exists'> {
    const what = `open a pull request from ${pr.sourceBranch} into ${pr.targetBranch} in ${this.repository}`;
    const res = await this.http.request('POST', `${this.base}/pulls`, {
      what,
      body: { title: pr.title, head: pr.sourceBranch, base: pr.targetBranch, body: pr.description ?? '' },
      accept: [422],
    });
    if (res.status === 201 || res.status === 200) return toPullRequest(res.data);
    const said = this.http.providerMessage(res.data) ?? '';
    if (/already exists/i.test(said)) return 'exists';
    if (/no commits between/i.test(said)) {
      throw this.http.refusal(what, res.status, res.data, `${pr.sourceBranch} has nothing that ${pr.targetBranch} lacks: push the changes first`);
    }
    throw this.http.refusal(what, res.status, res.data, 'check sourceBranch and targetBranch');
  }

  async addLabels(pr: PullRequest, labels: string[]): Promise<void> {
    // pull requests are issues as far as labels go
    await this.http.request('POST', `${this.base}/issues/${pr.number}/labels`, {
      what: `label pull request #${pr.number} of ${this.repository}`,
      body: { labels },
    });
  }

  async getPullRequest(number: number): Promise<PullRequest> {
    return toPullRequest(await this.raw(number));
  }

  async mergePullRequest(number: number, method?: string): Promise<MergeAttempt> {
    const raw = await this.raw(number);
    const pr = toPullRequest(raw);
    if (pr.merged) return { merged: true, pr };
    if (!pr.open) return { merged: false, reason: 'it was closed without being merged', final: true };
    if (raw.draft) return { merged: false, reason: 'it is a draft', final: false };
    if (raw.mergeable === null || raw.mergeable_state === 'unknown') {
      return { merged: false, reason: 'GitHub is still working out whether it can be merged', final: false };
    }
    if (raw.mergeable_state === 'dirty') return { merged: false, reason: 'it has merge conflicts', final: true };
    const what = `merge pull request #${number} of ${this.repository}`;
    const res = await this.http.request('PUT', `${this.base}/pulls/${number}/merge`, {
      what,
      // the head we looked at: commits pushed since are not merged unseen
      body: { merge_method: method ?? this.mergeMethods[0], sha: pr.headSha },
      accept: [405, 409, 422],
    });
    if (res.status === 200 && res.data?.merged !== false) {
      return { merged: true, pr: { ...pr, open: false, merged: true, mergeCommit: String(res.data.sha) } };
    }
    const said = this.http.providerMessage(res.data) ?? `HTTP ${res.status}`;
    if (res.status === 422 || /not allowed/i.test(said)) {
      throw this.http.refusal(what, res.status, res.data, 'check mergeMethod against what the repository allows');
    }
    // 405: reviews or checks still missing; 409: the head or base moved meanwhile
    return { merged: false, reason: `GitHub refused the merge for now: ${said}`, final: false };
  }

  private async raw(number: number): Promise<any> {
    const res = await this.http.request('GET', `${this.base}/pulls/${number}`, {
      what: `read pull request #${number} of ${this.repository}`,
    });
    return res.data;
  }
}

function toPullRequest(d: any): PullRequest {
  // lists carry merged_at but not merged
  const merged = d.merged === true || Boolean(d.merged_at);
  return {
    number: Number(d.number),
    url: String(d.html_url),
    open: d.state === 'open',
    merged,
    // an open pull request's merge_commit_sha is GitHub's test merge, not a real commit
    mergeCommit: merged && d.merge_commit_sha ? String(d.merge_commit_sha) : undefined,
    headSha: d.head?.sha,
    sourceBranch: String(d.head?.ref ?? ''),
    targetBranch: String(d.base?.ref ?? ''),
    labels: Array.isArray(d.labels) ? d.labels.map((l: any) => String(l.name ?? l)) : [],
  };
}
