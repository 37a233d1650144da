import { bitbucketServerRepo, ownerAndRepo, RepoLocation } from './repoUrl';
import { MergeAttempt, NewPullRequest, PullRequest, ScmProvider } from './ScmProvider';
import { ScmHttp } from './scmHttp';

/** Pull requests through Bitbucket Cloud's REST API 2.0 (bitbucket.org). Bitbucket has no labels. */
export class BitbucketCloudProvider implements ScmProvider {
  readonly kind = 'bitbucketCloud' as const;
  readonly label = 'Bitbucket Cloud';
  readonly mergeMethods = [
    'merge_commit',
    'squash',
    'fast_forward',
    'squash_fast_forward',
    'rebase_fast_forward',
    'rebase_merge',
  ] as const;
  readonly supportsLabels = false;
  readonly repository: string;
  private readonly base: string;

  constructor(
    private readonly http: ScmHttp,
    loc: RepoLocation,
  ) {
    const { owner: workspace, repo } = ownerAndRepo(loc);
    this.repository = `${workspace}/${repo}`;
    this.base = `/repositories/${encodeURIComponent(workspace)}/${encodeURIComponent(repo)}`;
  }

  async branchHead(branch: string) {
    const res = await this.http.request('GET', `${this.base}/refs/branches/${encodeURIComponent(branch)}`, {
      what: `read branch ${branch} of ${this.repository}`,
      accept: [404],
    });
    if (res.status === 404) return undefined;
    return { sha: String(res.data.target.hash), message: String(res.data.target.message ?? '') };
  }

  async findPullRequests(source: string, target: string): Promise<PullRequest[]> {
    const res = await this.http.request('GET', `${this.base}/pullrequests`, {
      what: `list pull requests of ${this.repository}`,
      query: {
        q: `source.branch.name = ${quote(source)} AND destination.branch.name = ${quote(target)}`,
        // without `state` only open ones are listed
        state: ['OPEN', 'MERGED'],
        sort: '-created_on',
        pagelen: 50,
      },
    });
    const list: PullRequest[] = (res.data?.values ?? []).map(cloudPullRequest);
    return list.filter(p => p.sourceBranch === source && p.targetBranch === target);
  }

  async createPullRequest(pr: NewPullRequest): Promise<PullRequest | 'exists'> {
    const what = `open a pull request from ${pr.sourceBranch} into ${pr.targetBranch} in ${this.repository}`;
    const res = await this.http.request('POST', `${this.base}/pullrequests`, {
      what,
      body: {
        title: pr.title,
        description: pr.description ?? '',
        source: { branch: { name: pr.sourceBranch } },
        destination: { branch: { name: pr.targetBranch } },
        close_source_branch: false,
      },
      accept: [400, 409],
    });
    if (res.status === 201 || res.status === 200) return cloudPullRequest(res.data);
    if (/already (exists|open)/i.test(this.http.providerMessage(res.data) ?? '')) return 'exists';
    throw this.http.refusal(what, res.status, res.data, 'check sourceBranch and targetBranch');
  }

  async addLabels(): Promise<void> {
    // nothing to do: Bitbucket pull requests have no labels
  }

  async getPullRequest(number: number): Promise<PullRequest> {
    return this.withFullMergeCommit(cloudPullRequest(await this.raw(number)));
  }

