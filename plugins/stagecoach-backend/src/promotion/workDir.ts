import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { StepConfigError } from '@stagecoach/plugin-stagecoach-node';

/**
 * A step's configuration is wrong: the message says which field and why. One class with the
 * public contract's, so that modules' steps fail at once with it as the built-in ones do.
 */
export { StepConfigError };

/**
 * Resolves a path from step configuration inside the promotion's work directory, by its text:
 * absolute paths and paths that climb out of it are refused. Steps that read or write there
 * use confinedPath, which also follows symbolic links.
 */
export function resolveInWorkDir(workDir: string, relative: string, field = 'path'): string {
  if (path.isAbsolute(relative)) {
    throw new StepConfigError(`${field} "${relative}" must be relative to the promotion's work directory`);
  }
  const resolved = path.resolve(workDir, relative);
  const rel = path.relative(workDir, resolved);
  if (rel === '..' || rel.startsWith(`..${path.sep}`) || path.isAbsolute(rel)) {
    throw new StepConfigError(`${field} "${relative}" leaves the promotion's work directory`);
  }
  return resolved;
}


/**
 * The folders of one attempt of a promotion. Steps get `workDir`, and every path in their
 * config is inside it. git-clone keeps its bare clones in `cloneStore`, beside it: their
 * config and hooks would run commands if a step could write there, and no path a step can
 * name (`..` is refused, symbolic links are followed and must stay inside `workDir`) leads there.
 */
export function attemptFolders(attemptDir: string): { workDir: string; cloneStore: string } {
  return { workDir: path.join(attemptDir, 'work'), cloneStore: path.join(attemptDir, 'repos') };
}

export interface ConfineOptions {
  /** The step writes (or deletes) there. */
  writes?: boolean;
  /** Check the folder holding the path, not the path itself (delete removes a link, not its target). */
  keepLeaf?: boolean;
}

/** Whether `p` is `root` or below it. */
export function isInside(root: string, p: string): boolean {
  const rel = path.relative(root, p);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel));
}

/** The real location of `p`, or of the deepest existing folder above it when it does not exist yet. */
async function realpathOfNearest(p: string): Promise<string> {
  const missing: string[] = [];
  for (let cur = p; ; cur = path.dirname(cur)) {
    try {
      return path.join(await fs.realpath(cur), ...missing.reverse());
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if ((code !== 'ENOENT' && code !== 'ENOTDIR') || path.dirname(cur) === cur) throw e;
      missing.push(path.basename(cur));
    }
  }
}

/** Whether a file or folder name is git's own: `.git` in any case (a case-insensitive disk reads `.GIT` as `.git`). */
export function isGitName(name: string): boolean {
  return name.toLowerCase() === '.git';
}

function inGitFolder(root: string, p: string): boolean {
  return path.relative(root, p).split(path.sep).some(isGitName);
}

/**
 * Resolves a path from step config inside the work directory, following symbolic links too:
 * a cloned repository can hold a link that leads out of the work directory (to /etc, to the
 * backend's own files, to the clone store), so where the path really leads is checked before
 * anything is read or written there. Git's own files (a `.git` file or folder, in any case,
 * by the path as given or where it really leads) are neither read nor written by steps: a
 * working tree's `.git` names its repository, and a repository's config and hooks run commands.
 */
export async function confinedPath(
  workDir: string,
  given: string,
  field: string,
  options: ConfineOptions = {},
): Promise<string> {
  const resolved = resolveInWorkDir(workDir, given, field);
  const root = await fs.realpath(workDir);
  const checked = options.keepLeaf && resolved !== path.resolve(workDir) ? path.dirname(resolved) : resolved;
  const real = await realpathOfNearest(checked);
  if (!isInside(root, real)) {
    throw new StepConfigError(`${field} "${given}" leads out of the promotion's work directory through a symbolic link`);
  }
  if (inGitFolder(workDir, resolved) || inGitFolder(root, real)) {
    throw new StepConfigError(
      `${field} "${given}" is in git's own files (.git), which steps never ${options.writes ? 'write to' : 'read'}`,
    );
  }
  return resolved;
}

/**
 * A file's path relative to the Git working tree that holds it (the nearest folder with a
 * `.git`), for messages and commits; the path as given when it is in no working tree.
 */
export function pathInRepository(workDir: string, file: string, given: string): string {
  for (let dir = path.dirname(file); dir.startsWith(workDir) && dir !== workDir; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, '.git'))) return path.relative(dir, file);
  }
  return given;
}
