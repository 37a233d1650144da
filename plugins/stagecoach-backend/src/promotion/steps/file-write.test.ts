import fs from 'node:fs/promises';
import path from 'node:path';
import { readTree, writeTree } from '../../__testUtils__/fileTree';
import { runStep, tempWorkDir } from '../../__testUtils__/stepHarness';
import { validateStepConfig } from '.';
import { fileWrite } from './file-write';

describe('file-write', () => {
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
  const run = (config: unknown) => runStep(fileWrite, config, { workDir: work.dir });
  const mode = async (rel: string) => (await fs.stat(path.join(work.dir, rel))).mode & 0o777;

  it('writes a new file, creating its folders, readable by its owner only by default', async () => {
    const result = await run({ path: './out/config/app.json', contents: '{"replicas": 2}\n' });
    expect(result).toEqual({ status: 'Succeeded', message: 'wrote ./out/config/app.json (16 bytes)' });
    expect(await readTree(work.dir)).toEqual({ 'out/config/app.json': '{"replicas": 2}\n' });
    expect(await mode('out/config/app.json')).toBe(0o600);
  });

  it('writes an empty file, with the permissions asked for', async () => {
    await run({ path: 'out/.keep', contents: '', permissions: '0644' });
    expect(await readTree(work.dir)).toEqual({ 'out/.keep': '' });
    expect(await mode('out/.keep')).toBe(0o644);
  });

  it('replaces an existing file only with overwrite', async () => {
    await writeTree(work.dir, { 'out/app.yaml': 'old\n' });
    await expect(run({ path: 'out/app.yaml', contents: 'new\n' })).rejects.toThrow(
      'path "out/app.yaml" already exists; set overwrite: true to replace it',
    );
    expect(await readTree(work.dir)).toEqual({ 'out/app.yaml': 'old\n' });
    const result = await run({ path: 'out/app.yaml', contents: 'new\n', overwrite: true, permissions: '0640' });
    expect(result.message).toBe('replaced out/app.yaml (4 bytes)');
    expect(await readTree(work.dir)).toEqual({ 'out/app.yaml': 'new\n' });
    expect(await mode('out/app.yaml')).toBe(0o640);
  });

  it('refuses executable, world-writable and malformed permissions when manifests are applied', () => {
    const problems = (permissions: unknown) =>
      validateStepConfig('file-write', { path: 'a', contents: '', permissions }).map(p => p.message);
    expect(problems('0755')).toEqual(['must not make the file executable']);
    expect(problems('0666')).toEqual(['must not make the file writable by everyone']);
    expect(problems('644')).toEqual(['must be an octal file mode such as "0644"']);
    expect(problems('04644')).toEqual(['must be an octal file mode such as "0644"']);
    expect(problems('0644')).toEqual([]);
  });

  it('refuses paths outside the work directory, into .git, or onto a folder', async () => {
    await fs.symlink(outside.dir, path.join(work.dir, 'escape'));
    await fs.mkdir(path.join(work.dir, 'out/dir'), { recursive: true });
    await expect(run({ path: '../evil', contents: 'x' })).rejects.toThrow(
      'path "../evil" leaves the promotion\'s work directory',
    );
    await expect(run({ path: 'escape/evil', contents: 'x' })).rejects.toThrow(
      'path "escape/evil" leads out of the promotion\'s work directory through a symbolic link',
    );
    await expect(run({ path: 'out/.git/hooks/pre-commit', contents: 'x' })).rejects.toThrow(
      'path "out/.git/hooks/pre-commit" is in git\'s own files (.git), which steps never write to',
    );
    await expect(run({ path: 'out/dir', contents: 'x', overwrite: true })).rejects.toThrow(
      'path "out/dir" is a folder, not a file',
    );
    await expect(run({ path: 'a', contents: 'x', mode: '0644' })).rejects.toThrow(/mode/);
    await expect(run({ path: 'a' })).rejects.toThrow('config.contents: Required');
    expect(await readTree(outside.dir)).toEqual({});
  });
});
