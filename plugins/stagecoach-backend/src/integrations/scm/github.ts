import { githubShapedPullRequest, GithubShapedProvider, MergeCandidate } from './githubShaped';
import { MergeAttempt, NewPullRequest, PullRequest } from './ScmProvider';
import { ScmResponse } from './scmHttp';

/** Pull requests through GitHub's REST API v3 (github.com, GitHub Enterprise Server and Cloud). */
export class GithubProvider extends GithubShapedProvider {
  readonly kind = 'github' as const;
  readonly label = 'GitHub';
  readonly mergeMethods = ['merge', 'squash', 'rebase'] as const;
  protected readonly createRefusals = [422];

  protected tipOf(commit: any) {
    return { sha: String(commit.sha), message: String(commit.commit?.message ?? '') };
  }

  protected toPullRequest(d: any): PullRequest {
    // lists carry merged_at but not merged
    return githubShapedPullRequest(d, d.merged === true || Boolean(d.merged_at));
  }

  async findPullRequests(source: string, target: string): Promise<PullRequest[]> {
    const res = await this.http.request<any[]>('GET', `${this.base}/pulls`, {
      what: `list pull requests of ${this.repository}`,
      // `head` needs the owner even for a branch of the same repository
      query: { state: 'all', head: `${this.owner}:${source}`, base: target, sort: 'created', direction: 'desc', per_page: 100 },
    });
    return res.data.map(d => this.toPullRequest(d)).filter(p => p.sourceBranch === source && p.targetBranch === target);
  }

  protected refusedToCreate(pr: NewPullRequest, what: string, res: ScmResponse<any>): 'exists' {
    const said = this.http.providerMessage(res.data) ?? '';
    if (/already exists/i.test(said)) return 'exists';
    if (/no commits between/i.test(said)) {
      throw this.http.refusal(what, res.status, res.data, `${pr.sourceBranch} has nothing that ${pr.targetBranch} lacks: push the changes first`);
    }
    throw this.http.refusal(what, res.status, res.data, 'check sourceBranch and targetBranch');
  }

  async addLabels(pr: PullRequest, labels: string[]): Promise<void> {
    await this.postLabels(pr, labels);
  }

  protected async mergeOpen({ number, raw, pr, what }: MergeCandidate, method?: string): Promise<MergeAttempt> {
    if (raw.mergeable === null || raw.mergeable_state === 'unknown') {
      return { merged: false, reason: 'GitHub is still working out whether it can be merged', final: false };
    }
    if (raw.mergeable_state === 'dirty') return { merged: false, reason: 'it has merge conflicts', final: true };
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
}
