import fs from 'node:fs/promises';
import path from 'node:path';
import { git } from '@stagecoach/git-server';
import type { GitFixture } from './gitFixture';

/** The served bare repository of a fixture, for reading history on the server side. */
export function bareRepo(f: GitFixture, repo: string): string {
  return path.join(f.root, 'repos', `${repo}.git`);
}

/** Someone else pushes a commit to a branch of the server meanwhile (another stage, a person). */
export async function pushFromElsewhere(
  f: GitFixture,
  repo: string,
  branch: string,
  files: Record<string, string>,
  message: string,
): Promise<string> {
  const work = await fs.mkdtemp(path.join(f.root, 'elsewhere-'));
  try {
    await git(work, 'clone', '-q', '-b', branch, bareRepo(f, repo), '.');
    for (const [file, text] of Object.entries(files)) {
      await fs.mkdir(path.dirname(path.join(work, file)), { recursive: true });
      await fs.writeFile(path.join(work, file), text);
    }
    await git(work, 'add', '-A');
    await git(work, 'commit', '-q', '-m', message);
    await git(work, 'push', '-q', 'origin', `HEAD:${branch}`);
    return await git(work, 'rev-parse', 'HEAD');
  } finally {
    await fs.rm(work, { recursive: true, force: true });
  }
}

/** `git log --format=<format>` of a ref on the server, newest first, one entry per commit. */
export async function serverLog(f: GitFixture, repo: string, ref: string, format = '%s'): Promise<string[]> {
  const out = await git(bareRepo(f, repo), 'log', `--format=${format}`, ref);
  return out.split('\n').filter(Boolean);
}
