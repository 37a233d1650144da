import { githubShapedPullRequest, GithubShapedProvider, MergeCandidate } from './githubShaped';
import { MergeAttempt, NewPullRequest, PullRequest, ScmConfigError } from './ScmProvider';
import { ScmResponse } from './scmHttp';

const PAGE = 50;
/** Open pull requests are listed in full up to this many pages (Gitea cannot filter by branch). */
const MAX_PAGES = 10;

/** Pull requests through Gitea's REST API v1 (Forgejo speaks it too). */
export class GiteaProvider extends GithubShapedProvider {
  readonly kind = 'gitea' as const;
  readonly label = 'Gitea';
  readonly mergeMethods = ['merge', 'rebase', 'rebase-merge', 'squash', 'fast-forward-only', 'manually-merged'] as const;
  protected readonly createRefusals = [409, 422];

  protected tipOf(commit: any) {
    return { sha: String(commit.id), message: String(commit.message ?? '') };
  }

  protected toPullRequest(d: any): PullRequest {
    return githubShapedPullRequest(d, d.merged === true);
  }

  async findPullRequests(source: string, target: string): Promise<PullRequest[]> {
    const matches = (p: PullRequest) => p.sourceBranch === source && p.targetBranch === target;
    const found: PullRequest[] = [];
    for (let page = 1; page <= MAX_PAGES; page++) {
      const open = await this.list('open', page);
      found.push(...open.filter(matches));
      if (open.length < PAGE) break;
    }
    // the recently closed ones are enough to recognise a merge made by an earlier run
    found.push(...(await this.list('closed', 1)).filter(matches));
    return found.sort((a, b) => b.number - a.number);
  }

  protected refusedToCreate(_pr: NewPullRequest, what: string, res: ScmResponse<any>): 'exists' {
    if (res.status === 409) return 'exists';
    throw this.http.refusal(what, res.status, res.data, 'check sourceBranch and targetBranch');
  }

  async addLabels(pr: PullRequest, labels: string[]): Promise<void> {
    // older Gitea versions take label IDs only
    await this.postLabels(pr, await this.labelIds(labels));
  }

  protected async mergeOpen({ number, raw, pr, what }: MergeCandidate, method?: string): Promise<MergeAttempt> {
    if (raw.mergeable === false) {
      return { merged: false, reason: 'Gitea reports it cannot be merged yet (conflicts, checks or approvals)', final: false };
    }
    const res = await this.http.request('POST', `${this.base}/pulls/${number}/merge`, {
      what,
      body: { Do: method ?? this.mergeMethods[0], head_commit_id: pr.headSha },
      accept: [405, 409, 422],
    });
    if (res.status >= 200 && res.status < 300) {
      // the merge answer has no body: the merge commit is on the pull request
      const after = await this.getPullRequest(number);
      if (after.merged) return { merged: true, pr: after };
      return { merged: false, reason: 'Gitea accepted the merge and is still carrying it out', final: false };
    }
    const said = this.http.providerMessage(res.data) ?? `HTTP ${res.status}`;
    if (res.status === 422 || /style|not allowed/i.test(said)) {
      throw this.http.refusal(what, res.status, res.data, 'check mergeMethod against what the repository allows');
    }
    if (/conflict/i.test(said)) return { merged: false, reason: `it has merge conflicts (${said})`, final: true };
    return { merged: false, reason: `Gitea refused the merge for now: ${said}`, final: false };
  }

  private async list(state: 'open' | 'closed', page: number): Promise<PullRequest[]> {
    const res = await this.http.request<any[]>('GET', `${this.base}/pulls`, {
      what: `list pull requests of ${this.repository}`,
      query: { state, sort: 'newest', limit: PAGE, page },
    });
    return (res.data ?? []).map(d => this.toPullRequest(d));
  }

  private async labelIds(names: string[]): Promise<number[]> {
    const known = new Map<string, number>();
    const collect = async (path: string, accept404: boolean) => {
      for (let page = 1; page <= MAX_PAGES; page++) {
        const res = await this.http.request<any[]>('GET', path, {
          what: `list the labels of ${this.repository}`,
          query: { limit: PAGE, page },
          accept: accept404 ? [404] : [],
        });
        if (res.status === 404 || !Array.isArray(res.data)) return;
        for (const l of res.data) if (!known.has(l.name)) known.set(String(l.name), Number(l.id));
        if (res.data.length < PAGE) return;
      }
    };
    await collect(`${this.base}/labels`, false);
    if (names.some(n => !known.has(n))) {
      // the owner may be an organisation with labels of its own (a user has none: 404)
      await collect(`/orgs/${encodeURIComponent(this.owner)}/labels`, true);
    }
    const missing = names.filter(n => !known.has(n));
    if (missing.length) {
      throw new ScmConfigError(
        `Gitea: labels ${missing.map(m => `"${m}"`).join(', ')} do not exist in ${this.repository}; create them there first or correct labels`,
      );
    }
    return names.map(n => known.get(n)!);
  }
}
