import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { createBareRepo, git, GitHttpServer, startGitHttpServer } from '@stagecoach/git-server';
import { FakeGithub, startFakeGithub } from '../../__testUtils__/githubApi';
import type { GitFixture } from '../../__testUtils__/gitFixture';
import { pushFromElsewhere } from '../../__testUtils__/gitWork';
import { LOOPBACK_ALLOWED } from '../../__testUtils__/loopbackHttp';
import { runStep, tempWorkDir } from '../../__testUtils__/stepHarness';
import type { ScmCredentials } from '../../integrations/scm/ScmCredentials';
import { gitClone } from './git-clone';
import { gitCommit } from './git-commit';
import { githubPush } from './github-push';
import type { StepContext } from './types';

jest.setTimeout(60_000);

const REPO = 'acme/gitops';
const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0xff, 0xfe, 0x80, 0x81]);

describe('github-push (a loopback GitHub REST API over the same bare repository a loopback Git server serves)', () => {
  let root: string;
  let bare: string;
  let server: GitHttpServer;
  let gh: FakeGithub;
  let work: Awaited<ReturnType<typeof tempWorkDir>>;
  let ctx: Partial<StepContext> & { workDir: string };
  let repoURL: string;
  const elsewhere = () => ({ root }) as GitFixture;
  const onServer = (...args: string[]) => git(bare, ...args);

  beforeEach(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'stagecoach-github-push-'));
    bare = await createBareRepo(path.join(root, 'repos', 'acme'), 'gitops', [
      { files: { 'env/dev/values.yaml': 'replicas: 1\n', 'env/prod/values.yaml': 'replicas: 3\n', 'README.md': 'GitOps\n' }, message: 'initial' },
    ]);
    server = await startGitHttpServer({ root: path.join(root, 'repos') });
    gh = await startFakeGithub({ backedBy: r => (r === REPO ? bare : undefined) });
    repoURL = `${server.url}/${REPO}.git`;
    const credentials: ScmCredentials = {
      git: async () => undefined,
      api: async url =>
        url.startsWith(server.url) ? { provider: 'github', apiBaseUrl: gh.apiBaseUrl, authorization: `Bearer ${gh.token}` } : undefined,
    };
    work = await tempWorkDir();
    ctx = { workDir: work.dir, egress: LOOPBACK_ALLOWED, credentials };
  });
  afterEach(async () => {
    await gh.close();
    await server.close();
    await work.cleanup();
    await fs.rm(root, { recursive: true, force: true });
  });

  /** git-clone of main into ./out, then one git-commit per entry (files to write; null removes one). */
  async function cloneAndCommit(commits: Array<{ message: string; files: Record<string, string | Buffer | null> }>, checkout = {}) {
    expect((await runStep(gitClone, { repoURL, checkout: [{ path: './out', branch: 'main', ...checkout }] }, ctx)).status).toBe('Succeeded');
    for (const c of commits) {
      for (const [file, content] of Object.entries(c.files)) {
        const target = path.join(work.dir, 'out', file);
        if (content === null) await fs.rm(target);
        else {
          await fs.mkdir(path.dirname(target), { recursive: true });
          await fs.writeFile(target, content);
        }
      }
      expect((await runStep(gitCommit, { path: './out', message: c.message }, ctx)).status).toBe('Succeeded');
    }
  }
  const localHead = async () => (await git(path.join(work.dir, 'out'), 'rev-parse', 'HEAD')).trim();

  it('creates the local commits on GitHub and moves the branch to them: the tree holds the pushed files, the commits are verified', async () => {
    await cloneAndCommit([
      { message: 'Render dev', files: { 'env/dev/values.yaml': 'replicas: 2\n', 'env/dev/logo.png': PNG, 'README.md': null } },
      { message: 'Pin prod', files: { 'env/prod/values.yaml': 'replicas: 5\n', 'env/dev/run.sh': '#!/bin/sh\necho hi\n' } },
    ]);
    await fs.chmod(path.join(work.dir, 'out/env/dev/run.sh'), 0o755);
    expect((await runStep(gitCommit, { path: './out', message: 'Make run.sh executable' }, ctx)).status).toBe('Succeeded');
    const localTree = (await git(path.join(work.dir, 'out'), 'rev-parse', 'HEAD^{tree}')).trim();

    const result = await runStep(githubPush, { path: './out' }, ctx);

    const pushed = (await onServer('rev-parse', 'refs/heads/main')).trim();
    expect(result).toEqual({
      status: 'Succeeded',
      message: `pushed 3 commits to main of ${REPO} through GitHub's API as ${pushed.slice(0, 7)}`,
      outputs: { branch: 'main', commit: pushed, commitURL: `${gh.origin}/${REPO}/commit/${pushed}` },
    });
    // the branch's tree is the local tree, to the hash: every file, mode and removal as committed
    expect(await onServer('rev-parse', `${pushed}^{tree}`)).toBe(localTree);
    expect(await onServer('show', `${pushed}:env/dev/values.yaml`)).toBe('replicas: 2');
    expect(await onServer('show', `${pushed}:env/prod/values.yaml`)).toBe('replicas: 5');
    const { stdout: png } = await promisify(execFile)('git', ['cat-file', 'blob', `${pushed}:env/dev/logo.png`], { cwd: bare, encoding: 'buffer' });
    expect(png).toEqual(PNG);
    expect(await onServer('ls-tree', pushed, 'env/dev/run.sh')).toMatch(/^100755 blob /);
    await expect(onServer('cat-file', '-e', `${pushed}:README.md`)).rejects.toThrow();
    // made by GitHub (no author sent): committed by GitHub, on top of what main was
    expect((await onServer('log', '--format=%s|%an|%cn', 'main')).split('\n')).toEqual([
      'Make run.sh executable|stagecoach-bot|GitHub',
      'Pin prod|stagecoach-bot|GitHub',
      'Render dev|stagecoach-bot|GitHub',
      'initial|Stagecoach Demo|Stagecoach Demo',
    ]);
    const commitRequests = gh.requests.filter(r => r.method === 'POST' && r.path.endsWith('/git/commits'));
    expect(commitRequests).toHaveLength(3);
    for (const r of commitRequests) expect(r.body.author).toBeUndefined();
    // the working tree follows GitHub's commits: the same files, nothing left to commit
    expect(await localHead()).toBe(pushed);
    expect(await git(path.join(work.dir, 'out'), 'status', '--porcelain')).toBe('');

    // again: GitHub has it all
    expect(await runStep(githubPush, { path: './out' }, ctx)).toEqual({
      status: 'Succeeded',
      message: `main of ${REPO} already has ${pushed.slice(0, 7)}: nothing pushed`,
      outputs: { branch: 'main', commit: pushed },
    });
  });

  it('pushes to a new branch of the promotion (generateTargetBranch) on top of the commits GitHub has', async () => {
    const main = (await onServer('rev-parse', 'main')).trim();
    await cloneAndCommit([{ message: 'Render dev', files: { 'env/dev/values.yaml': 'replicas: 4\n' } }]);
    const result = await runStep(githubPush, { path: './out', generateTargetBranch: true }, ctx);
    const branch = 'stagecoach/promotion/dev.test.00000000';
    const pushed = (await onServer('rev-parse', `refs/heads/${branch}`)).trim();
    expect(result.outputs).toEqual({ branch, commit: pushed, commitURL: `${gh.origin}/${REPO}/commit/${pushed}` });
    expect((await onServer('rev-parse', `${pushed}^`)).trim()).toBe(main);
    expect(await onServer('show', `${pushed}:env/dev/values.yaml`)).toBe('replicas: 4');
    expect((await onServer('rev-parse', 'main')).trim()).toBe(main);
    expect(gh.requests.some(r => r.method === 'POST' && r.path.endsWith('/git/refs'))).toBe(true);
  });

  it('rebases onto commits pushed meanwhile, before the push and while it runs (the ref update refused), and pushes', async () => {
    await cloneAndCommit([{ message: 'Render dev', files: { 'env/dev/values.yaml': 'replicas: 2\n' } }]);
    await pushFromElsewhere(elsewhere(), REPO, 'main', { 'env/prod/values.yaml': 'replicas: 4\n' }, 'Scale prod');
    let raced = false;
    gh.beforeRefUpdate(async () => {
      if (raced) return;
      raced = true;
      await pushFromElsewhere(elsewhere(), REPO, 'main', { 'env/staging/values.yaml': 'replicas: 2\n' }, 'Add staging');
    });
    const result = await runStep(githubPush, { path: './out' }, ctx);
    expect(result.status).toBe('Succeeded');
    expect(result.message).toMatch(/ \(attempt 2\)$/);
    expect((await onServer('log', '--format=%s', 'main')).split('\n')).toEqual(['Render dev', 'Add staging', 'Scale prod', 'initial']);
    const pushed = (await onServer('rev-parse', 'main')).trim();
    expect(await onServer('show', `${pushed}:env/dev/values.yaml`)).toBe('replicas: 2');
    expect(await onServer('show', `${pushed}:env/staging/values.yaml`)).toBe('replicas: 2');
    expect(await localHead()).toBe(pushed);
  });

  it('gives up after maxAttempts when the branch keeps moving, pushing nothing, and fails clearly on a conflict', async () => {
    await cloneAndCommit([{ message: 'Render dev', files: { 'env/dev/values.yaml': 'replicas: 2\n' } }]);
    let n = 0;
    gh.beforeRefUpdate(async () => {
      n++;
      await pushFromElsewhere(elsewhere(), REPO, 'main', { [`other/${n}.txt`]: `${n}\n` }, `Elsewhere ${n}`);
    });
    expect(await runStep(githubPush, { path: './out', maxAttempts: 3 }, ctx)).toEqual({
      status: 'Failed',
      message: `main of ${REPO} kept moving on GitHub: gave up after 3 attempts (maxAttempts); nothing was pushed`,
    });
    expect(await onServer('log', '--format=%s', 'main')).not.toContain('Render dev');

    gh.beforeRefUpdate(undefined);
    await pushFromElsewhere(elsewhere(), REPO, 'main', { 'env/dev/values.yaml': 'replicas: 9\n' }, 'Scale dev by hand');
    expect(await runStep(githubPush, { path: './out' }, ctx)).toEqual({
      status: 'Failed',
      message: `main of ${REPO} changed env/dev/values.yaml in a way that conflicts with this promotion's commits: nothing was pushed`,
    });
    expect(await onServer('show', 'main:env/dev/values.yaml')).toBe('replicas: 9');
  });

  it('refuses a host that is not GitHub, and targetBranch with generateTargetBranch', async () => {
    await cloneAndCommit([{ message: 'Render dev', files: { 'env/dev/values.yaml': 'replicas: 2\n' } }]);
    await expect(runStep(githubPush, { path: './out' }, { ...ctx, credentials: { git: async () => undefined, api: async () => undefined } })).rejects.toThrow(
      `127.0.0.1:${new URL(server.url).port} is not known as a GitHub host: configure it under integrations.github`,
    );
    await expect(runStep(githubPush, { path: './out', targetBranch: 'x', generateTargetBranch: true }, ctx)).rejects.toThrow(
      'set at most one of targetBranch and generateTargetBranch',
    );
  });
});
