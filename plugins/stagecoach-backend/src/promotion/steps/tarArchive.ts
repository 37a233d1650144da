import { createReadStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Parser, ReadEntry } from 'tar';
import { isGitName, StepConfigError } from '../workDir';
import { copyMode } from './copy';
import { IgnoreRules } from './globs';

/**
 * What the tar and untar steps share: the bounds on an archive, and reading one into an
 * empty folder so that nothing in it can reach past that folder. node-tar (isaacs' `tar`)
 * parses the format (ustar, pax, GNU long names, gzip); what lands on disk is decided here,
 * one entry at a time, rather than by its extractor's options.
 */

/** How much an archive may hold: what tar will pack and untar will unpack. */
export interface ArchiveLimits {
  /** All regular files together, in bytes, uncompressed. */
  totalBytes: number;
  /** One file, in bytes. */
  fileBytes: number;
  /** Entries of any kind, files and folders and those left out alike. */
  entries: number;
}

/** Kargo's bounds (100 MiB in all, 50 MiB a file), and a bound on the number of entries. */
export const DEFAULT_ARCHIVE_LIMITS: ArchiveLimits = {
  totalBytes: 100 * 1024 * 1024,
  fileBytes: 50 * 1024 * 1024,
  entries: 10_000,
};

/** A size in words: `512 bytes`, `3.4 KiB`, `100 MiB`. */
export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} byte${bytes === 1 ? '' : 's'}`;
  const [n, unit] = bytes < 1024 * 1024 ? [bytes / 1024, 'KiB'] : [bytes / 1024 / 1024, 'MiB'];
  return `${Math.round(n * 10) / 10} ${unit}`;
}

/** The gitignore-style rules of an `ignore` field: one multi-line string (Kargo's form) or a list. */
export function ignoreRules(ignore: string | string[] | undefined): IgnoreRules {
  const lines = typeof ignore === 'string' ? ignore.split(/\r?\n/) : ignore ?? [];
  return new IgnoreRules(lines);
}

/** What an extraction did, for the step's message. */
export interface Extracted {
  files: number;
  folders: number;
  links: number;
  bytes: number;
  /** Entries not written, by why: `ignore`d, git's own files, a kind untar never makes, .... */
  leftOut: Record<string, number>;
}

/** The segments of an entry's path, `./` and empty segments dropped; undefined for one that climbs or is absolute. */
function entrySegments(name: string): string[] | undefined {
  if (name.startsWith('/')) return undefined;
  const segments = name.split('/').filter(s => s !== '' && s !== '.');
  return segments.includes('..') ? undefined : segments;
}

/**
 * Where a symbolic link entry may point: relative, never up (`..`), never into `.git`. Such a
 * link stays below its own folder, so inside what is extracted, as Kargo's untar requires.
 */
function safeLinkTarget(target: string): boolean {
  if (!target || target.startsWith('/') || target.includes('\0')) return false;
  const segments = target.split('/');
  return !segments.includes('..') && !segments.some(isGitName);
}

/** Whether the rules leave out a path, or a folder above it (as copy never walks into an ignored folder). */
export function ignored(rules: IgnoreRules, segments: string[], isDir: boolean): boolean {
  for (let i = 1; i < segments.length; i++) {
    if (rules.ignores(segments.slice(0, i).join('/'), true)) return true;
  }
  return rules.ignores(segments.join('/'), isDir);
}

const FILE_TYPES = new Set(['File', 'OldFile', 'ContiguousFile']);

/**
 * Reads the archive at `archive` (tar, or tar compressed with gzip or zstd: the format is
 * recognised from its first bytes) into `into`, a folder the caller made empty and that no
 * one else writes to. It writes regular files, folders, symbolic links that stay below their
 * own folder, and hard links to a file the same archive wrote earlier (as a copy). It never
 * writes outside `into`:
 *
 * - an entry with an absolute path or a `..` segment fails the extraction (the archive is
 *   hostile or broken, and a partial result would hide it);
 * - an entry that would go through a symbolic link (one the archive made earlier) fails it too;
 * - git's own files (`.git`, in any case, anywhere in the path) are left out, as copy does;
 * - devices, FIFOs and links that could lead elsewhere are left out;
 * - files get copy's mode rule (no setuid, setgid or sticky bit; executable bits only with
 *   `keepExecutable`), are always readable and writable by their owner, and are owned by the
 *   backend's user, whatever the archive says;
 * - more than `limits` (bytes in all, bytes a file, entries) fails it, counting the bytes
 *   as they are decompressed, so a small archive that inflates to gigabytes stops early.
 */
export async function extractArchive(
  archive: string,
  into: string,
  options: {
    shownArchive: string;
    stripComponents: number;
    ignore: IgnoreRules;
    keepExecutable: boolean;
    limits?: ArchiveLimits;
    signal?: AbortSignal;
  },
): Promise<Extracted> {
  const limits = options.limits ?? DEFAULT_ARCHIVE_LIMITS;
  const shown = options.shownArchive;
  const result: Extracted = { files: 0, folders: 0, links: 0, bytes: 0, leftOut: {} };
  const leaveOut = (why: string) => {
    result.leftOut[why] = (result.leftOut[why] ?? 0) + 1;
  };
  /** Entries written so far, by their path below `into`: what a later entry may go through or link to. */
  const written = new Map<string, 'file' | 'folder' | 'link'>();
  let entries = 0;
  /** The first thing that went wrong: the parser's error, or an entry refused. */
  let failure: unknown;

  const refuse = (entry: ReadEntry, why: string) =>
    new StepConfigError(`inPath "${shown}": the archive's entry "${entry.path}" ${why}; nothing was extracted`);

  /** Makes the folders above `rel`, refusing to go through a link or a file the archive wrote. */
  const makeParents = async (entry: ReadEntry, segments: string[]) => {
    for (let i = 1; i < segments.length; i++) {
      const rel = segments.slice(0, i).join('/');
      const kind = written.get(rel);
      if (kind === 'link') throw refuse(entry, `goes through "${rel}", a symbolic link the archive made`);
      if (kind === 'file') throw refuse(entry, `goes through "${rel}", a file the archive made`);
      if (!kind) {
        await fs.mkdir(path.join(into, ...segments.slice(0, i)));
        written.set(rel, 'folder');
        result.folders++;
      }
    }
  };

  /** Removes what an earlier entry wrote at `rel` (a later entry of the same name wins, as with tar). */
  const clear = async (entry: ReadEntry, rel: string, dest: string) => {
    const kind = written.get(rel);
    if (kind === 'folder') throw refuse(entry, 'is not a folder, but an earlier entry made a folder there');
    if (kind) await fs.unlink(dest);
  };

  const writeFile = async (entry: ReadEntry, rel: string, dest: string) => {
    if (entry.size > limits.fileBytes) {
      throw refuse(entry, `holds ${formatSize(entry.size)}, more than the ${formatSize(limits.fileBytes)} a file may have`);
    }
    await clear(entry, rel, dest);
    const handle = await fs.open(dest, 'wx', 0o600);
    try {
      // the parser may have failed while the file was opened: its entry then never ends
      if (failure) throw failure;
      for await (const chunk of entry as AsyncIterable<Buffer>) {
        result.bytes += chunk.length;
        if (result.bytes > limits.totalBytes) {
          throw refuse(entry, `brings the files to more than ${formatSize(limits.totalBytes)}, the most an archive may unpack to`);
        }
        await handle.write(chunk);
      }
      await handle.chmod(copyMode(entry.mode ?? 0o644, options.keepExecutable) | 0o600);
    } finally {
      await handle.close();
    }
    written.set(rel, 'file');
    result.files++;
  };

  const handle = async (entry: ReadEntry): Promise<void> => {
    if (options.signal?.aborted) throw new Error('stopped: the promotion is being stopped');
    entries++;
    if (entries > limits.entries) {
      throw new StepConfigError(
        `inPath "${shown}": the archive holds more than ${limits.entries} entries, the most it may have; nothing was extracted`,
      );
    }
    const all = entrySegments(entry.path);
    if (!all) throw refuse(entry, 'leads out of outPath (an absolute path, or ".." in it)');
    const segments = all.slice(options.stripComponents);
    const isDir = entry.type === 'Directory';
    // what stripComponents removes whole (the top folders) is not extracted, as with tar
    if (segments.length === 0) return undefined;
    if (segments.some(isGitName)) return leaveOut("in git's own files (.git)");
    const rel = segments.join('/');
    if (ignored(options.ignore, segments, isDir)) return leaveOut('ignored');
    const dest = path.join(into, ...segments);

    if (isDir) {
      await makeParents(entry, [...segments, '']);
      return undefined;
    }
    if (FILE_TYPES.has(entry.type)) {
      await makeParents(entry, segments);
      return writeFile(entry, rel, dest);
    }
    if (entry.type === 'SymbolicLink') {
      const target = entry.linkpath ?? '';
      if (!safeLinkTarget(target)) return leaveOut('symbolic links that could lead out of their folder');
      await makeParents(entry, segments);
      await clear(entry, rel, dest);
      await fs.symlink(target, dest);
      written.set(rel, 'link');
      result.links++;
      return undefined;
    }
    if (entry.type === 'Link') {
      // a hard link names an earlier entry of the same archive; written as a copy of the file written there
      const targetAll = entrySegments(entry.linkpath ?? '');
      const target = targetAll?.slice(options.stripComponents).join('/');
      if (!target || written.get(target) !== 'file') return leaveOut('hard links to a file not extracted');
      const size = (await fs.stat(path.join(into, target))).size;
      if (result.bytes + size > limits.totalBytes) {
        throw refuse(entry, `brings the files to more than ${formatSize(limits.totalBytes)}, the most an archive may unpack to`);
      }
      await makeParents(entry, segments);
      await clear(entry, rel, dest);
      await fs.copyFile(path.join(into, target), dest);
      result.bytes += size;
      written.set(rel, 'file');
      result.files++;
      return undefined;
    }
    return leaveOut('devices, FIFOs and other special files');
  };

  let current: ReadEntry | undefined;
  let queue = Promise.resolve();
  const parser = new Parser({
    strict: true,
    onReadEntry: entry => {
      // entries come one at a time: the parser waits while an entry's data is not read
      queue = queue.then(async () => {
        if (failure) return;
        current = entry;
        try {
          await handle(entry);
        } catch (e) {
          if (!failure) {
            // a file-system error names the staging folder's absolute path: say the entry instead
            const code = (e as NodeJS.ErrnoException).code;
            failure =
              code && !(e instanceof StepConfigError)
                ? new Error(`inPath "${shown}": cannot extract the archive's entry "${entry.path}": ${code}`)
                : e;
            parser.abort(e as Error);
          }
        } finally {
          entry.resume();
        }
      });
    },
  });
  try {
    await pipeline(createReadStream(archive), parser);
  } catch (e) {
    failure ??= e;
    // the parser stopped mid-entry: end the entry being read, so that its reader stops too
    current?.destroy();
  }
  await queue;
  if (failure) {
    if (failure instanceof StepConfigError) throw failure;
    const err = failure as NodeJS.ErrnoException & { tarCode?: string };
    if (/decompression ratio/i.test(err.message)) {
      // node-tar's own guard: data that inflates a thousandfold is a decompression bomb
      throw new StepConfigError(
        `inPath "${shown}" inflates more than a thousandfold, as a decompression bomb does (${err.message}); nothing was extracted`,
      );
    }
    if (err.tarCode || /zlib|header|incorrect|unexpected end/i.test(err.message)) {
      throw new StepConfigError(`inPath "${shown}" is not a readable tar archive: ${err.message}`);
    }
    throw err;
  }
  return result;
}
