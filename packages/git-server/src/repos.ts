import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/** Runs git with a fixed identity and no user or system config, so results never depend on the machine. */
export async function git(cwd: string, ...args: string[]): Promise<string> {
  const { stdout } = await execFileAsync('git', args, {
    cwd,
    env: {
      PATH: process.env.PATH,
      HOME: os.tmpdir(),
      GIT_CONFIG_NOSYSTEM: '1',
      GIT_CONFIG_GLOBAL: '/dev/null',
      GIT_TERMINAL_PROMPT: '0',
      GIT_AUTHOR_NAME: 'Stagecoach Demo',
      GIT_AUTHOR_EMAIL: 'demo@stagecoach.invalid',
      GIT_COMMITTER_NAME: 'Stagecoach Demo',
      GIT_COMMITTER_EMAIL: 'demo@stagecoach.invalid',
    },
    maxBuffer: 64 * 1024 * 1024,
  });
  return stdout.trim();
}

export interface SeedCommit {
  /** Files to write (path relative to the repository root -> contents). */
  files: Record<string, string>;
  message: string;
  /** Tag the commit (lightweight unless `annotated`). */
  tag?: string;
  annotated?: boolean;
}

/**
 * Creates the bare repository `<root>/<name>.git` with the given history on `main`,
 * ready to be served. Returns the bare repository's path.
 */
export async function createBareRepo(root: string, name: string, commits: SeedCommit[]): Promise<string> {
  const bare = path.join(root, `${name}.git`);
  const work = await fs.mkdtemp(path.join(os.tmpdir(), `seed-${name}-`));
  try {
    await git(work, 'init', '-q', '-b', 'main');
    for (const c of commits) {
      for (const [file, contents] of Object.entries(c.files)) {
        await fs.mkdir(path.dirname(path.join(work, file)), { recursive: true });
        await fs.writeFile(path.join(work, file), contents);
      }
      await git(work, 'add', '-A');
      await git(work, 'commit', '-q', '--allow-empty', '-m', c.message);
      if (c.tag) {
        if (c.annotated) await git(work, 'tag', '-a', c.tag, '-m', c.tag);
        else await git(work, 'tag', c.tag);
      }
    }
    await fs.mkdir(root, { recursive: true });
    await git(root, 'clone', '-q', '--bare', work, bare);
    // accept pushes over smart HTTP
    await git(bare, 'config', 'http.receivepack', 'true');
    return bare;
  } finally {
    await fs.rm(work, { recursive: true, force: true });
  }
}
