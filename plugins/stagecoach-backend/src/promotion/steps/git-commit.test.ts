import fs from 'node:fs/promises';
import path from 'node:path';
import { git } from '@stagecoach/git-server';
import { createGitFixture, GitFixture } from '../../__testUtils__/gitFixture';
import { LOOPBACK_ALLOWED } from '../../__testUtils__/loopbackHttp';
import { runStep, tempWorkDir } from '../../__testUtils__/stepHarness';
import { gitClone } from './git-clone';
import { gitCommit } from './git-commit';

describe('git-commit (in a clone of a real Git server)', () => {
  let f: GitFixture;
  let work: Awaited<ReturnType<typeof tempWorkDir>>;
  let out: string;

  beforeEach(async () => {
    f = await createGitFixture();
    work = await tempWorkDir();
    out = path.join(work.dir, 'out');
  });
  afterEach(async () => {
    await work.cleanup();
    await f.close();
  });

  const clone = (extra: Record<string, unknown> = {}) =>
    runStep(gitClone, { repoURL: f.gitopsURL, checkout: [{ branch: 'main', path: './out' }], ...extra }, { workDir: work.dir, egress: LOOPBACK_ALLOWED });

  it('commits new, changed and deleted files with the message, and outputs the commit', async () => {
    await clone();
    await fs.writeFile(path.join(out, 'env/dev/values.yaml'), 'replicas: 2\n');
    await fs.rm(path.join(out, 'env/staging'), { recursive: true });
    await fs.mkdir(path.join(out, 'env/prod'));
    await fs.writeFile(path.join(out, 'env/prod/values.yaml'), 'replicas: 3\n');

    const result = await runStep(gitCommit, { path: './out', message: 'Promote to dev' }, { workDir: work.dir, egress: LOOPBACK_ALLOWED });
    expect(result.status).toBe('Succeeded');
    expect(result.outputs).toEqual({ commit: await git(out, 'rev-parse', 'HEAD') });
    expect(await git(out, 'log', '-1', '--format=%B')).toBe('Promote to dev');
    expect(await git(out, 'show', '--name-status', '--format=', 'HEAD')).toBe(
      ['M\tenv/dev/values.yaml', 'A\tenv/prod/values.yaml', 'D\tenv/staging/values.yaml'].join('\n'),
    );
    expect(await git(out, 'log', '-1', '--format=%an <%ae>')).toBe('Stagecoach <stagecoach@localhost>');
  });

  it('succeeds with the current HEAD and makes no commit when nothing changed', async () => {
    await clone();
    const head = await git(out, 'rev-parse', 'HEAD');
    const result = await runStep(gitCommit, { path: './out', message: 'Promote' }, { workDir: work.dir, egress: LOOPBACK_ALLOWED });
    expect(result).toEqual({
      status: 'Succeeded',
      message: `nothing to commit: ./out already had these changes (HEAD ${head.slice(0, 7)})`,
      outputs: { commit: head },
    });
    expect(await git(out, 'rev-list', '--count', 'HEAD')).toBe('1');
  });

  it("builds the message from earlier steps' commitMessage outputs (messageFromSteps)", async () => {
    await clone();
    await fs.writeFile(path.join(out, 'a.txt'), 'a\n');
    const outputs = {
      'update-dev': { commitMessage: 'Updated env/dev/values.yaml\n\n- image.tag: v1.2.0' },
      'update-staging': { commitMessage: 'Updated env/staging/values.yaml\n\n- image.tag: v1.1.0' },
      'no-change': {},
    };
    await runStep(
      gitCommit,
      { path: './out', messageFromSteps: ['update-dev', 'no-change', 'update-staging'] },
      { workDir: work.dir, egress: LOOPBACK_ALLOWED, outputs },
    );
    expect(await git(out, 'log', '-1', '--format=%B')).toBe(
      'Stagecoach applied 2 changes\n\nUpdated env/dev/values.yaml\n\n- image.tag: v1.2.0\n\nUpdated env/staging/values.yaml\n\n- image.tag: v1.1.0',
    );

    await fs.writeFile(path.join(out, 'b.txt'), 'b\n');
    await runStep(gitCommit, { path: './out', messageFromSteps: ['update-dev'] }, { workDir: work.dir, egress: LOOPBACK_ALLOWED, outputs });
    expect(await git(out, 'log', '-1', '--format=%B')).toBe('Updated env/dev/values.yaml\n\n- image.tag: v1.2.0');
  });

  it('names the alias when messageFromSteps refers to a step that did not run', async () => {
    await clone();
    await expect(
      runStep(gitCommit, { path: './out', messageFromSteps: ['update'] }, { workDir: work.dir, egress: LOOPBACK_ALLOWED, outputs: {} }),
    ).rejects.toThrow('messageFromSteps: no earlier step has the alias "update"');
  });

  it("uses the author given to git-clone, and the step's own (deprecated) author over it", async () => {
    await clone({ author: { name: 'Release Bot', email: 'release-bot@example.com' } });
    await fs.writeFile(path.join(out, 'a.txt'), 'a\n');
    await runStep(gitCommit, { path: './out', message: 'by the clone author' }, { workDir: work.dir, egress: LOOPBACK_ALLOWED });
    expect(await git(out, 'log', '-1', '--format=%an <%ae>|%cn <%ce>')).toBe(
      'Release Bot <release-bot@example.com>|Release Bot <release-bot@example.com>',
    );

    await fs.writeFile(path.join(out, 'b.txt'), 'b\n');
    await runStep(
      gitCommit,
      { path: './out', message: 'by the step author', author: { name: 'Jane Doe', email: 'jane@example.com' } },
      { workDir: work.dir, egress: LOOPBACK_ALLOWED },
    );
    expect(await git(out, 'log', '-1', '--format=%an <%ae>')).toBe('Jane Doe <jane@example.com>');
  });

  it("falls back to the promotion's identity in a working tree whose config names nobody", async () => {
    await clone();
    // the clone's config names whoever git-clone was told; here, nobody
    const repository = path.join(work.cloneStore, 'step-1');
    await git(repository, 'config', '--unset', 'user.name');
    await git(repository, 'config', '--unset', 'user.email');
    await fs.writeFile(path.join(out, 'a.txt'), 'a\n');
    await runStep(
      gitCommit,
      { path: './out', message: 'first' },
      { workDir: work.dir, egress: LOOPBACK_ALLOWED, gitIdentity: { name: 'Platform Team', email: 'platform@example.com' } },
    );
    expect(await git(out, 'log', '-1', '--format=%an <%ae>')).toBe('Platform Team <platform@example.com>');
  });

  it('refuses a configuration without a message, and a path that is no working tree', async () => {
    await expect(runStep(gitCommit, { path: './out' }, { workDir: work.dir, egress: LOOPBACK_ALLOWED })).rejects.toThrow(
      'config.message: is required (or, in older manifests, messageFromSteps)',
    );
    await expect(
      runStep(gitCommit, { path: './out', message: 'x', messageFromSteps: ['a'] }, { workDir: work.dir, egress: LOOPBACK_ALLOWED }),
    ).rejects.toThrow('config.messageFromSteps: set either message or messageFromSteps, not both');
    await fs.mkdir(path.join(work.dir, 'plain'));
    await expect(runStep(gitCommit, { path: './plain', message: 'x' }, { workDir: work.dir, egress: LOOPBACK_ALLOWED })).rejects.toThrow(
      'path "./plain" is not a Git working tree (check it out with git-clone first)',
    );
    // a repository made some other way is not one git-clone checked out: git never runs in it
    await fs.mkdir(path.join(work.dir, 'other'));
    await git(path.join(work.dir, 'other'), 'init', '-q');
    await expect(runStep(gitCommit, { path: './other', message: 'x' }, { workDir: work.dir, egress: LOOPBACK_ALLOWED })).rejects.toThrow(
      'path "./other" is not a Git working tree (check it out with git-clone first)',
    );
  });
});
