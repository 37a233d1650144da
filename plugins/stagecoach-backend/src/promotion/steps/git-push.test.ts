import fs from 'node:fs/promises';
import path from 'node:path';
import { createBareRepo, git, GitHttpServer, startGitHttpServer } from '@stagecoach/git-server';
import { createGitFixture, GitFixture, VALUES } from '../../__testUtils__/gitFixture';
import { bareRepo, pushFromElsewhere, serverLog } from '../../__testUtils__/gitWork';
import { LOOPBACK_ALLOWED } from '../../__testUtils__/loopbackHttp';
import { runStep, tempWorkDir } from '../../__testUtils__/stepHarness';
import { DEFAULT_EGRESS_POLICY } from '../../integrations/http/egress';
import type { ScmCredentials } from '../../integrations/scm/ScmCredentials';
import type { StepContext } from './types';
import { gitClone } from './git-clone';
import { gitCommit } from './git-commit';
import { gitPush } from './git-push';
import { gitTag } from './git-tag';

type Ctx = Partial<StepContext> & { workDir: string };

/** clone -> write files -> commit, as a promotion's first steps do. */
async function promoteLocally(
  ctx: Ctx,
  repoURL: string,
  checkout: Record<string, unknown>,
  files: Record<string, string>,
  message: string,
) {
  const cloned = await runStep(gitClone, { repoURL, checkout: [{ path: './out', ...checkout }] }, ctx);
  expect(cloned.status).toBe('Succeeded');
  for (const [file, text] of Object.entries(files)) {
    await fs.mkdir(path.dirname(path.join(ctx.workDir, 'out', file)), { recursive: true });
    await fs.writeFile(path.join(ctx.workDir, 'out', file), text);
  }
  const committed = await runStep(gitCommit, { path: './out', message }, ctx);
  expect(committed.status).toBe('Succeeded');
  return committed.outputs?.commit as string;
}

