import fs from 'node:fs/promises';
import path from 'node:path';
import { git } from '@stagecoach/git-server';
import { createGitFixture, GitFixture } from '../../__testUtils__/gitFixture';
import { LOOPBACK_ALLOWED } from '../../__testUtils__/loopbackHttp';
import { runStep, tempWorkDir } from '../../__testUtils__/stepHarness';
import { gitClone } from './git-clone';
import { gitCommit } from './git-commit';
import { gitTag } from './git-tag';

describe('git-tag (in a clone of a real Git server)', () => {
  let f: GitFixture;
  let work: { dir: string; cleanup(): Promise<void> };
  let out: string;

  beforeEach(async () => {
    f = await createGitFixture();
    work = await tempWorkDir();
    out = path.join(work.dir, 'out');
    await runStep(
      gitClone,
      { repoURL: f.gitopsURL, author: { name: 'Release Bot', email: 'bot@example.com' }, checkout: [{ branch: 'main', path: './out' }] },
      { workDir: work.dir, egress: LOOPBACK_ALLOWED },
    );
  });
  afterEach(async () => {
    await work.cleanup();
    await f.close();
  });

  it('makes an annotated tag, by the clone author, when a message is given', async () => {
    const head = await git(out, 'rev-parse', 'HEAD');
    const result = await runStep(gitTag, { path: './out', tag: 'dev/2026-01-01', message: 'Promoted to dev' }, { workDir: work.dir, egress: LOOPBACK_ALLOWED });
    expect(result).toEqual({
      status: 'Succeeded',
      message: `tagged ${head.slice(0, 7)} as dev/2026-01-01`,
      outputs: { tag: 'dev/2026-01-01', commit: head },
    });
    expect(await git(out, 'for-each-ref', '--format=%(objecttype) %(taggername) %(contents:subject)', 'refs/tags/dev/2026-01-01')).toBe(
      'tag Release Bot Promoted to dev',
    );
  });

  it('makes a lightweight tag without a message', async () => {
    await runStep(gitTag, { path: './out', tag: 'v1' }, { workDir: work.dir, egress: LOOPBACK_ALLOWED });
    expect(await git(out, 'cat-file', '-t', 'refs/tags/v1')).toBe('commit');
  });

  it('succeeds when run again on the same commit, and moves the tag only with force', async () => {
    await runStep(gitTag, { path: './out', tag: 'v1', message: 'one' }, { workDir: work.dir, egress: LOOPBACK_ALLOWED });
    const again = await runStep(gitTag, { path: './out', tag: 'v1', message: 'one' }, { workDir: work.dir, egress: LOOPBACK_ALLOWED });
    expect(again.status).toBe('Succeeded');

    await fs.writeFile(path.join(out, 'a.txt'), 'a\n');
    await runStep(gitCommit, { path: './out', message: 'next' }, { workDir: work.dir, egress: LOOPBACK_ALLOWED });
    const moved = await runStep(gitTag, { path: './out', tag: 'v1', message: 'two' }, { workDir: work.dir, egress: LOOPBACK_ALLOWED });
    expect(moved.status).toBe('Failed');
    expect(moved.message).toMatch(/^tag v1 already exists on commit [0-9a-f]{7}, not on HEAD \([0-9a-f]{7}\): set force: true to move it$/);

    const forced = await runStep(gitTag, { path: './out', tag: 'v1', message: 'two', force: true }, { workDir: work.dir, egress: LOOPBACK_ALLOWED });
    expect(forced.status).toBe('Succeeded');
    expect(await git(out, 'rev-parse', 'v1^{commit}')).toBe(await git(out, 'rev-parse', 'HEAD'));
  });

  it('refuses a name Git does not accept as a tag', async () => {
    await expect(runStep(gitTag, { path: './out', tag: 'bad..name' }, { workDir: work.dir, egress: LOOPBACK_ALLOWED })).rejects.toThrow(
      'config.tag: is not a valid Git tag name',
    );
    await expect(runStep(gitTag, { path: './out', tag: '-f' }, { workDir: work.dir, egress: LOOPBACK_ALLOWED })).rejects.toThrow(
      'config.tag: must not start with "-"',
    );
  });
});
