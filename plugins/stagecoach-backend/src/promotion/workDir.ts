import { existsSync } from 'node:fs';
import path from 'node:path';

/** A step's configuration is wrong: the message says which field and why. */
export class StepConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StepConfigError';
  }
}

/**
 * Resolves a path from step configuration inside the promotion's work directory. Absolute
 * paths and paths that climb out of it are refused.
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
 * A file's path relative to the Git working tree that holds it (the nearest folder with a
 * `.git`), for messages and commits; the path as given when it is in no working tree.
 */
export function pathInRepository(workDir: string, file: string, given: string): string {
  for (let dir = path.dirname(file); dir.startsWith(workDir) && dir !== workDir; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, '.git'))) return path.relative(dir, file);
  }
  return given;
}
