import type { Dirent, Stats } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { create as createTar } from 'tar';
import { z } from 'zod';
import { confinedPath, isGitName, StepConfigError } from '../workDir';
import { fileProblem } from './files';
import { IgnoreRules } from './globs';
import { ArchiveLimits, DEFAULT_ARCHIVE_LIMITS, ignoreRules, formatSize } from './tarArchive';
import { StepDefinition } from './types';

const schema = z
  .object({
    inPath: z.string().min(1),
    outPath: z.string().min(1),
    /** As Kargo: compressed unless told otherwise. */
    gzip: z.boolean().default(true),
    // Kargo's form is one multi-line string; a list of patterns reads the same
    ignore: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).optional(),
  })
  .strict();

type Config = z.infer<typeof schema>;

/** Every entry's time in the archive: the same files make the same archive, byte for byte. */
const ARCHIVE_MTIME = new Date('1980-01-01T00:00:00Z');

/** A Map that remembers nothing: node-tar then writes a hard-linked file as a file, never as a link. */
class NoLinks extends Map<`${number}:${number}`, string> {
  override get(): string | undefined {
    return undefined;
  }
}

interface Sources {
  /** Paths relative to `root`, folders before what they hold, in name order. */
  paths: string[];
  files: number;
  bytes: number;
}

/**
 * What goes into the archive of a folder: its files and folders, never git's own files,
 * symbolic links (one could lead anywhere, as copy says), devices or what `ignore` names,
 * nor the archive itself; within the bounds untar accepts.
 */
async function collect(root: string, rules: IgnoreRules, exclude: string, limits: ArchiveLimits): Promise<Sources> {
  const out: Sources = { paths: [], files: 0, bytes: 0 };
  const add = (rel: string, stat?: Stats) => {
    out.paths.push(rel);
    if (out.paths.length > limits.entries) {
      throw new StepConfigError(`inPath holds more than ${limits.entries} files and folders, the most an archive may have`);
    }
    if (!stat) return;
    if (stat.size > limits.fileBytes) {
      throw new StepConfigError(`inPath's file "${rel}" holds ${formatSize(stat.size)}, more than the ${formatSize(limits.fileBytes)} a file may have`);
    }
    out.files++;
    out.bytes += stat.size;
    if (out.bytes > limits.totalBytes) {
      throw new StepConfigError(`inPath holds more than ${formatSize(limits.totalBytes)} of files, the most an archive may have`);
    }
  };
  const walk = async (dir: string, rel: string) => {
    const children: Dirent[] = await fs.readdir(dir, { withFileTypes: true });
    for (const child of children.sort((a, b) => Buffer.compare(Buffer.from(a.name), Buffer.from(b.name)))) {
      const childRel = rel ? `${rel}/${child.name}` : child.name;
      const abs = path.join(dir, child.name);
      if (!child.isDirectory() && !child.isFile()) continue;
      if (isGitName(child.name) || abs === exclude) continue;
      if (rules.ignores(childRel, child.isDirectory())) continue;
      if (child.isDirectory()) {
        add(childRel);
        await walk(abs, childRel);
      } else {
        add(childRel, await fs.stat(abs));
      }
    }
  };
  await walk(root, '');
  return out;
}

/** Packs a file or a folder of the work directory into a tar archive, gzip-compressed by default. */
export const tar: StepDefinition<Config> = {
  name: 'tar',
  description: 'Pack a file or a folder of the work directory into a tar archive (.tar.gz by default).',
  schema,
  async run(ctx, config) {
    const src = await confinedPath(ctx.workDir, config.inPath, 'inPath');
    const out = await confinedPath(ctx.workDir, config.outPath, 'outPath', { writes: true });
    const from = await fs.stat(src).catch(e => {
      throw fileProblem(e, 'inPath', config.inPath);
    });
    if (config.outPath.endsWith('/') || (await fs.stat(out).catch(() => undefined))?.isDirectory()) {
      throw new StepConfigError(`outPath "${config.outPath}" is a folder: name the archive file to write`);
    }
    if (out === src) throw new StepConfigError(`outPath "${config.outPath}" is inPath "${config.inPath}" itself`);

    let cwd: string;
    let sources: Sources;
    if (from.isDirectory()) {
      cwd = src;
      sources = await collect(src, ignoreRules(config.ignore), out, DEFAULT_ARCHIVE_LIMITS);
    } else if (from.isFile()) {
      cwd = path.dirname(src);
      if (from.size > DEFAULT_ARCHIVE_LIMITS.fileBytes) {
        throw new StepConfigError(
          `inPath "${config.inPath}" holds ${formatSize(from.size)}, more than the ${formatSize(DEFAULT_ARCHIVE_LIMITS.fileBytes)} a file may have`,
        );
      }
      sources = { paths: [path.basename(src)], files: 1, bytes: from.size };
    } else {
      throw new StepConfigError(`inPath "${config.inPath}" is neither a file nor a folder`);
    }

    // written beside, then renamed over outPath: a failure leaves no half archive there
    const temp = path.join(path.dirname(out), `.${path.basename(out)}.${process.pid}.${Date.now()}.tmp`);
    try {
      await fs.mkdir(path.dirname(out), { recursive: true }).catch(e => {
        throw fileProblem(e, 'outPath', config.outPath);
      });
      await createTar(
        {
          file: temp,
          cwd,
          gzip: config.gzip,
          portable: true,
          follow: false,
          noDirRecurse: true,
          mtime: ARCHIVE_MTIME,
          linkCache: new NoLinks(),
          // no setuid, setgid or sticky bit goes into an archive
          onWriteEntry: entry => {
            if (entry.stat) entry.stat.mode &= ~0o7000;
          },
        },
        sources.paths,
      );
      const there = await fs.lstat(out).catch(() => undefined);
      if (there?.isSymbolicLink()) await fs.unlink(out); // replaced, never written through
      await fs.rename(temp, out);
    } finally {
      await fs.rm(temp, { force: true });
    }
    const { size } = await fs.stat(out);
    return {
      status: 'Succeeded',
      message: `packed ${sources.files} file${sources.files === 1 ? '' : 's'} (${formatSize(sources.bytes)}) from ${config.inPath} into ${
        config.outPath
      } (${formatSize(size)}${config.gzip ? ', gzip' : ''})`,
    };
  },
};
