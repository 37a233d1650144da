import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { git } from '@stagecoach/git-server';
import { fakeSha, LoopbackApi, LoopbackRequest, LoopbackResponse, startLoopbackApi } from './loopbackApi';

/**
 * A loopback server speaking the part of GitHub's REST API v3 that the pull-request steps
 * use: branches, pull requests (list, create, get, merge) and issue labels, with GitHub's
 * JSON shapes, status codes and error bodies. Every request must carry the token.
 */

interface Branch {
  sha: string;
  message: string;
}

export interface FakeGithubPull {
  number: number;
  title: string;
  body: string;
  head: string;
  headSha: string;
  base: string;
  state: 'open' | 'closed';
  mergedAt?: string;
  mergeCommit?: string;
  labels: string[];
  draft: boolean;
  /** null: GitHub is still computing it. */
  mergeable: boolean | null;
  mergeableState: string;
  /** Why a merge is refused with 405 (a required review, a failing check). */
  mergeBlockedBy?: string;
}

interface Repo {
  branches: Map<string, Branch>;
  pulls: FakeGithubPull[];
  allowedMergeMethods: string[];
}

export interface FakeGithub extends LoopbackApi {
  /** The API base: origin plus the prefix (`/api/v3` for GitHub Enterprise Server). */
  apiBaseUrl: string;
  token: string;
  setBranch(repo: string, branch: string, message?: string): string;
  branchSha(repo: string, branch: string): string | undefined;
  /** A new branch at the tip of another, with no commits of its own. */
  branchFrom(repo: string, branch: string, from: string): void;
  pulls(repo: string): FakeGithubPull[];
  /** Someone merged it on GitHub: the merge commit's SHA. */
  mergeByHand(repo: string, number: number): Promise<string>;
  /** Someone closed it without merging. */
  closeByHand(repo: string, number: number): void;
  allowMergeMethods(repo: string, methods: string[]): void;
  /**
   * Runs before each ref update or creation of the Git Data API (github-push): a test moves
   * the branch there, as another promotion pushing at that moment would.
   */
  beforeRefUpdate(hook: ((repo: string, branch: string) => Promise<void>) | undefined): void;
}

export interface FakeGithubOptions {
  prefix?: string;
  token?: string;
  tls?: { key: string; cert: string };
  /**
   * Repositories whose branches live in a real bare Git repository (the path, for
   * `owner/name`): branch lookups read it, and a merge makes a real merge commit there, so
   * the Git server over HTTP and the API agree, as they do on GitHub.
   */
  backedBy?: (repo: string) => string | undefined;
}

