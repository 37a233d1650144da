import fs from 'node:fs/promises';
import path from 'node:path';
import { readTree, writeTree } from '../../__testUtils__/fileTree';
import { runStep, tempWorkDir } from '../../__testUtils__/stepHarness';
import { copy } from './copy';

describe('copy', () => {
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
  const run = (config: unknown) => runStep(copy, config, { workDir: work.dir });

  it('copies a file to a new path, creating the folders above it', async () => {
    await writeTree(work.dir, { 'src/app.yaml': 'a: 1\n' });
    const result = await run({ inPath: './src/app.yaml', outPath: './out/env/dev/app.yaml' });
    expect(result).toEqual({ status: 'Succeeded', message: 'copied ./src/app.yaml to out/env/dev/app.yaml' });
    expect(await readTree(path.join(work.dir, 'out'))).toEqual({ 'env/dev/app.yaml': 'a: 1\n' });
  });

  it('copies a folder into an existing folder: its contents merge in, same names are replaced, the rest stays', async () => {
    await writeTree(work.dir, {
      'overlay/kustomization.yaml': 'new\n',
      'overlay/patches/replicas.yaml': 'replicas: 3\n',
      'src/kustomization.yaml': 'old\n',
      'src/base/deployment.yaml': 'kind: Deployment\n',
    });
    const result = await run({ inPath: './overlay/', outPath: './src' });
    expect(result.message).toBe('copied 2 files from ./overlay/ to ./src');
    expect(await readTree(path.join(work.dir, 'src'))).toEqual({
      'base/deployment.yaml': 'kind: Deployment\n',
      'kustomization.yaml': 'new\n',
      'patches/replicas.yaml': 'replicas: 3\n',
    });
  });

  it('copies a file into a folder that exists, like cp', async () => {
    await writeTree(work.dir, { 'src/app.yaml': 'a: 1\n', 'out/keep.txt': 'k' });
    await run({ inPath: 'src/app.yaml', outPath: 'out' });
    expect(await readTree(path.join(work.dir, 'out'))).toEqual({ 'app.yaml': 'a: 1\n', 'keep.txt': 'k' });
  });

  it('leaves out .git, and what the gitignore-style rules in ignore name', async () => {
    await writeTree(work.dir, {
      'src/.git/HEAD': 'ref: refs/heads/main\n',
      'src/app.yaml': 'a',
      'src/build.tmp': 'x',
      'src/keep.tmp': 'kept by a ! rule',
      'src/docs/notes.tmp': 'x',
      'src/secret/key': 'x',
      'src/nested/secret/key': 'not anchored, so copied',
    });
    await run({ inPath: 'src', outPath: 'out', ignore: '# build output\n*.tmp\n!keep.tmp\n/secret/\n' });
    expect(await readTree(path.join(work.dir, 'out'))).toEqual({
      'app.yaml': 'a',
      'keep.tmp': 'kept by a ! rule',
      'nested/secret/key': 'not anchored, so copied',
    });
  });

  it('takes ignore rules as a list too, and never copies a .git (in any case), whatever the rules say', async () => {
    await writeTree(work.dir, { 'src/.git/HEAD': 'ref', 'src/sub/.GIT': 'gitdir: x', 'src/a.txt': 'a', 'src/b.log': 'b' });
    await run({ inPath: 'src', outPath: 'out', ignore: ['*.log', '!.git/', '!.GIT'] });
    expect(await readTree(path.join(work.dir, 'out'))).toEqual({ 'a.txt': 'a' });
  });

  it('leaves symbolic links out of a folder copy', async () => {
    await writeTree(work.dir, { 'src/a.txt': 'a' });
    await writeTree(outside.dir, { 'passwd': 'secret' });
    await fs.symlink(path.join(outside.dir, 'passwd'), path.join(work.dir, 'src/passwd'));
    await run({ inPath: 'src', outPath: 'out' });
    expect(await readTree(path.join(work.dir, 'out'))).toEqual({ 'a.txt': 'a' });
  });

  it('drops executable bits unless keepExecutable says to keep them, and never copies setuid or setgid', async () => {
    await writeTree(work.dir, { 'src/run.sh': '#!/bin/sh\n', 'src/data.txt': 'd' });
    await fs.chmod(path.join(work.dir, 'src/run.sh'), 0o6755);
    await fs.chmod(path.join(work.dir, 'src/data.txt'), 0o640);
    const mode = async (p: string) => (await fs.stat(path.join(work.dir, p))).mode & 0o7777;

    await run({ inPath: 'src', outPath: 'out' });
    expect(await mode('out/run.sh')).toBe(0o644);
    expect(await mode('out/data.txt')).toBe(0o640);
    await run({ inPath: 'src/run.sh', outPath: 'single/run.sh' });
    expect(await mode('single/run.sh')).toBe(0o644);

    await run({ inPath: 'src', outPath: 'kept', keepExecutable: true });
    expect(await mode('kept/run.sh')).toBe(0o755);
    expect(await mode('kept/data.txt')).toBe(0o640);
  });

  it('replaces a symbolic link in the destination instead of writing through it', async () => {
    await writeTree(work.dir, { 'src/conf/app.yaml': 'new' });
    await writeTree(outside.dir, { 'app.yaml': 'outside' });
    await fs.mkdir(path.join(work.dir, 'out'));
    await fs.symlink(outside.dir, path.join(work.dir, 'out/conf'));
    await run({ inPath: 'src', outPath: 'out' });
    expect(await readTree(path.join(work.dir, 'out'))).toEqual({ 'conf/app.yaml': 'new' });
    expect(await readTree(outside.dir)).toEqual({ 'app.yaml': 'outside' });
  });

  it('refuses paths outside the work directory, by text or through a link', async () => {
    await writeTree(work.dir, { 'src/a.txt': 'a' });
    await expect(run({ inPath: '../etc', outPath: 'out' })).rejects.toThrow(
      'inPath "../etc" leaves the promotion\'s work directory',
    );
    await expect(run({ inPath: 'src', outPath: '/tmp/x' })).rejects.toThrow(
      'outPath "/tmp/x" must be relative to the promotion\'s work directory',
    );
    await fs.symlink(outside.dir, path.join(work.dir, 'escape'));
    await expect(run({ inPath: 'src', outPath: 'escape/copied' })).rejects.toThrow(
      'outPath "escape/copied" leads out of the promotion\'s work directory through a symbolic link',
    );
    await expect(run({ inPath: 'escape', outPath: 'out' })).rejects.toThrow(
      'inPath "escape" leads out of the promotion\'s work directory through a symbolic link',
    );
    expect(await readTree(outside.dir)).toEqual({});
  });

  it('says what is wrong with the paths it is given', async () => {
    await writeTree(work.dir, { 'src/a.txt': 'a', 'file.txt': 'f' });
    await expect(run({ inPath: 'nope', outPath: 'out' })).rejects.toThrow('inPath "nope" does not exist');
    await expect(run({ inPath: 'src', outPath: 'src/inner' })).rejects.toThrow(
      'outPath "src/inner" is inside inPath "src"',
    );
    await expect(run({ inPath: 'src', outPath: 'file.txt' })).rejects.toThrow(
      'outPath "file.txt" is a file, but inPath "src" is a folder',
    );
    await expect(run({ inPath: 'src/a.txt', outPath: 'repo/.git/config' })).rejects.toThrow(
      'outPath "repo/.git/config" is in git\'s own files (.git), which steps never write to',
    );
    await expect(run({ inPath: 'src', outPath: 'out', ignores: '*.tmp' })).rejects.toThrow(/ignores/);
    await expect(run({ inPath: 'src' })).rejects.toThrow('config.outPath: Required');
  });
});
