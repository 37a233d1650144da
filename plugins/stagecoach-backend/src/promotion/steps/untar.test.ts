import { execFileSync } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import zlib, { gzipSync } from 'node:zlib';
import { Header, Pax } from 'tar';
import { readTree, writeTree } from '../../__testUtils__/fileTree';
import { runStep, tempWorkDir } from '../../__testUtils__/stepHarness';
import { extractArchive, ignoreRules } from './tarArchive';
import { untar } from './untar';

/** One entry of a hand-made archive: what a hostile tool could write, byte for byte. */
interface RawEntry {
  path: string;
  type?: string;
  data?: string | Buffer;
  linkpath?: string;
  mode?: number;
  /** The size the header claims, when it is not the data's. */
  size?: number;
}

/** A tar archive made with node-tar's header encoder, entry by entry, nothing checked. */
function rawTar(entries: RawEntry[]): Buffer {
  const blocks: Buffer[] = [];
  for (const e of entries) {
    const data = Buffer.from(e.data ?? '');
    const header = new Header({
      path: e.path,
      type: (e.type ?? 'File') as never,
      mode: e.mode ?? 0o644,
      size: e.size ?? (e.type && e.type !== 'File' ? 0 : data.length),
      linkpath: e.linkpath,
      mtime: new Date('2024-01-01T00:00:00Z'),
      uid: 0,
      gid: 0,
    });
    header.encode();
    blocks.push(header.block!);
    if (data.length) blocks.push(data, Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}

/** GNU tar, the system's: `tar <args>` in `cwd`. */
function gnuTar(cwd: string, ...args: string[]): void {
  execFileSync('tar', args, { cwd, stdio: 'pipe' });
}

describe('untar', () => {
  let work: { dir: string; cleanup(): Promise<void> };
  let outside: { dir: string; cleanup(): Promise<void> };
  beforeEach(async () => {
    work = await tempWorkDir();
    outside = await tempWorkDir();
  });
  afterEach(async () => {
    await work.cleanup();
    await outside.cleanup();
  });
  const run = (config: unknown) => runStep(untar, config, { workDir: work.dir });
  const at = (...p: string[]) => path.join(work.dir, ...p);
  const mode = async (p: string) => (await fs.stat(at(p))).mode & 0o7777;
  const writeArchive = (name: string, bytes: Buffer) => fs.writeFile(at(name), bytes);

  it('extracts a .tar.gz made by GNU tar into a new folder, stripping the top folder', async () => {
    await writeTree(outside.dir, {
      'chart-1.2.3/Chart.yaml': 'name: chart\n',
      'chart-1.2.3/templates/deploy.yaml': 'kind: Deployment\n',
    });
    gnuTar(outside.dir, '-czf', path.join(work.dir, 'chart.tgz'), 'chart-1.2.3');
    const result = await run({ inPath: 'chart.tgz', outPath: 'out/chart', stripComponents: 1 });
    expect(result).toEqual({
      status: 'Succeeded',
      message: 'extracted 2 files from chart.tgz to out/chart',
    });
    expect(await readTree(at('out/chart'))).toEqual({
      'Chart.yaml': 'name: chart\n',
      'templates/deploy.yaml': 'kind: Deployment\n',
    });
  });

  it('merges into an existing folder: same names are replaced, the rest stays; a plain .tar works too', async () => {
    await writeTree(work.dir, { 'out/keep.txt': 'k', 'out/app.yaml': 'old' });
    await writeTree(outside.dir, { 'app.yaml': 'new', 'sub/b.txt': 'b' });
    gnuTar(outside.dir, '-cf', at('a.tar'), 'app.yaml', 'sub');
    await run({ inPath: 'a.tar', outPath: 'out' });
    expect(await readTree(at('out'))).toEqual({ 'app.yaml': 'new', 'keep.txt': 'k', 'sub/b.txt': 'b' });
  });

  it('recognises a zstd-compressed archive by its first bytes, whatever its name', async () => {
    await writeTree(outside.dir, { 'app/a.txt': 'a' });
    gnuTar(outside.dir, '-cf', path.join(outside.dir, 'plain.tar'), 'app');
    const zstd = (zlib as unknown as { zstdCompressSync(b: Buffer): Buffer }).zstdCompressSync;
    await writeArchive('bundle.bin', zstd(await fs.readFile(path.join(outside.dir, 'plain.tar'))));
    await run({ inPath: 'bundle.bin', outPath: 'out' });
    expect(await readTree(at('out'))).toEqual({ 'app/a.txt': 'a' });
  });

  it("leaves out what ignore names (a folder's contents too) and git's own files", async () => {
    await writeArchive(
      'a.tar',
      rawTar([
        { path: 'app/values.yaml', data: 'v' },
        { path: 'app/README.md', data: 'r' },
        { path: 'app/tests/', type: 'Directory' },
        { path: 'app/tests/t.yaml', data: 't' },
        { path: 'app/.git/config', data: '[core]\n\thooksPath = /tmp/evil\n' },
        { path: 'app/sub/.GIT', data: 'gitdir: /etc' },
      ]),
    );
    const result = await run({ inPath: 'a.tar', outPath: 'out', ignore: '*.md\ntests/\n' });
    expect(await readTree(at('out'))).toEqual({ 'app/values.yaml': 'v' });
    expect(result.message).toBe("extracted 1 file from a.tar to out (left out: 3 ignored, 2 in git's own files (.git))");
  });

  it('drops executable, setuid and setgid bits unless keepExecutable keeps the executable ones, and never sets an owner', async () => {
    await writeTree(outside.dir, { 'run.sh': '#!/bin/sh\n', 'data.txt': 'd' });
    await fs.chmod(path.join(outside.dir, 'run.sh'), 0o6755);
    await fs.chmod(path.join(outside.dir, 'data.txt'), 0o440);
    await fs.chown(path.join(outside.dir, 'data.txt'), 4242, 4242).catch(() => undefined);
    gnuTar(outside.dir, '-cf', at('a.tar'), 'run.sh', 'data.txt');

    await run({ inPath: 'a.tar', outPath: 'plain' });
    expect(await mode('plain/run.sh')).toBe(0o644);
    // always readable and writable by the backend, so that later steps can edit it
    expect(await mode('plain/data.txt')).toBe(0o640);
    expect((await fs.stat(at('plain/data.txt'))).uid).toBe(process.getuid!());

    await run({ inPath: 'a.tar', outPath: 'kept', keepExecutable: true });
    expect(await mode('kept/run.sh')).toBe(0o755);
  });

  it('refuses an entry with an absolute path or "..", and then writes nothing at all', async () => {
    await writeTree(work.dir, { 'out/keep.txt': 'k' });
    for (const evil of ['../escaped.txt', 'a/../../escaped.txt', `/${path.join(outside.dir, 'abs.txt').slice(1)}`]) {
      await writeArchive('evil.tar', rawTar([{ path: 'fine.txt', data: 'f' }, { path: evil, data: 'pwned' }]));
      await expect(run({ inPath: 'evil.tar', outPath: 'out' })).rejects.toThrow(
        `inPath "evil.tar": the archive's entry "${evil}" leads out of outPath (an absolute path, or ".." in it); nothing was extracted`,
      );
    }
    expect(await readTree(at('out'))).toEqual({ 'keep.txt': 'k' });
    expect(await readTree(outside.dir)).toEqual({});
    expect((await fs.readdir(work.dir)).sort()).toEqual(['evil.tar', 'out']);
  });

  it('refuses "../" names that GNU tar itself wrote (tar -P)', async () => {
    await writeTree(outside.dir, { 'inner/x.txt': 'x', 'secret.txt': 's' });
    gnuTar(path.join(outside.dir, 'inner'), '-P', '-cf', at('p.tar'), 'x.txt', '../secret.txt');
    await expect(run({ inPath: 'p.tar', outPath: 'out' })).rejects.toThrow(
      'the archive\'s entry "../secret.txt" leads out of outPath',
    );
  });

  it('makes symbolic links that stay below their folder, leaves out those that could lead anywhere', async () => {
    await writeArchive(
      'links.tar',
      rawTar([
        { path: 'app/values.yaml', data: 'v' },
        { path: 'app/current', type: 'SymbolicLink', linkpath: 'values.yaml' },
        { path: 'up', type: 'SymbolicLink', linkpath: '../../etc' },
        { path: 'abs', type: 'SymbolicLink', linkpath: '/etc/passwd' },
        { path: 'git', type: 'SymbolicLink', linkpath: 'repo/.git' },
      ]),
    );
    const result = await run({ inPath: 'links.tar', outPath: 'out' });
    expect(await readTree(at('out'))).toEqual({ 'app/current': '-> values.yaml', 'app/values.yaml': 'v' });
    expect(result.message).toBe(
      'extracted 1 file and 1 symbolic link from links.tar to out (left out: 3 symbolic links that could lead out of their folder)',
    );
  });

  it('refuses an entry that goes through a symbolic link the archive made earlier', async () => {
    await writeTree(outside.dir, { 'sub/x': 'x', 'y': 'pwned' });
    await fs.symlink('sub', path.join(outside.dir, 'a'));
    gnuTar(outside.dir, '-cf', at('t.tar'), 'sub', 'a');
    gnuTar(outside.dir, '-rf', at('t.tar'), '--transform', 's,^y$,a/y,', 'y');
    await expect(run({ inPath: 't.tar', outPath: 'out' })).rejects.toThrow(
      'the archive\'s entry "a/y" goes through "a", a symbolic link the archive made; nothing was extracted',
    );
    expect(await fs.readdir(work.dir)).toEqual(['t.tar']);
  });

  it('never writes through a symbolic link already in outPath: it is replaced', async () => {
    await fs.mkdir(at('out'));
    await fs.symlink(outside.dir, at('out/conf'));
    await writeArchive('a.tar', rawTar([{ path: 'conf/app.yaml', data: 'new' }]));
    await run({ inPath: 'a.tar', outPath: 'out' });
    expect(await readTree(at('out'))).toEqual({ 'conf/app.yaml': 'new' });
    expect(await readTree(outside.dir)).toEqual({});
  });

  it('copies a hard link to a file of the same archive; leaves out one to anything else', async () => {
    await writeTree(outside.dir, { 'a.txt': 'same' });
    await fs.link(path.join(outside.dir, 'a.txt'), path.join(outside.dir, 'b.txt'));
    gnuTar(outside.dir, '-cf', at('h.tar'), 'a.txt', 'b.txt');
    await run({ inPath: 'h.tar', outPath: 'out' });
    expect(await readTree(at('out'))).toEqual({ 'a.txt': 'same', 'b.txt': 'same' });
    expect((await fs.stat(at('out/b.txt'))).nlink).toBe(1);

    await writeArchive('evil.tar', rawTar([{ path: 'passwd', type: 'Link', linkpath: '/etc/passwd' }]));
    const result = await run({ inPath: 'evil.tar', outPath: 'evil' });
    expect(result.message).toContain('left out: 1 hard links to a file not extracted');
    expect(await readTree(at('evil'))).toEqual({});
  });

  it('never makes devices or FIFOs', async () => {
    await fs.mkdir(path.join(outside.dir, 'd'));
    execFileSync('mkfifo', [path.join(outside.dir, 'd/fifo')]);
    await writeTree(outside.dir, { 'd/ok.txt': 'ok' });
    gnuTar(outside.dir, '-cf', at('d.tar'), 'd');
    gnuTar('/', '-rf', at('d.tar'), 'dev/null');
    const result = await run({ inPath: 'd.tar', outPath: 'out' });
    expect(await readTree(at('out'))).toEqual({ 'd/ok.txt': 'ok' });
    expect(result.message).toContain('left out: 2 devices, FIFOs and other special files');
  });

  it('stops a decompression bomb at the size bound as the bytes come, before the size the header claims', async () => {
    // random bytes repeated: deflate shrinks them about fiftyfold, under node-tar's thousandfold guard
    const block = Buffer.from(Array.from({ length: 16 * 1024 }, () => Math.floor(Math.random() * 256)));
    const bomb = gzipSync(rawTar([{ path: 'zeros', data: Buffer.concat(Array(512).fill(block)) }]));
    expect(bomb.length).toBeLessThan(512 * 1024);
    await writeArchive('bomb.tgz', bomb);
    const into = at('into');
    await fs.mkdir(into);
    const options = {
      shownArchive: 'bomb.tgz',
      stripComponents: 0,
      ignore: ignoreRules(undefined),
      keepExecutable: false,
    };
    await expect(
      extractArchive(at('bomb.tgz'), into, {
        ...options,
        limits: { totalBytes: 1024 * 1024, fileBytes: 64 * 1024 * 1024, entries: 10 },
      }),
    ).rejects.toThrow(
      'inPath "bomb.tgz": the archive\'s entry "zeros" brings the files to more than 1 MiB, the most an archive may unpack to',
    );
    await expect(
      extractArchive(at('bomb.tgz'), into, {
        ...options,
        limits: { totalBytes: 64 * 1024 * 1024, fileBytes: 1024 * 1024, entries: 10 },
      }),
    ).rejects.toThrow('the archive\'s entry "zeros" holds 8 MiB, more than the 1 MiB a file may have');
  });

  it('bounds the number of entries', async () => {
    const many = rawTar(Array.from({ length: 20 }, (_, i) => ({ path: `f${i}`, data: 'x' })));
    await writeArchive('many.tar', many);
    await fs.mkdir(at('into'));
    await expect(
      extractArchive(at('many.tar'), at('into'), {
        shownArchive: 'many.tar',
        stripComponents: 0,
        ignore: ignoreRules(undefined),
        keepExecutable: false,
        limits: { totalBytes: 1024, fileBytes: 1024, entries: 10 },
      }),
    ).rejects.toThrow('inPath "many.tar": the archive holds more than 10 entries, the most it may have; nothing was extracted');
  });

  it('refuses what inflates a thousandfold (node-tar\'s guard), whatever the size bound', async () => {
    await writeArchive('bomb.tgz', gzipSync(rawTar([{ path: 'zeros', data: Buffer.alloc(8 * 1024 * 1024) }])));
    await expect(run({ inPath: 'bomb.tgz', outPath: 'out' })).rejects.toThrow(
      /^inPath "bomb.tgz" inflates more than a thousandfold, as a decompression bomb does \(.*\); nothing was extracted$/,
    );
    expect(await fs.readdir(work.dir)).toEqual(['bomb.tgz']);
  });

  it('the step itself refuses more than 100 MiB, Kargo\'s bound', async () => {
    const big = Buffer.alloc(40 * 1024 * 1024, 'x');
    await writeArchive('big.tgz', rawTar([1, 2, 3].map(i => ({ path: `part${i}`, data: big }))));
    await expect(run({ inPath: 'big.tgz', outPath: 'out' })).rejects.toThrow(
      'the archive\'s entry "part3" brings the files to more than 100 MiB, the most an archive may unpack to',
    );
    expect(await fs.readdir(work.dir)).toEqual(['big.tgz']);
  });

  it('says what is wrong: not an archive, a truncated one, a missing file, a file as outPath, .git as outPath', async () => {
    await writeTree(work.dir, { 'notes.txt': 'hello, this is not a tar archive at all'.repeat(20), 'file.txt': 'f' });
    await expect(run({ inPath: 'notes.txt', outPath: 'out' })).rejects.toThrow(
      /^inPath "notes.txt" is not a readable tar archive: /,
    );
    await writeArchive('cut.tar', rawTar([{ path: 'a.txt', data: 'a'.repeat(2000) }]).subarray(0, 1024));
    await expect(run({ inPath: 'cut.tar', outPath: 'out' })).rejects.toThrow(
      /^inPath "cut.tar" is not a readable tar archive: /,
    );
    await expect(run({ inPath: 'nope.tgz', outPath: 'out' })).rejects.toThrow('inPath "nope.tgz" does not exist');
    // a pax header gives the next entry a name longer than any file system takes
    const pax = new Pax({ path: `${'n'.repeat(300)}.txt` }).encode();
    await writeArchive('long.tar', Buffer.concat([pax, rawTar([{ path: 'short.txt', data: 'x' }])]));
    await expect(run({ inPath: 'long.tar', outPath: 'out' })).rejects.toThrow(
      `inPath "long.tar": cannot extract the archive's entry "${'n'.repeat(300)}.txt": ENAMETOOLONG`,
    );
    await writeArchive('a.tar', rawTar([{ path: 'a.txt', data: 'a' }]));
    await expect(run({ inPath: 'a.tar', outPath: 'file.txt' })).rejects.toThrow(
      'outPath "file.txt" is a file: name the folder to extract into',
    );
    await expect(run({ inPath: 'a.tar', outPath: 'repo/.git' })).rejects.toThrow(
      'outPath "repo/.git" is in git\'s own files (.git), which steps never write to',
    );
    await expect(run({ inPath: 'a.tar', outPath: '../up' })).rejects.toThrow(
      'outPath "../up" leaves the promotion\'s work directory',
    );
    await expect(run({ inPath: 'a.tar', outPath: 'o', stripComponents: -1 })).rejects.toThrow(
      'config.stripComponents: Number must be greater than or equal to 0',
    );
    await expect(run({ inPath: 'a.tar', outPath: 'o', strip: 1 })).rejects.toThrow(/strip/);
  });
});