describe('git-push (against a real Git server over HTTP)', () => {
  let f: GitFixture;
  let work: { dir: string; cleanup(): Promise<void> };
  let ctx: Ctx;

  beforeEach(async () => {
    f = await createGitFixture();
    work = await tempWorkDir();
    ctx = { workDir: work.dir, egress: LOOPBACK_ALLOWED };
  });
  afterEach(async () => {
    await work.cleanup();
    await f.close();
  });

  it('refuses to push to an origin the egress policy denies, naming the rule; the loopback server keeps its branch', async () => {
    await promoteLocally(ctx, f.gitopsURL, { branch: 'main' }, { 'env/dev/values.yaml': 'tag: v2\n' }, 'Promote v2 to dev');
    await expect(runStep(gitPush, { path: './out' }, { ...ctx, egress: DEFAULT_EGRESS_POLICY })).rejects.toThrow(
      `the origin of ./out: request to ${f.gitopsURL} refused by the egress policy: 127.0.0.1 is in the denied range 127.0.0.0/8 (loopback) — see stagecoach.egress`,
    );
    expect(await serverLog(f, 'gitops', 'main')).toEqual(['initial environments']);
  });

  it('pushes the commit to the branch that was checked out', async () => {
    const commit = await promoteLocally(ctx, f.gitopsURL, { branch: 'main' }, { 'env/dev/values.yaml': 'tag: v2\n' }, 'Promote v2 to dev');
    const result = await runStep(gitPush, { path: './out' }, ctx);
    expect(result).toEqual({
      status: 'Succeeded',
      message: `pushed ${commit.slice(0, 7)} to branch main`,
      outputs: { branch: 'main', commit },
    });
    expect(await f.show('gitops', 'main', 'env/dev/values.yaml')).toBe('tag: v2');
    expect(await serverLog(f, 'gitops', 'main')).toEqual(['Promote v2 to dev', 'initial environments']);
  });

  it('rebases onto commits pushed meanwhile and pushes, keeping both changes in a line', async () => {
    await promoteLocally(ctx, f.gitopsURL, { branch: 'main' }, { 'env/dev/values.yaml': 'tag: v2\n' }, 'Promote v2 to dev');
    await pushFromElsewhere(f, 'gitops', 'main', { 'env/staging/values.yaml': 'tag: v1\n' }, 'Promote v1 to staging');

    const result = await runStep(gitPush, { path: './out' }, ctx);
    expect(result.status).toBe('Succeeded');
    expect(await serverLog(f, 'gitops', 'main', '%s|%P')).toEqual([
      expect.stringMatching(/^Promote v2 to dev\|[0-9a-f]{40}$/),
      expect.stringMatching(/^Promote v1 to staging\|[0-9a-f]{40}$/),
      'initial environments|',
    ]);
    expect(await f.show('gitops', 'main', 'env/dev/values.yaml')).toBe('tag: v2');
    expect(await f.show('gitops', 'main', 'env/staging/values.yaml')).toBe('tag: v1');
    expect(result.outputs?.commit).toBe(await git(bareRepo(f, 'gitops'), 'rev-parse', 'main'));
  });

  it('pushes nothing a second time when the step runs again (a retried step)', async () => {
    const commit = await promoteLocally(ctx, f.gitopsURL, { branch: 'main' }, { 'a.txt': 'a\n' }, 'Promote');
    await runStep(gitPush, { path: './out' }, ctx);
    const again = await runStep(gitPush, { path: './out' }, ctx);
    expect(again).toEqual({
      status: 'Succeeded',
      message: `branch main already had ${commit.slice(0, 7)}: nothing pushed`,
      outputs: { branch: 'main', commit },
    });
    expect(await f.commitCount('gitops', 'main')).toBe(2);
  });

  it('pushes nothing when a retried promotion, from a fresh clone, makes the same change again', async () => {
    await promoteLocally(ctx, f.gitopsURL, { branch: 'main' }, { 'a.txt': 'a\n' }, 'Promote');
    await runStep(gitPush, { path: './out' }, ctx);

    const retry = await tempWorkDir();
    try {
      await promoteLocally({ workDir: retry.dir, egress: LOOPBACK_ALLOWED }, f.gitopsURL, { branch: 'main' }, { 'a.txt': 'a\n' }, 'Promote');
      const result = await runStep(gitPush, { path: './out' }, { workDir: retry.dir, egress: LOOPBACK_ALLOWED });
      expect(result.status).toBe('Succeeded');
      expect(result.message).toMatch(/nothing pushed$/);
    } finally {
      await retry.cleanup();
    }
    expect(await serverLog(f, 'gitops', 'main')).toEqual(['Promote', 'initial environments']);
  });

  it('succeeds without a new commit when the remote moved on past the commit it already has', async () => {
    const commit = await promoteLocally(ctx, f.gitopsURL, { branch: 'main' }, { 'a.txt': 'a\n' }, 'Promote');
    await runStep(gitPush, { path: './out' }, ctx);
    await pushFromElsewhere(f, 'gitops', 'main', { 'b.txt': 'b\n' }, 'Later work');

    const again = await runStep(gitPush, { path: './out' }, ctx);
    expect(again.status).toBe('Succeeded');
    expect(again.message).toMatch(/nothing pushed$/);
    expect(await serverLog(f, 'gitops', 'main', '%H %s')).toEqual([
      expect.stringMatching(/ Later work$/),
      `${commit} Promote`,
      expect.stringMatching(/ initial environments$/),
    ]);
  });

  it('fails naming the file when the remote changed the same lines, and pushes nothing', async () => {
    await promoteLocally(ctx, f.gitopsURL, { branch: 'main' }, { 'env/dev/values.yaml': 'tag: mine\n' }, 'Promote');
    const theirs = await pushFromElsewhere(f, 'gitops', 'main', { 'env/dev/values.yaml': 'tag: theirs\n' }, 'Hotfix');

    const result = await runStep(gitPush, { path: './out' }, ctx);
    expect(result).toEqual({
      status: 'Failed',
      message: `main on ${f.gitopsURL} changed env/dev/values.yaml in a way that conflicts with this promotion's commit: nothing was pushed`,
    });
    expect(await git(bareRepo(f, 'gitops'), 'rev-parse', 'main')).toBe(theirs);
  });

  it('gives up after maxAttempts when the branch keeps moving', async () => {
    await promoteLocally(ctx, f.gitopsURL, { branch: 'main' }, { 'a.txt': 'a\n' }, 'Promote');
    await pushFromElsewhere(f, 'gitops', 'main', { 'b.txt': 'b\n' }, 'Other');
    const result = await runStep(gitPush, { path: './out', maxAttempts: 1 }, ctx);
    expect(result).toEqual({
      status: 'Failed',
      message: `main on ${f.gitopsURL} kept moving: gave up after 1 attempts (maxAttempts)`,
    });
  });

  it('force-pushes over the remote branch with force: true', async () => {
    await promoteLocally(ctx, f.gitopsURL, { branch: 'main' }, { 'rendered.yaml': 'kind: A\n' }, 'Render');
    await pushFromElsewhere(f, 'gitops', 'main', { 'b.txt': 'b\n' }, 'Other');
    const result = await runStep(gitPush, { path: './out', force: true }, ctx);
    expect(result.status).toBe('Succeeded');
    expect(await serverLog(f, 'gitops', 'main')).toEqual(['Render', 'initial environments']);
  });

  it("pushes to the promotion's own branch with generateTargetBranch, and to a named one with targetBranch", async () => {
    await promoteLocally(ctx, f.gitopsURL, { branch: 'main' }, { 'a.txt': 'a\n' }, 'Promote');
    const generated = await runStep(gitPush, { path: './out', generateTargetBranch: true }, { ...ctx, promotionId: 'dev.brave-otter.01j9' });
    expect(generated.outputs?.branch).toBe('stagecoach/promotion/dev.brave-otter.01j9');
    expect(await serverLog(f, 'gitops', 'stagecoach/promotion/dev.brave-otter.01j9')).toEqual(['Promote', 'initial environments']);
    expect(await serverLog(f, 'gitops', 'main')).toEqual(['initial environments']);

    const named = await runStep(gitPush, { path: './out', targetBranch: 'review/dev' }, ctx);
    expect(named.outputs?.branch).toBe('review/dev');
    expect(await f.show('gitops', 'review/dev', 'a.txt')).toBe('a');
  });

  it('works with one branch per environment: main cloned beside a new env/dev branch that it then updates', async () => {
    const clone = await runStep(
      gitClone,
      {
        repoURL: f.gitopsURL,
        checkout: [
          { branch: 'main', path: './src' },
          { branch: 'env/dev', create: true, path: './out' },
        ],
      },
      ctx,
    );
    expect(clone.status).toBe('Succeeded');
    await fs.copyFile(path.join(work.dir, 'src/env/dev/values.yaml'), path.join(work.dir, 'out/values.yaml'));
    await runStep(gitCommit, { path: './out', message: 'Render dev' }, ctx);
    const pushed = await runStep(gitPush, { path: './out' }, ctx);
    expect(pushed.outputs?.branch).toBe('env/dev');
    expect(await serverLog(f, 'gitops', 'env/dev')).toEqual(['Render dev', 'Start branch env/dev']);
    expect(await f.show('gitops', 'env/dev', 'values.yaml')).toBe(VALUES('dev').trimEnd());
    // its own history: nothing of main's
    await expect(git(bareRepo(f, 'gitops'), 'merge-base', 'main', 'env/dev')).rejects.toThrow();

    // the next promotion finds the branch and adds to it
    const next = await tempWorkDir();
    try {
      const nextCtx = { workDir: next.dir, egress: LOOPBACK_ALLOWED };
      await promoteLocally(nextCtx, f.gitopsURL, { branch: 'env/dev', create: true }, { 'values.yaml': 'tag: v2\n' }, 'Render dev again');
      await runStep(gitPush, { path: './out' }, nextCtx);
    } finally {
      await next.cleanup();
    }
    expect(await serverLog(f, 'gitops', 'env/dev')).toEqual(['Render dev again', 'Render dev', 'Start branch env/dev']);
  });

  it('lands a new environment branch that another promotion created meanwhile on top of it', async () => {
    await promoteLocally(ctx, f.gitopsURL, { branch: 'env/dev', create: true }, { 'dev.yaml': 'mine\n' }, 'Render dev');
    const other = await tempWorkDir();
    try {
      await promoteLocally({ workDir: other.dir, egress: LOOPBACK_ALLOWED }, f.gitopsURL, { branch: 'env/dev', create: true }, { 'other.yaml': 'x\n' }, 'Other render');
      await runStep(gitPush, { path: './out' }, { workDir: other.dir, egress: LOOPBACK_ALLOWED });
    } finally {
      await other.cleanup();
    }
    const result = await runStep(gitPush, { path: './out' }, ctx);
    expect(result.status).toBe('Succeeded');
    expect(await serverLog(f, 'gitops', 'env/dev')).toEqual(['Render dev', 'Other render', 'Start branch env/dev']);
  });

  it('pushes a tag made by git-tag, and accepts the same tag on the same commit again', async () => {
    const commit = await promoteLocally(ctx, f.gitopsURL, { branch: 'main' }, { 'a.txt': 'a\n' }, 'Release');
    await runStep(gitTag, { path: './out', tag: 'dev-2026.1', message: 'Promoted to dev' }, ctx);
    const pushed = await runStep(gitPush, { path: './out', tag: 'dev-2026.1' }, ctx);
    expect(pushed.outputs).toEqual({ tag: 'dev-2026.1', commit });
    const bare = bareRepo(f, 'gitops');
    expect(await git(bare, 'cat-file', '-t', 'refs/tags/dev-2026.1')).toBe('tag');
    expect(await git(bare, 'rev-parse', 'dev-2026.1^{commit}')).toBe(commit);
    // the branch itself was not pushed
    expect(await serverLog(f, 'gitops', 'main')).toEqual(['initial environments']);

    // a retry re-creates the annotated tag (a new tag object) on the same commit: accepted
    await runStep(gitTag, { path: './out', tag: 'dev-2026.1', message: 'Promoted to dev', force: true }, ctx);
    const again = await runStep(gitPush, { path: './out', tag: 'dev-2026.1' }, ctx);
    expect(again.status).toBe('Succeeded');
  });

  it('refuses to move a tag that exists on the remote at another commit', async () => {
    await promoteLocally(ctx, f.gitopsURL, { branch: 'main' }, { 'a.txt': 'a\n' }, 'Release');
    await git(bareRepo(f, 'gitops'), 'tag', 'v1', 'main');
    await runStep(gitTag, { path: './out', tag: 'v1' }, ctx);
    const result = await runStep(gitPush, { path: './out', tag: 'v1' }, ctx);
    expect(result.status).toBe('Failed');
    expect(result.message).toMatch(new RegExp(`^tag v1 already exists on ${f.gitopsURL} at [0-9a-f]{7}: tags are never overwritten$`));
  });

  it('builds commitURL for GitHub- and GitLab-style hosts', async () => {
    const commit = await promoteLocally(ctx, f.gitopsURL, { branch: 'main' }, { 'a.txt': 'a\n' }, 'Promote');
    const github = await runStep(gitPush, { path: './out', provider: 'github' }, ctx);
    expect(github.outputs?.commitURL).toBe(`${f.server.url}/gitops/commit/${commit}`);
    const gitlab = await runStep(gitPush, { path: './out', provider: 'gitlab' }, ctx);
    expect(gitlab.outputs?.commitURL).toBe(`${f.server.url}/gitops/-/commit/${commit}`);
    const fromIntegrations = await runStep(gitPush, { path: './out' }, {
      ...ctx,
      credentials: { git: async () => undefined, api: async () => ({ provider: 'gitlab', apiBaseUrl: 'http://x/api/v4' }) },
    });
    expect(fromIntegrations.outputs?.commitURL).toBe(`${f.server.url}/gitops/-/commit/${commit}`);
  });

  it('fails, asking for targetBranch, in a working tree checked out at a tag', async () => {
    await runStep(gitClone, { repoURL: f.appURL, checkout: [{ tag: 'v1.0.0', path: './out' }] }, ctx);
    expect(await runStep(gitPush, { path: './out' }, ctx)).toEqual({
      status: 'Failed',
      message: './out is not on a branch (a tag or commit was checked out): set targetBranch',
    });
  });

  it('names the conflicting fields of its configuration', async () => {
    await expect(runStep(gitPush, { path: './out', targetBranch: 'a', tag: 'v1' }, ctx)).rejects.toThrow(
      'config.tag: set at most one of targetBranch, generateTargetBranch and tag',
    );
    await expect(runStep(gitPush, { path: './out', tag: 'v1', force: true }, ctx)).rejects.toThrow(
      'config.force: a tag is never force-pushed: remove force or tag',
    );
  });
});

