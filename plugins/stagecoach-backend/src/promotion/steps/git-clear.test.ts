import fs from 'node:fs/promises';
import path from 'node:path';
import { git } from '@stagecoach/git-server';
import { createGitFixture, GitFixture } from '../../__testUtils__/gitFixture';
import { LOOPBACK_ALLOWED } from '../../__testUtils__/loopbackHttp';
import { runStep, tempWorkDir } from '../../__testUtils__/stepHarness';
import { gitClear } from './git-clear';
import { gitClone } from './git-clone';
import { gitCommit } from './git-commit';

describe('git-clear (in a clone of a real Git server)', () => {
  let f: GitFixture;
  let work: { dir: string; cleanup(): Promise<void> };

  beforeEach(async () => {
    f = await createGitFixture();
    work = await tempWorkDir();
  });
  afterEach(async () => {
    await work.cleanup();
    await f.close();
  });

  it('empties the working tree but .git, so that the next commit records the whole content afresh', async () => {
    await runStep(gitClone, { repoURL: f.gitopsURL, checkout: [{ branch: 'main', path: './out' }] }, { workDir: work.dir, egress: LOOPBACK_ALLOWED });
    const out = path.join(work.dir, 'out');
    await fs.writeFile(path.join(out, 'untracked.txt'), 'x\n');

    const result = await runStep(gitClear, { path: './out' }, { workDir: work.dir, egress: LOOPBACK_ALLOWED });
    expect(result.status).toBe('Succeeded');
    expect(await fs.readdir(out)).toEqual(['.git']);

    await fs.writeFile(path.join(out, 'all.yaml'), 'rendered: true\n');
    await runStep(gitCommit, { path: './out', message: 'Render' }, { workDir: work.dir, egress: LOOPBACK_ALLOWED });
    expect(await git(out, 'show', '--name-status', '--format=', 'HEAD')).toBe(
      ['A\tall.yaml', 'D\tenv/dev/values.yaml', 'D\tenv/staging/values.yaml'].join('\n'),
    );
  });

  it('refuses a folder that is not a Git working tree, and one outside the work directory', async () => {
    await fs.mkdir(path.join(work.dir, 'plain'));
    await fs.writeFile(path.join(work.dir, 'plain', 'keep.txt'), 'keep\n');
    await expect(runStep(gitClear, { path: './plain' }, { workDir: work.dir, egress: LOOPBACK_ALLOWED })).rejects.toThrow(
      'path "./plain" is not a Git working tree (check it out with git-clone first)',
    );
    expect(await fs.readdir(path.join(work.dir, 'plain'))).toEqual(['keep.txt']);
    await expect(runStep(gitClear, { path: '../..' }, { workDir: work.dir, egress: LOOPBACK_ALLOWED })).rejects.toThrow(
      `path "../.." leaves the promotion's work directory`,
    );
  });
});
