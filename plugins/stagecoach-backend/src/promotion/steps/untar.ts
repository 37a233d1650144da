import fs from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { confinedPath, StepConfigError } from '../workDir';
import { fileProblem } from './files';
import { Extracted, extractArchive, ignoreRules } from './tarArchive';
import { StepDefinition } from './types';

const schema = z
  .object({
    inPath: z.string().min(1),
    outPath: z.string().min(1),
    stripComponents: z.number().int().min(0).default(0),
    // Kargo's form is one multi-line string; a list of patterns reads the same
    ignore: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).optional(),
    /** Extracted files stay executable when the archive says so; by default they are not (as copy). */
    keepExecutable: z.boolean().default(false),
  })
  .strict();

type Config = z.infer<typeof schema>;

async function lstatOrUndefined(p: string) {
  return fs.lstat(p).catch(e => {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  });
}

/**
 * Moves what was extracted (`from`, a folder only this step wrote) into `to`, merging with
 * what is there: a file of the same name is replaced, the rest stays. A symbolic link met in
 * `to` is replaced rather than followed (the top folder excepted: confinedPath checked that it
 * leads inside the work directory).
 */
async function moveInto(from: string, to: string, rel: string, shownRoot: string): Promise<void> {
  const guard = async (what: string, work: () => Promise<unknown>) => {
    try {
      await work();
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      throw new Error(`cannot extract to ${path.posix.join(shownRoot, what)}: ${err.code ?? err.message}`);
    }
  };
  await guard(rel, async () => {
    const there = await lstatOrUndefined(to);
    if (there?.isSymbolicLink() && !(rel === '' && (await fs.stat(to).catch(() => undefined))?.isDirectory())) {
      await fs.unlink(to);
    } else if (there && !there.isDirectory() && !there.isSymbolicLink()) {
      throw new StepConfigError(`cannot extract to ${path.posix.join(shownRoot, rel)}: a file is in the way of a folder`);
    }
    await fs.mkdir(to, { recursive: true });
  });
  for (const child of await fs.readdir(from, { withFileTypes: true })) {
    const childRel = rel ? `${rel}/${child.name}` : child.name;
    const src = path.join(from, child.name);
    const dest = path.join(to, child.name);
    if (child.isDirectory()) {
      await moveInto(src, dest, childRel, shownRoot);
      continue;
    }
    await guard(childRel, async () => {
      const there = await lstatOrUndefined(dest);
      if (there?.isDirectory()) {
        throw new StepConfigError(`cannot extract to ${path.posix.join(shownRoot, childRel)}: a folder is in the way`);
      }
      if (there) await fs.unlink(dest);
      await fs.rename(src, dest);
    });
  }
}

function describe(x: Extracted, from: string, to: string): string {
  const parts = [`${x.files} file${x.files === 1 ? '' : 's'}`];
  if (x.links) parts.push(`${x.links} symbolic link${x.links === 1 ? '' : 's'}`);
  const left = Object.entries(x.leftOut).map(([why, n]) => `${n} ${why}`);
  return `extracted ${parts.join(' and ')} from ${from} to ${to}${left.length ? ` (left out: ${left.join(', ')})` : ''}`;
}

/** Extracts a tar archive (gzip or zstd compressed or not) into a folder of the work directory. */
export const untar: StepDefinition<Config> = {
  name: 'untar',
  description: 'Extract a tar archive (.tar, .tar.gz) into a folder of the work directory.',
  schema,
  async run(ctx, config) {
    const archive = await confinedPath(ctx.workDir, config.inPath, 'inPath');
    const dest = await confinedPath(ctx.workDir, config.outPath, 'outPath', { writes: true });
    const from = await fs.stat(archive).catch(e => {
      throw fileProblem(e, 'inPath', config.inPath);
    });
    if (!from.isFile()) throw new StepConfigError(`inPath "${config.inPath}" is not a file: name a tar archive`);
    if ((await fs.stat(dest).catch(() => undefined))?.isFile()) {
      throw new StepConfigError(`outPath "${config.outPath}" is a file: name the folder to extract into`);
    }

    // extracted beside, then moved in: a refused archive leaves outPath as it was
    const staging = await fs.mkdtemp(path.join(ctx.workDir, '.untar-'));
    try {
      const extracted = await extractArchive(archive, staging, {
        shownArchive: config.inPath,
        stripComponents: config.stripComponents,
        ignore: ignoreRules(config.ignore),
        keepExecutable: config.keepExecutable,
        signal: ctx.signal,
      });
      await moveInto(staging, dest, '', config.outPath);
      return {
        status: 'Succeeded',
        message: describe(extracted, config.inPath, config.outPath),
      };
    } finally {
      await fs.rm(staging, { recursive: true, force: true });
    }
  },
};
