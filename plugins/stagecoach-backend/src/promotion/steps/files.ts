import fs from 'node:fs/promises';
import path from 'node:path';
import { confinedPath, ConfineOptions, isGitName, isInside, StepConfigError } from '../workDir';

/** Reading and writing the files that step config names, with errors in words a user can act on. */

/** A path named in step config is not there. */
export class MissingPathError extends StepConfigError {}

/** A file-system error in words a user can act on, without the work directory's absolute path. */
export function fileProblem(e: unknown, field: string, given: string): Error {
  const err = e as NodeJS.ErrnoException;
  switch (err.code) {
    case 'ENOENT':
      return new MissingPathError(`${field} "${given}" does not exist`);
    case 'EISDIR':
      return new StepConfigError(`${field} "${given}" is a folder, not a file`);
    case 'ENOTDIR':
    case 'EEXIST': // mkdir -p meeting a file where a folder should be
      return new StepConfigError(`${field} "${given}" goes through a file as if it were a folder`);
    default:
      return new Error(`cannot use ${field} "${given}": ${err.code ?? err.message}`);
  }
}

/** Reads a text file named in step config. */
export async function readConfigFile(
  workDir: string,
  given: string,
  field = 'path',
  options: ConfineOptions = {},
): Promise<{ file: string; text: string }> {
  const file = await confinedPath(workDir, given, field, options);
  try {
    return { file, text: await fs.readFile(file, 'utf8') };
  } catch (e) {
    throw fileProblem(e, field, given);
  }
}

/** Writes a text file named in step config, creating the folders above it. */
export async function writeConfigFile(
  file: string,
  text: string,
  field: string,
  given: string,
  mode?: number,
): Promise<void> {
  try {
    await fs.mkdir(path.dirname(file), { recursive: true });
    await fs.writeFile(file, text, mode === undefined ? undefined : { mode });
    // the mode given to writeFile only applies to a file it creates
    if (mode !== undefined) await fs.chmod(file, mode);
  } catch (e) {
    throw fileProblem(e, field, given);
  }
}

/**
 * Refuses a folder that holds a symbolic link leading out of the work directory (or into
 * git's own files), for tools that follow links as they read a folder (helm loads every file
 * of a chart). A link that leads nowhere is left to the tool.
 */
export async function refuseLinksOut(workDir: string, folder: string, field: string, given: string): Promise<void> {
  const root = await fs.realpath(workDir);
  const visit = async (dir: string): Promise<void> => {
    const children = await fs.readdir(dir, { withFileTypes: true }).catch(() => []);
    for (const child of children) {
      const p = path.join(dir, child.name);
      if (child.isDirectory()) await visit(p);
      if (!child.isSymbolicLink()) continue;
      const real = await fs.realpath(p).catch(() => undefined);
      if (real && (!isInside(root, real) || path.relative(root, real).split(path.sep).some(isGitName))) {
        throw new StepConfigError(
          `${field} "${given}" holds a symbolic link (${path.relative(folder, p)}) that leads out of the promotion's work directory`,
        );
      }
    }
  };
  await visit(folder);
}