  async mergePullRequest(number: number, method?: string): Promise<MergeAttempt> {
    const pr = cloudPullRequest(await this.raw(number));
    if (pr.merged) return { merged: true, pr: await this.withFullMergeCommit(pr) };
    if (!pr.open) return { merged: false, reason: 'it was declined or superseded without being merged', final: true };
    const what = `merge pull request #${number} of ${this.repository}`;
    const res = await this.http.request('POST', `${this.base}/pullrequests/${number}/merge`, {
      what,
      body: { type: 'pullrequest_merge_parameters', ...(method ? { merge_strategy: method } : {}) },
      accept: [400, 409],
    });
    if (res.status === 202) {
      // long merges run as a task; the pull request shows MERGED once it is done
      return { merged: false, reason: 'Bitbucket is still carrying out the merge', final: false };
    }
    if (res.status === 200) return { merged: true, pr: await this.withFullMergeCommit(cloudPullRequest(res.data)) };
    const said = this.http.providerMessage(res.data) ?? `HTTP ${res.status}`;
    if (/strategy/i.test(said)) {
      throw this.http.refusal(what, res.status, res.data, 'check mergeMethod against what the repository allows');
    }
    if (/conflict/i.test(said)) return { merged: false, reason: `it has merge conflicts (${said})`, final: true };
    return { merged: false, reason: `Bitbucket refused the merge for now: ${said}`, final: false };
  }

  /** Pull requests show merge commits abbreviated; the commit endpoint has the full hash. */
  private async withFullMergeCommit(pr: PullRequest): Promise<PullRequest> {
    if (!pr.mergeCommit || pr.mergeCommit.length >= 40) return pr;
    const res = await this.http.request('GET', `${this.base}/commit/${pr.mergeCommit}`, {
      what: `read commit ${pr.mergeCommit} of ${this.repository}`,
    });
    return { ...pr, mergeCommit: String(res.data.hash) };
  }

  private async raw(number: number): Promise<any> {
    const res = await this.http.request('GET', `${this.base}/pullrequests/${number}`, {
      what: `read pull request #${number} of ${this.repository}`,
    });
    return res.data;
  }
}

