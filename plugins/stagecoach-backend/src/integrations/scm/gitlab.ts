import { gitlabProjectPath, RepoLocation } from './repoUrl';
import { MergeAttempt, NewPullRequest, PullRequest, ScmProvider } from './ScmProvider';
import { ScmHttp } from './scmHttp';

/** Why GitLab will not merge yet, in words, by detailed_merge_status. */
const NOT_MERGEABLE: Record<string, string> = {
  checking: 'GitLab is still checking whether it can be merged',
  unchecked: 'GitLab has not checked yet whether it can be merged',
  preparing: 'GitLab is still preparing it',
  approvals_syncing: 'GitLab is still syncing its approvals',
  ci_must_pass: 'its pipeline must pass first',
  ci_still_running: 'its pipeline is still running',
  not_approved: 'it still needs approvals',
  discussions_not_resolved: 'it has unresolved discussions',
  draft_status: 'it is a draft',
  need_rebase: 'it needs a rebase onto the target branch',
  blocked_status: 'it is blocked by another merge request',
  not_open: 'it is not open',
  requested_changes: 'a reviewer requested changes',
  jira_association_missing: 'its title or description must name a Jira issue',
  merge_request_blocked: 'it is blocked by another merge request',
  security_policy_violations: 'security policies block it',
  external_status_checks: 'external status checks have not passed',
  merge_time: 'it cannot be merged before its scheduled time',
  locked_paths: 'it changes locked paths',
  locked_lfs_files: 'it changes locked LFS files',
};

/** Merge requests through GitLab's REST API v4 (gitlab.com and self-managed). */
export class GitlabProvider implements ScmProvider {
  readonly kind = 'gitlab' as const;
  readonly label = 'GitLab';
  /** GitLab's merge method is the project's setting; the API can only ask for a squash on top. */
  readonly mergeMethods = ['merge', 'squash'] as const;
  readonly supportsLabels = true;
  readonly repository: string;
  private readonly base: string;

  constructor(
    private readonly http: ScmHttp,
    loc: RepoLocation,
  ) {
    this.repository = gitlabProjectPath(loc, http.apiBaseUrl);
    this.base = `/projects/${encodeURIComponent(this.repository)}`;
  }

  async branchHead(branch: string) {
    const res = await this.http.request('GET', `${this.base}/repository/branches/${encodeURIComponent(branch)}`, {
      what: `read branch ${branch} of ${this.repository}`,
      accept: [404],
    });
    if (res.status === 404) return undefined;
    return { sha: String(res.data.commit.id), message: String(res.data.commit.message ?? res.data.commit.title ?? '') };
  }

  async findPullRequests(source: string, target: string): Promise<PullRequest[]> {
    const res = await this.http.request<any[]>('GET', `${this.base}/merge_requests`, {
      what: `list merge requests of ${this.repository}`,
      query: { source_branch: source, target_branch: target, order_by: 'created_at', sort: 'desc', per_page: 100 },
    });
    return res.data.map(toPullRequest).filter(p => p.sourceBranch === source && p.targetBranch === target);
  }

  async createPullRequest(pr: NewPullRequest): Promise<PullRequest | 'exists'> {
    const what = `open a merge request from ${pr.sourceBranch} into ${pr.targetBranch} in ${this.repository}`;
    const res = await this.http.request('POST', `${this.base}/merge_requests`, {
      what,
      body: {
        source_branch: pr.sourceBranch,
        target_branch: pr.targetBranch,
        title: pr.title,
        description: pr.description,
        labels: pr.labels.length ? pr.labels.join(',') : undefined,
      },
      accept: [409, 422],
    });
    if (res.status === 201 || res.status === 200) return toPullRequest(res.data);
    if (res.status === 409) return 'exists';
    throw this.http.refusal(what, res.status, res.data, 'check sourceBranch and targetBranch');
  }

  async addLabels(pr: PullRequest, labels: string[]): Promise<void> {
    await this.http.request('PUT', `${this.base}/merge_requests/${pr.number}`, {
      what: `label merge request !${pr.number} of ${this.repository}`,
      body: { add_labels: labels.join(',') },
    });
  }

  async getPullRequest(number: number): Promise<PullRequest> {
    return toPullRequest(await this.raw(number));
  }

  async mergePullRequest(number: number, method?: string): Promise<MergeAttempt> {
    const raw = await this.raw(number);
    const pr = toPullRequest(raw);
    if (pr.merged) return { merged: true, pr };
    if (raw.state === 'closed') return { merged: false, reason: 'it was closed without being merged', final: true };
    if (raw.state === 'locked') return { merged: false, reason: 'GitLab has it locked while it merges', final: false };
    // detailed_merge_status arrived in GitLab 15.6; merge_status is what older ones report
    const status: string =
      raw.detailed_merge_status ?? (raw.merge_status === 'can_be_merged' ? 'mergeable' : String(raw.merge_status ?? 'unchecked'));
    if (raw.draft || raw.work_in_progress) return { merged: false, reason: 'it is a draft', final: false };
    if (status === 'conflict' || raw.has_conflicts === true || status === 'cannot_be_merged') {
      return { merged: false, reason: 'it has merge conflicts', final: true };
    }
    if (status !== 'mergeable') {
      return { merged: false, reason: NOT_MERGEABLE[status] ?? `GitLab reports it as "${status}"`, final: false };
    }
    const what = `merge merge request !${number} of ${this.repository}`;
    const res = await this.http.request('PUT', `${this.base}/merge_requests/${number}/merge`, {
      what,
      body: { sha: raw.sha, squash: method === 'squash' ? true : undefined },
      accept: [405, 406, 409, 422],
    });
    if (res.status === 200) {
      const after = toPullRequest(res.data);
      // a merge the project runs in the background may not be finished in this answer
      if (after.merged) return { merged: true, pr: after };
      return { merged: false, reason: 'GitLab accepted the merge and is still carrying it out', final: false };
    }
    const said = this.http.providerMessage(res.data) ?? `HTTP ${res.status}`;
    if (res.status === 406) return { merged: false, reason: `GitLab cannot merge it: ${said}`, final: true };
    return { merged: false, reason: `GitLab refused the merge for now: ${said}`, final: false };
  }

  private async raw(number: number): Promise<any> {
    const res = await this.http.request('GET', `${this.base}/merge_requests/${number}`, {
      what: `read merge request !${number} of ${this.repository}`,
    });
    return res.data;
  }
}

function toPullRequest(d: any): PullRequest {
  const merged = d.state === 'merged';
  return {
    number: Number(d.iid),
    url: String(d.web_url),
    // locked: being merged right now, still open as far as anyone can tell
    open: d.state === 'opened' || d.state === 'locked',
    merged,
    // a fast-forward merge leaves no merge commit: the head became the target's tip
    mergeCommit: merged ? (d.merge_commit_sha ?? d.squash_commit_sha ?? d.sha ?? undefined) : undefined,
    headSha: d.sha ?? undefined,
    sourceBranch: String(d.source_branch ?? ''),
    targetBranch: String(d.target_branch ?? ''),
    labels: Array.isArray(d.labels) ? d.labels.map((l: any) => String(typeof l === 'string' ? l : l.name)) : [],
  };
}
