import { ownerAndRepo, RepoLocation } from './repoUrl';
import { MergeAttempt, NewPullRequest, PullRequest, ScmConfigError, ScmProvider } from './ScmProvider';
import { ScmHttp } from './scmHttp';

const PAGE = 50;
/** Open pull requests are listed in full up to this many pages (Gitea cannot filter by branch). */
const MAX_PAGES = 10;

/** Pull requests through Gitea's REST API v1 (Forgejo speaks it too). */
export class GiteaProvider implements ScmProvider {
  readonly kind = 'gitea' as const;
  readonly label = 'Gitea';
  readonly mergeMethods = ['merge', 'rebase', 'rebase-merge', 'squash', 'fast-forward-only', 'manually-merged'] as const;
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
    return { sha: String(res.data.commit.id), message: String(res.data.commit.message ?? '') };
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

  async createPullRequest(pr: NewPullRequest): Promise<PullRequest | 'exists'> {
    const what = `open a pull request from ${pr.sourceBranch} into ${pr.targetBranch} in ${this.repository}`;
    const res = await this.http.request('POST', `${this.base}/pulls`, {
      what,
      body: { head: pr.sourceBranch, base: pr.targetBranch, title: pr.title, body: pr.description ?? '' },
      accept: [409, 422],
    });
    if (res.status === 201 || res.status === 200) return toPullRequest(res.data);
    if (res.status === 409) return 'exists';
    throw this.http.refusal(what, res.status, res.data, 'check sourceBranch and targetBranch');
  }

  async addLabels(pr: PullRequest, labels: string[]): Promise<void> {
    // older Gitea versions take label IDs only
    const ids = await this.labelIds(labels);
    await this.http.request('POST', `${this.base}/issues/${pr.number}/labels`, {
      what: `label pull request #${pr.number} of ${this.repository}`,
      body: { labels: ids },
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
    if (raw.draft === true) return { merged: false, reason: 'it is a draft', final: false };
    if (raw.mergeable === false) {
      return { merged: false, reason: 'Gitea reports it cannot be merged yet (conflicts, checks or approvals)', final: false };
    }
    const what = `merge pull request #${number} of ${this.repository}`;
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
    return (res.data ?? []).map(toPullRequest);
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

  private async raw(number: number): Promise<any> {
    const res = await this.http.request('GET', `${this.base}/pulls/${number}`, {
      what: `read pull request #${number} of ${this.repository}`,
    });
    return res.data;
  }
}

function toPullRequest(d: any): PullRequest {
  const merged = d.merged === true;
  return {
    number: Number(d.number),
    url: String(d.html_url),
    open: d.state === 'open',
    merged,
    mergeCommit: merged && d.merge_commit_sha ? String(d.merge_commit_sha) : undefined,
    headSha: d.head?.sha ?? undefined,
    sourceBranch: String(d.head?.ref ?? ''),
    targetBranch: String(d.base?.ref ?? ''),
    labels: Array.isArray(d.labels) ? d.labels.map((l: any) => String(l.name ?? l)) : [],
  };
}
