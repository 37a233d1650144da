import { fakeSha, LoopbackApi, LoopbackRequest, LoopbackResponse, startLoopbackApi } from './loopbackApi';

/**
 * A loopback server speaking the part of GitLab's REST API v4 that the pull-request steps
 * use: branches and merge requests (list, create, get, update labels, merge), addressed by
 * URL-encoded project path, with GitLab's JSON shapes and error bodies. Every request must
 * carry the token (`Authorization: Bearer` or `PRIVATE-TOKEN`).
 */

export interface FakeGitlabMr {
  iid: number;
  title: string;
  description: string;
  source: string;
  target: string;
  sha: string;
  state: 'opened' | 'closed' | 'merged' | 'locked';
  labels: string[];
  draft: boolean;
  detailedMergeStatus: string;
  mergeCommit?: string;
  squashCommit?: string;
}

interface Project {
  id: number;
  branches: Map<string, { sha: string; message: string }>;
  mrs: FakeGitlabMr[];
}

export interface FakeGitlab extends LoopbackApi {
  apiBaseUrl: string;
  token: string;
  setBranch(project: string, branch: string, message?: string): string;
  branchSha(project: string, branch: string): string | undefined;
  mergeRequests(project: string): FakeGitlabMr[];
  mergeByHand(project: string, iid: number): string;
  closeByHand(project: string, iid: number): void;
}