export async function startFakeGithub(options: FakeGithubOptions = {}): Promise<FakeGithub> {
  const prefix = (options.prefix ?? '').split('/').filter(Boolean);
  const token = options.token ?? 'ghp_loopbackTokenForTests0123456789';
  const repos = new Map<string, Repo>();
  let origin = '';
  let nextNumber = 1;

  const repo = (name: string): Repo => {
    let r = repos.get(name);
    if (!r) {
      r = { branches: new Map(), pulls: [], allowedMergeMethods: ['merge', 'squash', 'rebase'] };
      repos.set(name, r);
    }
    return r;
  };

  const pullJson = (name: string, p: FakeGithubPull, full: boolean) => {
    const [owner] = name.split('/');
    const json: Record<string, unknown> = {
      url: `${[origin, ...prefix].join('/')}/repos/${name}/pulls/${p.number}`,
      id: 1000 + p.number,
      node_id: `PR_${p.number}`,
      html_url: `${origin}/${name}/pull/${p.number}`,
      number: p.number,
      state: p.state,
      locked: false,
      title: p.title,
      user: { login: 'stagecoach-bot', type: 'User' },
      body: p.body,
      labels: p.labels.map((l, i) => ({ id: i + 1, name: l, color: 'ededed', default: false })),
      created_at: '2026-01-01T00:00:00Z',
      updated_at: '2026-01-01T00:00:00Z',
      closed_at: p.state === 'closed' ? '2026-01-02T00:00:00Z' : null,
      merged_at: p.mergedAt ?? null,
      // GitHub fills this with a test merge while open; a real one once merged
      merge_commit_sha: p.mergeCommit ?? 'feedc0de'.repeat(5),
      draft: p.draft,
      head: { label: `${owner}:${p.head}`, ref: p.head, sha: p.headSha, repo: { full_name: name } },
      base: { label: `${owner}:${p.base}`, ref: p.base, sha: repo(name).branches.get(p.base)?.sha, repo: { full_name: name } },
    };
    if (full) {
      json.merged = Boolean(p.mergedAt);
      json.mergeable = p.state === 'open' ? p.mergeable : null;
      json.mergeable_state = p.mergeableState;
      json.merged_by = p.mergedAt ? { login: 'someone' } : null;
    }
    return json;
  };

  /** A branch's tip: from the backing Git repository when there is one. */
  const branchOf = async (full: string, r: Repo, name: string): Promise<Branch | undefined> => {
    const bare = options.backedBy?.(full);
    if (!bare) return r.branches.get(name);
    const sha = (await git(bare, 'rev-parse', '--verify', '-q', `refs/heads/${name}`).catch(() => '')).trim();
    if (!sha) return undefined;
    return { sha, message: (await git(bare, 'log', '-1', '--format=%B', sha)).trim() };
  };

  const handler = async (req: LoopbackRequest): Promise<LoopbackResponse> => {
    const auth = req.headers.authorization;
    if (!auth) return { status: 401, body: { message: 'Requires authentication', documentation_url: 'https://docs.github.com/rest' } };
    if (auth !== `Bearer ${token}` && auth !== `token ${token}`) {
      return { status: 401, body: { message: 'Bad credentials', documentation_url: 'https://docs.github.com/rest', status: '401' } };
    }
    const s = req.segments;
    if (!prefix.every((p, i) => s[i] === p)) return notFound();
    const [root, owner, name, kind, ...rest] = s.slice(prefix.length);
    if (root !== 'repos' || !owner || !name) return notFound();
    const full = `${owner}/${name}`;
    if (!repos.has(full) && !options.backedBy?.(full)) return notFound();
    const r = repo(full);
    const backing = options.backedBy?.(full);
    if (kind === 'git' && backing) return gitData(full, backing, req, rest);

    if (kind === 'branches' && rest.length === 1 && req.method === 'GET') {
      const b = await branchOf(full, r, rest[0]);
      if (!b) return { status: 404, body: { message: 'Branch not found', documentation_url: 'https://docs.github.com/rest/branches/branches#get-a-branch' } };
      return {
        status: 200,
        body: { name: rest[0], commit: { sha: b.sha, commit: { message: b.message, author: { name: 'Stagecoach' } } }, protected: false },
      };
    }
    if (kind === 'pulls' && rest.length === 0 && req.method === 'GET') {
      const state = req.query.get('state') ?? 'open';
      const head = req.query.get('head');
      const base = req.query.get('base');
      const list = r.pulls
        .filter(p => state === 'all' || p.state === state)
        .filter(p => !head || head === `${owner}:${p.head}`)
        .filter(p => !base || base === p.base)
        .sort((a, b) => b.number - a.number);
      return { status: 200, body: list.map(p => pullJson(full, p, false)) };
    }
    if (kind === 'pulls' && rest.length === 0 && req.method === 'POST') return createPull(full, r, req.body);
    if (kind === 'pulls' && rest.length === 1 && req.method === 'GET' && options.backedBy?.(full)) {
      // a pull request follows its head branch as it moves
      const p = r.pulls.find(x => x.number === Number(rest[0]));
      const head = p && p.state === 'open' ? await branchOf(full, r, p.head) : undefined;
      if (p && head) p.headSha = head.sha;
    }
    const number = Number(rest[0]);
    const pull = r.pulls.find(p => p.number === number);
    if (kind === 'pulls' && rest.length === 1 && req.method === 'GET') {
      return pull ? { status: 200, body: pullJson(full, pull, true) } : notFound();
    }
    if (kind === 'pulls' && rest[1] === 'merge' && req.method === 'PUT') {
      if (!pull) return notFound();
      return mergePull(full, r, pull, req.body ?? {});
    }
    if (kind === 'issues' && rest[1] === 'labels' && req.method === 'POST') {
      if (!pull) return notFound();
      for (const l of req.body?.labels ?? []) if (!pull.labels.includes(l)) pull.labels.push(l);
      return { status: 200, body: pull.labels.map((l, i) => ({ id: i + 1, name: l, color: 'ededed' })) };
    }
    return notFound();
  };

  async function createPull(full: string, r: Repo, body: any): Promise<LoopbackResponse> {
    const [owner] = full.split('/');
    const invalid = (field: string) => ({
      status: 422,
      body: {
        message: 'Validation Failed',
        errors: [{ resource: 'PullRequest', field, code: 'invalid' }],
        documentation_url: 'https://docs.github.com/rest/pulls/pulls#create-a-pull-request',
      },
    });
    if (!body?.title) return { status: 422, body: { message: 'Validation Failed', errors: [{ resource: 'PullRequest', field: 'title', code: 'missing_field' }] } };
    const head = await branchOf(full, r, body.head);
    const base = await branchOf(full, r, body.base);
    if (!head) return invalid('head');
    if (!base) return invalid('base');
    if (r.pulls.some(p => p.state === 'open' && p.head === body.head && p.base === body.base)) {
      return {
        status: 422,
        body: {
          message: 'Validation Failed',
          errors: [{ resource: 'PullRequest', code: 'custom', message: `A pull request already exists for ${owner}:${body.head}.` }],
          documentation_url: 'https://docs.github.com/rest/pulls/pulls#create-a-pull-request',
        },
      };
    }
    if (head.sha === base.sha) {
      return {
        status: 422,
        body: { message: 'Validation Failed', errors: [{ resource: 'PullRequest', code: 'custom', message: `No commits between ${body.base} and ${body.head}` }] },
      };
    }
    const pull: FakeGithubPull = {
      number: nextNumber++,
      title: body.title,
      body: body.body ?? '',
      head: body.head,
      headSha: head.sha,
      base: body.base,
      state: 'open',
      labels: [],
      draft: Boolean(body.draft),
      mergeable: true,
      mergeableState: 'clean',
    };
    r.pulls.push(pull);
    return { status: 201, body: pullJson(full, pull, true), headers: { Location: `${origin}/repos/${full}/pulls/${pull.number}` } };
  }

  async function mergePull(full: string, r: Repo, pull: FakeGithubPull, body: any): Promise<LoopbackResponse> {
    if (pull.state !== 'open') return { status: 405, body: { message: 'Pull Request is not mergeable', documentation_url: 'https://docs.github.com/rest/pulls/pulls#merge-a-pull-request' } };
    const method = body.merge_method ?? 'merge';
    if (!r.allowedMergeMethods.includes(method)) {
      const what = { merge: 'Merge commits', squash: 'Squash merges', rebase: 'Rebase merges' }[method as string] ?? 'That merge method';
      return { status: 405, body: { message: `${what} are not allowed on this repository.` } };
    }
    if (body.sha && body.sha !== pull.headSha) {
      return { status: 409, body: { message: 'Head branch was modified. Review and try the merge again.' } };
    }
    if (pull.mergeBlockedBy) return { status: 405, body: { message: pull.mergeBlockedBy } };
    const sha = await doMerge(full, r, pull);
    return { status: 200, body: { sha, merged: true, message: 'Pull Request successfully merged' } };
  }

  async function doMerge(full: string, r: Repo, pull: FakeGithubPull): Promise<string> {
    const bare = options.backedBy?.(full);
    const sha = bare ? await mergeInGit(bare, pull) : fakeSha();
    pull.state = 'closed';
    pull.mergedAt = '2026-01-02T00:00:00Z';
    pull.mergeCommit = sha;
    pull.mergeable = null;
    r.branches.set(pull.base, { sha, message: `Merge pull request #${pull.number}` });
    return sha;
  }

  let refHook: ((repo: string, branch: string) => Promise<void>) | undefined;

  /**
   * The Git Data API (blobs, trees, commits, refs) over the backing bare repository, with
   * GitHub's shapes and refusals: what the Git server then serves is what the API made.
   */
  async function gitData(full: string, bare: string, req: LoopbackRequest, rest: string[]): Promise<LoopbackResponse> {
    const [what, ...refParts] = rest;
    const invalid = (message: string) => ({ status: 422, body: { message, documentation_url: 'https://docs.github.com/rest/git' } });
    const exists = (sha: unknown, type: string) =>
      typeof sha === 'string' && gitIn(bare, ['cat-file', '-t', sha]).then(t => t === type, () => false);
    if (what === 'ref' && req.method === 'GET') {
      const ref = `refs/${refParts.join('/')}`;
      const sha = await gitIn(bare, ['rev-parse', '--verify', '-q', ref]).catch(() => '');
      if (!sha) return notFound();
      return { status: 200, body: { ref, node_id: 'REF_1', url: `${origin}/repos/${full}/git/${ref}`, object: { sha, type: 'commit' } } };
    }
    if (what === 'blobs' && req.method === 'POST') {
      if (req.body?.encoding !== 'base64' && req.body?.encoding !== 'utf-8') return invalid('Invalid request: encoding');
      const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'fake-github-blob-'));
      try {
        await fs.writeFile(path.join(tmp, 'blob'), Buffer.from(String(req.body.content ?? ''), req.body.encoding === 'base64' ? 'base64' : 'utf8'));
        const sha = await gitIn(bare, ['hash-object', '-w', '--', path.join(tmp, 'blob')]);
        return { status: 201, body: { sha, url: `${origin}/repos/${full}/git/blobs/${sha}` } };
      } finally {
        await fs.rm(tmp, { recursive: true, force: true });
      }
    }
    if (what === 'trees' && req.method === 'POST') {
      const base = req.body?.base_tree;
      if (base !== undefined && !(await exists(base, 'tree'))) return invalid('Invalid tree info: base_tree is not a tree');
      const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'fake-github-tree-'));
      // an empty work tree of its own: update-index --force-remove wants one
      const env = { GIT_INDEX_FILE: path.join(tmp, 'index'), GIT_WORK_TREE: tmp };
      try {
        await gitIn(bare, base ? ['read-tree', base] : ['read-tree', '--empty'], env);
        for (const e of req.body?.tree ?? []) {
          if (e.sha === null) await gitIn(bare, ['update-index', '--force-remove', '--', e.path], env);
          else if (e.type === 'commit' || (await exists(e.sha, 'blob'))) {
            await gitIn(bare, ['update-index', '--add', '--cacheinfo', `${e.mode},${e.sha},${e.path}`], env);
          } else return invalid(`Invalid tree info: ${e.path} names no blob`);
        }
        const sha = await gitIn(bare, ['write-tree'], env);
        return { status: 201, body: { sha, url: `${origin}/repos/${full}/git/trees/${sha}`, truncated: false } };
      } finally {
        await fs.rm(tmp, { recursive: true, force: true });
      }
    }
    if (what === 'commits' && req.method === 'POST') {
      const { message, tree, parents = [], author, committer } = req.body ?? {};
      if (!(await exists(tree, 'tree'))) return invalid('Tree SHA does not exist');
      for (const parent of parents) if (!(await exists(parent, 'commit'))) return invalid('Parent SHA does not exist or is not a commit object');
      // without an author, GitHub attributes the commit to the token's identity and signs it (web-flow)
      const who = author ?? { name: 'stagecoach-bot', email: 'stagecoach-bot@users.noreply.github.com' };
      const by = committer ?? (author ? author : { name: 'GitHub', email: 'noreply@github.com' });
      const env = { GIT_AUTHOR_NAME: who.name, GIT_AUTHOR_EMAIL: who.email, GIT_COMMITTER_NAME: by.name, GIT_COMMITTER_EMAIL: by.email };
      const args = ['commit-tree', tree, ...parents.flatMap((sha: string) => ['-p', sha]), '-m', String(message)];
      const sha = await gitIn(bare, args, env);
      const verified = !author && !committer;
      return {
        status: 201,
        body: {
          sha,
          html_url: `${origin}/${full}/commit/${sha}`,
          tree: { sha: tree },
          parents: parents.map((p: string) => ({ sha: p })),
          message,
          verification: { verified, reason: verified ? 'valid' : 'unsigned' },
        },
      };
    }
    const branchRef = (ref: string) => (ref.startsWith('refs/heads/') ? ref.slice('refs/heads/'.length) : undefined);
    if (what === 'refs' && refParts.length === 0 && req.method === 'POST') {
      const branch = branchRef(String(req.body?.ref ?? ''));
      if (!branch) return invalid('Reference update failed');
      await refHook?.(full, branch);
      if (!(await exists(req.body.sha, 'commit'))) return invalid('Object does not exist');
      if (await gitIn(bare, ['rev-parse', '--verify', '-q', req.body.ref]).catch(() => '')) return invalid('Reference already exists');
      await gitIn(bare, ['update-ref', req.body.ref, req.body.sha]);
      return { status: 201, body: { ref: req.body.ref, object: { sha: req.body.sha, type: 'commit' } } };
    }
    if (what === 'refs' && refParts[0] === 'heads' && req.method === 'PATCH') {
      const branch = refParts.slice(1).join('/');
      await refHook?.(full, branch);
      const ref = `refs/heads/${branch}`;
      const current = await gitIn(bare, ['rev-parse', '--verify', '-q', ref]).catch(() => '');
      if (!current) return invalid('Reference does not exist');
      if (!(await exists(req.body?.sha, 'commit'))) return invalid('Object does not exist');
      const forward = await gitIn(bare, ['merge-base', '--is-ancestor', current, req.body.sha]).then(() => true, () => false);
      if (!forward && !req.body.force) return invalid('Update is not a fast forward');
      await gitIn(bare, ['update-ref', ref, req.body.sha]);
      return { status: 200, body: { ref, object: { sha: req.body.sha, type: 'commit' } } };
    }
    return notFound();
  }

  const api = await startLoopbackApi(handler, { tls: options.tls });
  origin = api.origin;
  const pullOf = (name: string, number: number) => {
    const p = repo(name).pulls.find(x => x.number === number);
    if (!p) throw new Error(`no pull request #${number} in ${name}`);
    return p;
  };
  return {
    ...api,
    apiBaseUrl: [api.origin, ...prefix].join('/'),
    token,
    setBranch(name, branch, message = `change on ${branch}`) {
      const sha = fakeSha();
      const r = repo(name);
      r.branches.set(branch, { sha, message });
      // an open pull request from this branch follows it
      for (const p of r.pulls) if (p.state === 'open' && p.head === branch) p.headSha = sha;
      return sha;
    },
    branchSha: (name, branch) => repo(name).branches.get(branch)?.sha,
    branchFrom(name, branch, from) {
      const r = repo(name);
      r.branches.set(branch, { ...r.branches.get(from)! });
    },
    pulls: name => repo(name).pulls,
    mergeByHand: (name, number) => doMerge(name, repo(name), pullOf(name, number)),
    closeByHand(name, number) {
      pullOf(name, number).state = 'closed';
    },
    allowMergeMethods(name, methods) {
      repo(name).allowedMergeMethods = methods;
    },
    beforeRefUpdate(hook) {
      refHook = hook;
    },
  };
}