describe('git-clone, git-commit and git-push with credentials (against a real Git server requiring HTTP basic auth)', () => {
  let root: string;
  let server: GitHttpServer;
  let work: { dir: string; cleanup(): Promise<void> };
  const token = 'ghp-test-token-0123456789';

  beforeEach(async () => {
    work = await tempWorkDir();
    root = `${work.dir}-server`;
    await createBareRepo(root, 'private', [{ files: { 'values.yaml': 'tag: v1\n' }, message: 'first' }]);
    server = await startGitHttpServer({ root, credentials: { username: 'x-access-token', password: token } });
  });
  afterEach(async () => {
    await server.close();
    await work.cleanup();
    await fs.rm(root, { recursive: true, force: true });
  });

  const credentials = (password: string | undefined): ScmCredentials => ({
    git: async () => (password ? { username: 'x-access-token', password } : undefined),
    api: async () => undefined,
  });

  it('pushes with the credentials configured for the working tree’s origin', async () => {
    const ctx = { workDir: work.dir, egress: LOOPBACK_ALLOWED, credentials: credentials(token) };
    await promoteLocally(ctx, `${server.url}/private.git`, { branch: 'main' }, { 'values.yaml': 'tag: v2\n' }, 'Promote v2');
    const result = await runStep(gitPush, { path: './out' }, ctx);
    expect(result.status).toBe('Succeeded');
    expect(await git(path.join(root, 'private.git'), 'log', '--format=%s', 'main')).toBe('Promote v2\nfirst');
  });

  it('fails clearly, without the secret, when the push has no credentials or wrong ones', async () => {
    const ctx = { workDir: work.dir, egress: LOOPBACK_ALLOWED, credentials: credentials(token) };
    const repoURL = `${server.url}/private.git`;
    await promoteLocally(ctx, repoURL, { branch: 'main' }, { 'values.yaml': 'tag: v2\n' }, 'Promote v2');

    await expect(runStep(gitPush, { path: './out' }, { ...ctx, credentials: credentials(undefined) })).rejects.toThrow(
      `${repoURL} requires credentials and none are configured for it: add an integration for its host to app-config.yaml`,
    );
    const wrong = await runStep(gitPush, { path: './out' }, { ...ctx, credentials: credentials('not-the-token') }).catch(
      (e: Error) => e,
    );
    expect(wrong).toBeInstanceOf(Error);
    expect((wrong as Error).message).toBe(
      `${repoURL} refused the configured credentials: check the token and its permissions in the integrations config`,
    );
    expect(await git(path.join(root, 'private.git'), 'log', '--format=%s', 'main')).toBe('first');
  });
});