export async function startFakeGitlab(options: { token?: string } = {}): Promise<FakeGitlab> {
  const token = options.token ?? 'glpat-loopbackTokenForTests01';
  const projects = new Map<string, Project>();
  let origin = '';

  const project = (path: string): Project => {
    let p = projects.get(path);
    if (!p) {
      p = { id: projects.size + 1, branches: new Map(), mrs: [] };
      projects.set(path, p);
    }
    return p;
  };

  const mrJson = (path: string, p: Project, mr: FakeGitlabMr) => ({
    id: 5000 + mr.iid,
    iid: mr.iid,
    project_id: p.id,
    title: mr.title,
    description: mr.description,
    state: mr.state,
    created_at: '2026-01-01T00:00:00.000Z',
    updated_at: '2026-01-01T00:00:00.000Z',
    merged_at: mr.state === 'merged' ? '2026-01-02T00:00:00.000Z' : null,
    closed_at: mr.state === 'closed' ? '2026-01-02T00:00:00.000Z' : null,
    target_branch: mr.target,
    source_branch: mr.source,
    source_project_id: p.id,
    target_project_id: p.id,
    labels: mr.labels,
    draft: mr.draft,
    work_in_progress: mr.draft,
    merge_status: mr.detailedMergeStatus === 'mergeable' ? 'can_be_merged' : 'cannot_be_merged',
    detailed_merge_status: mr.state === 'opened' ? mr.detailedMergeStatus : 'not_open',
    sha: mr.sha,
    merge_commit_sha: mr.mergeCommit ?? null,
    squash_commit_sha: mr.squashCommit ?? null,
    has_conflicts: mr.detailedMergeStatus === 'conflict',
    references: { short: `!${mr.iid}`, full: `${path}!${mr.iid}` },
    web_url: `${origin}/${path}/-/merge_requests/${mr.iid}`,
  });

  const handler = (req: LoopbackRequest): LoopbackResponse => {
    const auth = req.headers.authorization ?? (req.headers['private-token'] ? `Bearer ${req.headers['private-token']}` : undefined);
    if (auth !== `Bearer ${token}`) return { status: 401, body: { message: '401 Unauthorized' } };
    const [api, v4, root, id, kind, ...rest] = req.segments;
    if (api !== 'api' || v4 !== 'v4' || root !== 'projects' || !id) return { status: 404, body: { error: '404 Not Found' } };
    // the path arrives as one segment, `group%2Fproject`, decoded here to `group/project`
    const path = /^\d+$/.test(id) ? [...projects].find(([, p]) => String(p.id) === id)?.[0] : id;
    if (!path || !projects.has(path)) return { status: 404, body: { message: '404 Project Not Found' } };
    const p = project(path);

    if (kind === 'repository' && rest[0] === 'branches' && rest.length === 2 && req.method === 'GET') {
      const b = p.branches.get(rest[1]);
      if (!b) return { status: 404, body: { message: '404 Branch Not Found' } };
      const title = b.message.split('\n')[0];
      return {
        status: 200,
        body: {
          name: rest[1],
          commit: { id: b.sha, short_id: b.sha.slice(0, 8), title, message: b.message },
          merged: false,
          protected: false,
          default: rest[1] === 'main',
          web_url: `${origin}/${path}/-/tree/${rest[1]}`,
        },
      };
    }
    if (kind !== 'merge_requests') return { status: 404, body: { error: '404 Not Found' } };
    if (rest.length === 0 && req.method === 'GET') {
      const q = req.query;
      const list = p.mrs
        .filter(m => !q.get('source_branch') || m.source === q.get('source_branch'))
        .filter(m => !q.get('target_branch') || m.target === q.get('target_branch'))
        .filter(m => !q.get('state') || q.get('state') === 'all' || m.state === q.get('state'))
        .sort((a, b) => b.iid - a.iid);
      return { status: 200, body: list.map(m => mrJson(path, p, m)) };
    }
    if (rest.length === 0 && req.method === 'POST') {
      const b = req.body ?? {};
      if (!b.title) return { status: 400, body: { error: 'title is missing' } };
      const source = p.branches.get(b.source_branch);
      if (!source || !p.branches.has(b.target_branch)) {
        return { status: 422, body: { message: ['Source branch does not exist', 'Target branch does not exist'] } };
      }
      const open = p.mrs.find(m => m.state === 'opened' && m.source === b.source_branch && m.target === b.target_branch);
      if (open) return { status: 409, body: { message: [`Another open merge request already exists for this source branch: !${open.iid}`] } };
      const mr: FakeGitlabMr = {
        iid: p.mrs.length + 1,
        title: b.title,
        description: b.description ?? '',
        source: b.source_branch,
        target: b.target_branch,
        sha: source.sha,
        state: 'opened',
        labels: typeof b.labels === 'string' && b.labels ? b.labels.split(',') : [],
        draft: false,
        detailedMergeStatus: 'mergeable',
      };
      p.mrs.push(mr);
      return { status: 201, body: mrJson(path, p, mr) };
    }
    const mr = p.mrs.find(m => m.iid === Number(rest[0]));
    if (!mr) return { status: 404, body: { message: '404 Not found' } };
    if (rest.length === 1 && req.method === 'GET') return { status: 200, body: mrJson(path, p, mr) };
    if (rest.length === 1 && req.method === 'PUT') {
      for (const l of String(req.body?.add_labels ?? '').split(',').filter(Boolean)) if (!mr.labels.includes(l)) mr.labels.push(l);
      return { status: 200, body: mrJson(path, p, mr) };
    }
    if (rest[1] === 'merge' && req.method === 'PUT') {
      if (mr.state !== 'opened' || mr.detailedMergeStatus !== 'mergeable') {
        return { status: 405, body: { message: '405 Method Not Allowed' } };
      }
      if (req.body?.sha && req.body.sha !== mr.sha) {
        return { status: 409, body: { message: `SHA does not match HEAD of source branch: ${mr.sha}` } };
      }
      doMerge(p, mr, req.body?.squash === true);
      return { status: 200, body: mrJson(path, p, mr) };
    }
    return { status: 404, body: { error: '404 Not Found' } };
  };

  function doMerge(p: Project, mr: FakeGitlabMr, squash: boolean): string {
    mr.state = 'merged';
    mr.mergeCommit = fakeSha();
    if (squash) mr.squashCommit = fakeSha();
    p.branches.set(mr.target, { sha: mr.mergeCommit, message: `Merge branch '${mr.source}' into '${mr.target}'` });
    return mr.mergeCommit;
  }

  const api = await startLoopbackApi(handler);
  origin = api.origin;
  const mrOf = (path: string, iid: number) => {
    const mr = project(path).mrs.find(m => m.iid === iid);
    if (!mr) throw new Error(`no merge request !${iid} in ${path}`);
    return mr;
  };
  return {
    ...api,
    apiBaseUrl: `${api.origin}/api/v4`,
    token,
    setBranch(path, branch, message = `change on ${branch}`) {
      const sha = fakeSha();
      const p = project(path);
      p.branches.set(branch, { sha, message });
      for (const m of p.mrs) if (m.state === 'opened' && m.source === branch) m.sha = sha;
      return sha;
    },
    branchSha: (path, branch) => project(path).branches.get(branch)?.sha,
    mergeRequests: path => project(path).mrs,
    mergeByHand: (path, iid) => doMerge(project(path), mrOf(path, iid), false),
    closeByHand(path, iid) {
      mrOf(path, iid).state = 'closed';
    },
  };
}