function quote(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

function cloudPullRequest(d: any): PullRequest {
  const merged = d.state === 'MERGED';
  return {
    number: Number(d.id),
    url: String(d.links?.html?.href ?? ''),
    open: d.state === 'OPEN',
    merged,
    mergeCommit: merged && d.merge_commit?.hash ? String(d.merge_commit.hash) : undefined,
    headSha: d.source?.commit?.hash ?? undefined,
    sourceBranch: String(d.source?.branch?.name ?? ''),
    targetBranch: String(d.destination?.branch?.name ?? ''),
    labels: [],
  };
}

/** Pull requests through Bitbucket Server / Data Center's REST API 1.0. Bitbucket has no labels. */
export class BitbucketServerProvider implements ScmProvider {
  readonly kind = 'bitbucketServer' as const;
  readonly label = 'Bitbucket Server';
  readonly mergeMethods = ['no-ff', 'ff', 'ff-only', 'rebase-no-ff', 'rebase-ff-only', 'squash', 'squash-ff-only'] as const;
  readonly supportsLabels = false;
  readonly repository: string;
  private readonly project: string;
  private readonly slug: string;
  private readonly base: string;

  constructor(
    private readonly http: ScmHttp,
    loc: RepoLocation,
  ) {
    const { project, slug } = bitbucketServerRepo(loc);
    this.project = project;
    this.slug = slug;
    this.repository = `${project}/${slug}`;
    this.base = `/projects/${encodeURIComponent(project)}/repos/${encodeURIComponent(slug)}`;
  }

  async branchHead(branch: string) {
    const res = await this.http.request('GET', `${this.base}/branches`, {
      what: `read branch ${branch} of ${this.repository}`,
      query: { filterText: branch, limit: 100 },
    });
    const found = (res.data?.values ?? []).find((b: any) => b.displayId === branch);
    if (!found) return undefined;
    const sha = String(found.latestCommit);
    const commit = await this.http.request('GET', `${this.base}/commits/${sha}`, {
      what: `read commit ${sha} of ${this.repository}`,
    });
    return { sha, message: String(commit.data?.message ?? '') };
  }

  async findPullRequests(source: string, target: string): Promise<PullRequest[]> {
    const res = await this.http.request('GET', `${this.base}/pull-requests`, {
      what: `list pull requests of ${this.repository}`,
      query: { state: 'ALL', at: `refs/heads/${target}`, direction: 'INCOMING', order: 'NEWEST', limit: 100 },
    });
    const list: PullRequest[] = (res.data?.values ?? []).map(serverPullRequest);
    return list.filter(p => p.sourceBranch === source && p.targetBranch === target);
  }

  async createPullRequest(pr: NewPullRequest): Promise<PullRequest | 'exists'> {
    const what = `open a pull request from ${pr.sourceBranch} into ${pr.targetBranch} in ${this.repository}`;
    const ref = (branch: string) => ({
      id: `refs/heads/${branch}`,
      repository: { slug: this.slug, project: { key: this.project } },
    });
    const res = await this.http.request('POST', `${this.base}/pull-requests`, {
      what,
      body: { title: pr.title, description: pr.description ?? '', fromRef: ref(pr.sourceBranch), toRef: ref(pr.targetBranch) },
      accept: [409],
    });
    if (res.status === 201 || res.status === 200) return serverPullRequest(res.data);
    const exceptions: string[] = (res.data?.errors ?? []).map((e: any) => String(e.exceptionName ?? ''));
    if (exceptions.some(e => /DuplicatePullRequest/.test(e))) return 'exists';
    throw this.http.refusal(what, res.status, res.data, 'check sourceBranch and targetBranch');
  }

  async addLabels(): Promise<void> {
    // nothing to do: Bitbucket pull requests have no labels
  }

  async getPullRequest(number: number): Promise<PullRequest> {
    return serverPullRequest(await this.raw(number));
  }

  async mergePullRequest(number: number, method?: string): Promise<MergeAttempt> {
    const raw = await this.raw(number);
    const pr = serverPullRequest(raw);
    if (pr.merged) return { merged: true, pr };
    if (!pr.open) return { merged: false, reason: 'it was declined without being merged', final: true };
    const check = await this.http.request('GET', `${this.base}/pull-requests/${number}/merge`, {
      what: `check whether pull request #${number} of ${this.repository} can be merged`,
    });
    if (check.data?.conflicted) return { merged: false, reason: 'it has merge conflicts', final: true };
    if (check.data?.canMerge === false) {
      const vetoes = (check.data.vetoes ?? []).map((v: any) => String(v.summaryMessage ?? v.detailedMessage ?? '')).filter(Boolean);
      return { merged: false, reason: vetoes.length ? this.http.scrub(vetoes.join('; ')) : 'Bitbucket will not merge it yet', final: false };
    }
    const what = `merge pull request #${number} of ${this.repository}`;
    const res = await this.http.request('POST', `${this.base}/pull-requests/${number}/merge`, {
      what,
      // the version guards against merging a pull request that changed since it was read
      query: { version: raw.version },
      body: method ? { strategyId: method } : {},
      accept: [400, 409],
    });
    if (res.status === 200) return { merged: true, pr: serverPullRequest(res.data) };
    const said = this.http.providerMessage(res.data) ?? `HTTP ${res.status}`;
    if (res.status === 400 || /strategy/i.test(said)) {
      throw this.http.refusal(what, res.status, res.data, 'check mergeMethod against what the repository allows');
    }
    return { merged: false, reason: `Bitbucket refused the merge for now: ${said}`, final: false };
  }

  private async raw(number: number): Promise<any> {
    const res = await this.http.request('GET', `${this.base}/pull-requests/${number}`, {
      what: `read pull request #${number} of ${this.repository}`,
    });
    return res.data;
  }
}

function serverPullRequest(d: any): PullRequest {
  const merged = d.state === 'MERGED';
  return {
    number: Number(d.id),
    url: String(d.links?.self?.[0]?.href ?? ''),
    open: d.state === 'OPEN',
    merged,
    mergeCommit: merged && d.properties?.mergeCommit?.id ? String(d.properties.mergeCommit.id) : undefined,
    headSha: d.fromRef?.latestCommit ?? undefined,
    sourceBranch: String(d.fromRef?.displayId ?? ''),
    targetBranch: String(d.toRef?.displayId ?? ''),
    labels: [],
  };
}
