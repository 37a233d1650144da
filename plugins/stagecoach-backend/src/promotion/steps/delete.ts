import fs from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { confinedPath, isGitName, StepConfigError } from '../workDir';
import { fileProblem } from './files';
import { globBase, globMatcher } from './globs';
import { StepDefinition } from './types';

const schema = z
  .object({
    path: z.string().min(1).optional(),
    paths: z.array(z.string().min(1)).min(1, 'needs at least one path').optional(),
    pathsAreGlobs: z.boolean().default(false),
    strict: z.boolean().default(false),
  })
  .strict()
  .refine(c => (c.path === undefined) !== (c.paths === undefined), {
    message: 'needs exactly one of "path" and "paths"',
  });

type Config = z.infer<typeof schema>;

interface Entry {
  given: string;
  field: string;
}

function entries(config: Config): Entry[] {
  if (config.path !== undefined) return [{ given: config.path, field: 'path' }];
  return (config.paths ?? []).map((given, i) => ({ given, field: `paths[${i}]` }));
}

async function exists(p: string, e: Entry): Promise<boolean> {
  try {
    await fs.lstat(p); // lstat: a symbolic link exists as a link, whatever it points to
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') {
      return false;
    }
    throw fileProblem(err, e.field, e.given);
  }
}

async function literalPath(workDir: string, e: Entry): Promise<string | undefined> {
  const p = await confinedPath(workDir, e.given, e.field, { keepLeaf: true, writes: true });
  if (p === path.resolve(workDir)) throw new StepConfigError(`${e.field} "${e.given}" is the whole work directory`);
  return (await exists(p, e)) ? p : undefined;
}

/** Everything under the glob's fixed base that it matches; a matched folder is not searched further. */
async function globPaths(workDir: string, e: Entry): Promise<string[]> {
  if (path.posix.isAbsolute(e.given)) {
    throw new StepConfigError(`${e.field} "${e.given}" must be relative to the promotion's work directory`);
  }
  const glob = e.given.replace(/^(\.\/)+/, '');
  const dirOnly = glob.endsWith('/');
  const body = glob.replace(/\/+$/, '');
  if (body === '' || body === '.') throw new StepConfigError(`${e.field} "${e.given}" is the whole work directory`);
  if (body.split('/').includes('..')) {
    throw new StepConfigError(`${e.field} "${e.given}" leaves the promotion's work directory`);
  }
  let matches: (relPath: string) => boolean;
  try {
    matches = globMatcher(body);
  } catch (err) {
    throw new StepConfigError(`${e.field} "${e.given}" is not a valid glob: ${(err as Error).message}`);
  }
  const start = await confinedPath(workDir, globBase(body) || '.', e.field, { keepLeaf: true, writes: true });
  const found: string[] = [];
  const visit = async (abs: string, isDir: boolean): Promise<void> => {
    const rel = path.relative(workDir, abs).split(path.sep).join('/');
    if (rel !== '' && matches(rel) && (isDir || !dirOnly)) {
      found.push(abs);
      return;
    }
    if (!isDir) return;
    const children = await fs.readdir(abs, { withFileTypes: true });
    for (const child of children.sort((a, b) => a.name.localeCompare(b.name))) {
      // a working tree's .git is git's own: no glob matches it
      if (isGitName(child.name)) continue;
      // a linked folder is matched as a link, never entered
      await visit(path.join(abs, child.name), child.isDirectory());
    }
  };
  if (await exists(start, e)) {
    await visit(start, (await fs.lstat(start)).isDirectory());
  }
  return found;
}

function shown(workDir: string, abs: string): string {
  return path.relative(workDir, abs).split(path.sep).join('/');
}

/** Deletes files and folders; with `strict`, a path that is not there fails the step first. */
export const deleteStep: StepDefinition<Config> = {
  name: 'delete',
  description: 'Delete files or folders in the work directory, by path or by glob.',
  schema,
  async run(ctx, config) {
    // find everything first, so a strict step that fails has deleted nothing
    const targets = new Set<string>();
    for (const e of entries(config)) {
      if (config.pathsAreGlobs) {
        const found = await globPaths(ctx.workDir, e);
        if (found.length === 0 && config.strict) throw new StepConfigError(`${e.field} "${e.given}" matches nothing`);
        found.forEach(f => targets.add(f));
      } else {
        const found = await literalPath(ctx.workDir, e);
        if (!found && config.strict) throw new StepConfigError(`${e.field} "${e.given}" does not exist`);
        if (found) targets.add(found);
      }
    }
    for (const target of targets) {
      // force: a folder deleted earlier in this step may have held this one
      await fs.rm(target, { recursive: true, force: true });
    }
    if (targets.size === 0) {
      return { status: 'Succeeded', message: `nothing to delete: ${entries(config).map(e => e.given).join(', ')} not found` };
    }
    return { status: 'Succeeded', message: `deleted ${[...targets].map(t => shown(ctx.workDir, t)).join(', ')}` };
  },
};
