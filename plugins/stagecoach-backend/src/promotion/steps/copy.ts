import type { Dirent } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { confinedPath, isGitName, isInside, StepConfigError } from '../workDir';
import { fileProblem } from './files';
import { IgnoreRules } from './globs';
import { StepDefinition } from './types';

const schema = z
  .object({
    inPath: z.string().min(1),
    outPath: z.string().min(1),
    // Kargo's form is one multi-line string; a list of patterns reads the same
    ignore: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).optional(),
    /** Copies stay executable when their source is; by default they lose the executable bits. */
    keepExecutable: z.boolean().default(false),
  })
  .strict();

type Config = z.infer<typeof schema>;

function ignoreRules(ignore: Config['ignore']): IgnoreRules {
  const lines = typeof ignore === 'string' ? ignore.split(/\r?\n/) : ignore ?? [];
  return new IgnoreRules(lines);
}

/**
 * The mode a copy gets: the source's read and write bits, its executable bits only when
 * asked for, and never setuid, setgid or sticky.
 */
export function copyMode(sourceMode: number, keepExecutable: boolean): number {
  return sourceMode & (keepExecutable ? 0o777 : 0o666);
}

async function lstatOrUndefined(p: string) {
  try {
    return await fs.lstat(p);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

/**
 * Writes over whatever is at `dest`. A symbolic link there is replaced rather than written
 * through: it could point anywhere, and the copy is meant to be what the source is.
 */
async function copyFile(src: string, dest: string, keepExecutable: boolean): Promise<void> {
  await fs.mkdir(path.dirname(dest), { recursive: true });
  const there = await lstatOrUndefined(dest);
  if (there?.isSymbolicLink()) await fs.unlink(dest);
  if (there?.isDirectory()) throw new Error(`a folder is in the way`);
  const { mode } = await fs.stat(src);
  await fs.copyFile(src, dest);
  await fs.chmod(dest, copyMode(mode, keepExecutable));
}

async function ensureFolder(dest: string, top: boolean): Promise<void> {
  const there = await lstatOrUndefined(dest);
  // the destination itself was checked to lead inside the work directory; links below it were not
  if (there?.isSymbolicLink() && !(top && (await fs.stat(dest)).isDirectory())) await fs.unlink(dest);
  else if (there && !there.isDirectory() && !there.isSymbolicLink()) throw new Error('a file is in the way');
  await fs.mkdir(dest, { recursive: true });
}

class Copier {
  files = 0;

  constructor(
    private readonly rules: IgnoreRules,
    private readonly shownRoot: string,
    private readonly keepExecutable: boolean,
  ) {}

  /** Copies a folder's contents into `dest` (created when missing; what is already there stays). */
  async tree(src: string, dest: string, rel: string): Promise<void> {
    await this.guard(rel, () => ensureFolder(dest, rel === ''));
    const children: Dirent[] = await fs.readdir(src, { withFileTypes: true });
    for (const child of children.sort((a, b) => a.name.localeCompare(b.name))) {
      const childRel = rel ? `${rel}/${child.name}` : child.name;
      // links are left out, as Kargo does: one could lead anywhere
      if (!child.isDirectory() && !child.isFile()) continue;
      // git's own files are never copied: a .git names a repository, whose config runs commands
      if (isGitName(child.name)) continue;
      if (this.rules.ignores(childRel, child.isDirectory())) continue;
      if (child.isDirectory()) {
        await this.tree(path.join(src, child.name), path.join(dest, child.name), childRel);
      } else {
        await this.guard(childRel, () =>
          copyFile(path.join(src, child.name), path.join(dest, child.name), this.keepExecutable),
        );
        this.files++;
      }
    }
  }

  private async guard(rel: string, work: () => Promise<void>): Promise<void> {
    try {
      await work();
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      throw new Error(`cannot copy to ${path.posix.join(this.shownRoot, rel)}: ${err.code ?? err.message}`);
    }
  }
}

/** Copies a file, or a folder's contents, to another place in the work directory. */
export const copy: StepDefinition<Config> = {
  name: 'copy',
  description: 'Copy a file or a folder within the work directory.',
  schema,
  async run(ctx, config) {
    const src = await confinedPath(ctx.workDir, config.inPath, 'inPath');
    let dest = await confinedPath(ctx.workDir, config.outPath, 'outPath', { writes: true });
    const from = await fs.stat(src).catch(e => {
      throw fileProblem(e, 'inPath', config.inPath);
    });
    const rules = ignoreRules(config.ignore);
    const copier = new Copier(rules, config.outPath, config.keepExecutable);

    if (from.isDirectory()) {
      if (isInside(src, dest)) {
        throw new StepConfigError(`outPath "${config.outPath}" is inside inPath "${config.inPath}"`);
      }
      if ((await fs.stat(dest).catch(() => undefined))?.isFile()) {
        throw new StepConfigError(`outPath "${config.outPath}" is a file, but inPath "${config.inPath}" is a folder`);
      }
      await copier.tree(src, dest, '');
      return {
        status: 'Succeeded',
        message: `copied ${copier.files} file${copier.files === 1 ? '' : 's'} from ${config.inPath} to ${config.outPath}`,
      };
    }

    // like cp: a file copied to a folder lands inside it
    const into = config.outPath.endsWith('/') || (await fs.stat(dest).catch(() => undefined))?.isDirectory();
    if (into) dest = path.join(dest, path.basename(src));
    if (dest === src) throw new StepConfigError(`outPath "${config.outPath}" is inPath "${config.inPath}" itself`);
    if (isGitName(path.basename(dest))) {
      throw new StepConfigError(`outPath "${config.outPath}" is in git's own files (.git), which steps never write to`);
    }
    if (rules.ignores(path.basename(src), false)) {
      return { status: 'Succeeded', message: `nothing copied: ${config.inPath} is ignored` };
    }
    await copyFile(src, dest, config.keepExecutable).catch(e => {
      throw fileProblem(e, 'outPath', config.outPath);
    });
    return { status: 'Succeeded', message: `copied ${config.inPath} to ${path.relative(ctx.workDir, dest)}` };
  },
};