/** git in the backing bare repository, with extra environment (a temporary index, an identity). */
function gitIn(bare: string, args: string[], env: Record<string, string> = {}): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile(
      'git',
      args,
      { cwd: bare, env: { PATH: process.env.PATH, HOME: os.tmpdir(), GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null', ...env } },
      (err, stdout, stderr) => (err ? reject(new Error(`git ${args.join(' ')}: ${stderr}`)) : resolve(stdout.trim())),
    ),
  );
}

/** A merge commit of the pull request's head into its base, made in the bare repository. */
async function mergeInGit(bare: string, pull: FakeGithubPull): Promise<string> {
  const work = await fs.mkdtemp(path.join(os.tmpdir(), 'fake-github-merge-'));
  try {
    await git(work, 'clone', '-q', '--branch', pull.base, bare, '.');
    await git(work, 'fetch', '-q', 'origin', pull.head);
    await git(work, '-c', 'user.name=GitHub', '-c', 'user.email=noreply@github.test', 'merge', '-q', '--no-ff', '-m', `Merge pull request #${pull.number} from ${pull.head}`, 'FETCH_HEAD');
    await git(work, 'push', '-q', 'origin', `HEAD:refs/heads/${pull.base}`);
    return (await git(work, 'rev-parse', 'HEAD')).trim();
  } finally {
    await fs.rm(work, { recursive: true, force: true });
  }
}

function notFound(): LoopbackResponse {
  return { status: 404, body: { message: 'Not Found', documentation_url: 'https://docs.github.com/rest', status: '404' } };
}
