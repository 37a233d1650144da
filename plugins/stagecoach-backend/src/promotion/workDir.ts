import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';

/** A step's configuration is wrong: the message says which field and why. */
export class StepConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StepConfigError';
  }
}

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


export interface ConfineOptions {
  /** The step writes there: a `.git` folder is refused (its config and hooks run commands). */
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

function inGitFolder(root: string, p: string): boolean {
  return path
    .relative(root, p)
    .split(path.sep)
    .some(segment => segment.toLowerCase() === '.git');
}

/**
 * Resolves a path from step config inside the work directory, following symbolic links too:
 * a cloned repository can hold a link that leads out of the work directory (to /etc, to the
 * backend's own files), so where the path really leads is checked before anything is read
 * or written there.
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
  if (options.writes && (inGitFolder(workDir, resolved) || inGitFolder(root, real))) {
    throw new StepConfigError(`${field} "${given}" is inside a .git folder, which steps never write to`);
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
