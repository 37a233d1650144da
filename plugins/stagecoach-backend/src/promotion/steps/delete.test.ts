import fs from 'node:fs/promises';
import path from 'node:path';
import { readTree, writeTree } from '../../__testUtils__/fileTree';
import { runStep, tempWorkDir } from '../../__testUtils__/stepHarness';
import { deleteStep } from './delete';

describe('delete', () => {
  let work: { dir: string; cleanup(): Promise<void> };
  let outside: { dir: string; cleanup(): Promise<void> };
  beforeEach(async () => {
    work = await tempWorkDir();
    outside = await tempWorkDir();
    await writeTree(work.dir, {
      'out/app.yaml': 'a',
      'out/unwanted/file': 'x',
      'out/build.log': 'log',
      'out/tmp/a.tmp': 't',
      'out/charts/x.tmp': 't',
      'out/charts/keep.yaml': 'k',
      'out/build/artifact': 'b',
    });
  });
  afterEach(async () => {
    await work.cleanup();
    await outside.cleanup();
  });
  const run = (config: unknown) => runStep(deleteStep, config, { workDir: work.dir });
  const remaining = async () => Object.keys(await readTree(work.dir));

  it('deletes a file, and a folder with everything in it', async () => {
    expect(await run({ path: './out/unwanted/file' })).toEqual({ status: 'Succeeded', message: 'deleted out/unwanted/file' });
    await run({ path: './out/charts' });
    expect(await remaining()).toEqual(['out/app.yaml', 'out/build.log', 'out/build/artifact', 'out/tmp/a.tmp']);
  });

  it('deletes several paths; a missing one is fine unless strict', async () => {
    const result = await run({ paths: ['./out/build.log', './out/tmp', './out/not-there'] });
    expect(result.message).toBe('deleted out/build.log, out/tmp');
    expect(await run({ path: 'never/existed' })).toEqual({
      status: 'Succeeded',
      message: 'nothing to delete: never/existed not found',
    });
  });

  it('with strict, a missing path fails the step before anything is deleted', async () => {
    await expect(run({ paths: ['out/app.yaml', 'out/missing.yaml'], strict: true })).rejects.toThrow(
      'paths[1] "out/missing.yaml" does not exist',
    );
    expect(await remaining()).toContain('out/app.yaml');
  });

  it('expands globs when pathsAreGlobs is set; a trailing / matches folders only', async () => {
    await run({ paths: ['./out/**/*.tmp', './out/build/'], pathsAreGlobs: true, strict: true });
    expect(await remaining()).toEqual(['out/app.yaml', 'out/build.log', 'out/charts/keep.yaml', 'out/unwanted/file']);
    await expect(run({ path: 'out/*.nothing', pathsAreGlobs: true, strict: true })).rejects.toThrow(
      'path "out/*.nothing" matches nothing',
    );
    expect(await run({ path: 'out/*.nothing', pathsAreGlobs: true })).toMatchObject({ status: 'Succeeded' });
  });

  it('deletes a symbolic link, never what it points to', async () => {
    await writeTree(outside.dir, { 'precious.txt': 'p' });
    await fs.symlink(outside.dir, path.join(work.dir, 'out/link'));
    await run({ path: 'out/link' });
    expect(await remaining()).not.toContain('out/link');
    expect(await readTree(outside.dir)).toEqual({ 'precious.txt': 'p' });
  });

  it('refuses paths outside the work directory and the work directory itself', async () => {
    await fs.symlink(outside.dir, path.join(work.dir, 'escape'));
    await writeTree(outside.dir, { 'precious.txt': 'p' });
    await expect(run({ path: '../x' })).rejects.toThrow('path "../x" leaves the promotion\'s work directory');
    await expect(run({ path: 'escape/precious.txt' })).rejects.toThrow(
      'path "escape/precious.txt" leads out of the promotion\'s work directory through a symbolic link',
    );
    await expect(run({ path: '.' })).rejects.toThrow('path "." is the whole work directory');
    await expect(run({ path: '../*', pathsAreGlobs: true })).rejects.toThrow(
      'path "../*" leaves the promotion\'s work directory',
    );
    await expect(run({ path: '/etc/*', pathsAreGlobs: true })).rejects.toThrow(
      'path "/etc/*" must be relative to the promotion\'s work directory',
    );
    // a glob never enters a linked folder
    expect(await run({ path: 'escape/*', pathsAreGlobs: true })).toEqual({
      status: 'Succeeded',
      message: 'nothing to delete: escape/* not found',
    });
    expect(await readTree(outside.dir)).toEqual({ 'precious.txt': 'p' });
  });

  it('needs exactly one of path and paths, and no unknown fields', async () => {
    await expect(run({})).rejects.toThrow('needs exactly one of "path" and "paths"');
    await expect(run({ path: 'a', paths: ['b'] })).rejects.toThrow('needs exactly one of "path" and "paths"');
    await expect(run({ path: 'a', recursive: true })).rejects.toThrow(/recursive/);
  });
});
