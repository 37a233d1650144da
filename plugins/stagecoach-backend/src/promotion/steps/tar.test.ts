import { execFileSync } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { list } from 'tar';
import { readTree, writeTree } from '../../__testUtils__/fileTree';
import { runStep, tempWorkDir } from '../../__testUtils__/stepHarness';
import { tar } from './tar';
import { untar } from './untar';

/** The entries of an archive as GNU tar lists them: `mode name` (or `mode name -> target`). */
function gnuList(archive: string): string[] {
  return execFileSync('tar', ['-tvf', archive], { encoding: 'utf8' })
    .trim()
    .split('\n')
    .map(line => {
      const cols = line.split(/\s+/);
      return `${cols[0]} ${cols.slice(5).join(' ')}`;
    });
}

describe('tar', () => {
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
  const run = (config: unknown) => runStep(tar, config, { workDir: work.dir });
  const at = (...p: string[]) => path.join(work.dir, ...p);

  it("packs a folder's contents into a .tar.gz that GNU tar reads, folders before their files, in name order", async () => {
    await writeTree(work.dir, {
      'chart/Chart.yaml': 'name: app\n',
      'chart/templates/deploy.yaml': 'kind: Deployment\n',
      'chart/values.yaml': 'replicas: 1\n',
    });
    const result = await run({ inPath: 'chart', outPath: 'out/chart.tgz' });
    expect(result).toEqual({
      status: 'Succeeded',
      message: expect.stringMatching(/^packed 3 files \(39 bytes\) from chart into out\/chart.tgz \(\d+ bytes, gzip\)$/),
    });
    expect((await fs.readFile(at('out/chart.tgz'))).subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b]));
    expect(gnuList(at('out/chart.tgz'))).toEqual([
      '-rw-r--r-- Chart.yaml',
      'drwxr-xr-x templates/',
      '-rw-r--r-- templates/deploy.yaml',
      '-rw-r--r-- values.yaml',
    ]);
    execFileSync('tar', ['-xzf', at('out/chart.tgz'), '-C', outside.dir]);
    expect(await readTree(outside.dir)).toEqual(await readTree(at('chart')));
  });

  it('packs a single file under its own name; gzip: false writes a plain tar', async () => {
    await writeTree(work.dir, { 'conf/app.toml': 'a = 1\n' });
    await run({ inPath: 'conf/app.toml', outPath: 'app.tar', gzip: false });
    expect((await fs.readFile(at('app.tar'))).subarray(257, 262).toString()).toBe('ustar');
    expect(gnuList(at('app.tar'))).toEqual(['-rw-r--r-- app.toml']);
  });

  it('the same files make the same archive, byte for byte', async () => {
    await writeTree(work.dir, { 'src/a.txt': 'a', 'src/b/c.txt': 'c' });
    await run({ inPath: 'src', outPath: 'one.tgz' });
    await fs.utimes(at('src/a.txt'), new Date(), new Date('2030-01-01'));
    await run({ inPath: 'src', outPath: 'two.tgz' });
    expect(await fs.readFile(at('one.tgz'))).toEqual(await fs.readFile(at('two.tgz')));
  });

  it('leaves out .git, symbolic links, FIFOs, what ignore names, and the archive itself', async () => {
    await writeTree(work.dir, {
      'src/.git/config': '[core]',
      'src/sub/.GIT': 'gitdir: x',
      'src/app.yaml': 'a',
      'src/build.log': 'l',
      'src/tmp/x': 'x',
      'src/old.tgz': 'previous archive',
    });
    await writeTree(outside.dir, { secret: 's' });
    await fs.symlink(path.join(outside.dir, 'secret'), at('src/secret'));
    await fs.symlink('app.yaml', at('src/inner-link'));
    execFileSync('mkfifo', [at('src/fifo')]);
    const result = await run({ inPath: 'src', outPath: 'src/old.tgz', ignore: ['*.log', 'tmp/'] });
    expect(result.message).toMatch(/^packed 1 file \(1 byte\) from src into src\/old.tgz/);
    expect(gnuList(at('src/old.tgz'))).toEqual(['-rw-r--r-- app.yaml', 'drwxr-xr-x sub/']);
  });

  it('never puts setuid, setgid or sticky bits, owners or hard links in an archive; keeps executable bits', async () => {
    await writeTree(work.dir, { 'src/run.sh': '#!/bin/sh\n', 'src/data': 'd' });
    await fs.chmod(at('src/run.sh'), 0o6755);
    await fs.link(at('src/data'), at('src/data-again'));
    await run({ inPath: 'src', outPath: 'a.tar', gzip: false });
    const entries: { path: string; mode?: number; type: string; uid?: number; uname?: string }[] = [];
    await list({ file: at('a.tar'), onReadEntry: e => entries.push({ path: e.path, mode: e.mode, type: e.type, uid: e.uid, uname: e.uname }) });
    expect(entries).toEqual([
      { path: 'data', mode: 0o644, type: 'File', uid: undefined, uname: '' },
      { path: 'data-again', mode: 0o644, type: 'File', uid: undefined, uname: '' },
      { path: 'run.sh', mode: 0o755, type: 'File', uid: undefined, uname: '' },
    ]);
  });

  it('round-trips through untar', async () => {
    await writeTree(work.dir, { 'src/a/b/c.yaml': 'c: 1\n', 'src/d.txt': 'd' });
    await run({ inPath: 'src', outPath: 'bundle.tgz' });
    await runStep(untar, { inPath: 'bundle.tgz', outPath: 'copy' }, { workDir: work.dir });
    expect(await readTree(at('copy'))).toEqual(await readTree(at('src')));
  });

  it('replaces a symbolic link at outPath rather than writing through it', async () => {
    await writeTree(work.dir, { 'src/a.txt': 'a' });
    await writeTree(outside.dir, { 'target.tgz': 'outside' });
    await fs.symlink(path.join(outside.dir, 'target.tgz'), at('inside.tgz'));
    await expect(run({ inPath: 'src', outPath: 'inside.tgz' })).rejects.toThrow(
      'outPath "inside.tgz" leads out of the promotion\'s work directory through a symbolic link',
    );
    await writeTree(work.dir, { 'other.tgz': 'inside' });
    await fs.symlink('other.tgz', at('local.tgz'));
    await run({ inPath: 'src', outPath: 'local.tgz' });
    expect((await fs.lstat(at('local.tgz'))).isFile()).toBe(true);
    expect(await fs.readFile(at('other.tgz'), 'utf8')).toBe('inside');
    expect(await readTree(outside.dir)).toEqual({ 'target.tgz': 'outside' });
  });

  it('refuses more than Kargo\'s bound of 50 MiB for one file', async () => {
    await fs.mkdir(at('src'));
    await fs.writeFile(at('src/big.bin'), Buffer.alloc(51 * 1024 * 1024));
    await expect(run({ inPath: 'src', outPath: 'big.tgz' })).rejects.toThrow(
      'inPath\'s file "big.bin" holds 51 MiB, more than the 50 MiB a file may have',
    );
    await expect(fs.stat(at('big.tgz'))).rejects.toThrow(/ENOENT/);
  });

  it('says what is wrong with the paths it is given', async () => {
    await writeTree(work.dir, { 'src/a.txt': 'a' });
    await expect(run({ inPath: 'nope', outPath: 'x.tgz' })).rejects.toThrow('inPath "nope" does not exist');
    await expect(run({ inPath: 'src', outPath: 'src' })).rejects.toThrow(
      'outPath "src" is a folder: name the archive file to write',
    );
    await expect(run({ inPath: 'src', outPath: 'out/' })).rejects.toThrow('outPath "out/" is a folder');
    await expect(run({ inPath: 'repo/.git', outPath: 'x.tgz' })).rejects.toThrow(
      'inPath "repo/.git" is in git\'s own files (.git), which steps never read',
    );
    await expect(run({ inPath: '/etc', outPath: 'x.tgz' })).rejects.toThrow(
      'inPath "/etc" must be relative to the promotion\'s work directory',
    );
    await expect(run({ inPath: 'src', outPath: 'x.tgz', gzip: 'yes' })).rejects.toThrow(
      'config.gzip: Expected boolean, received string',
    );
    await expect(run({ inPath: 'src', outPath: 'x.tgz', compress: true })).rejects.toThrow(/compress/);
  });
});
