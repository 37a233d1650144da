import fs from 'node:fs/promises';
import path from 'node:path';
import { writeTree } from '../../__testUtils__/fileTree';
import { runStep, tempWorkDir } from '../../__testUtils__/stepHarness';
import { jsonUpdate } from './json-update';

describe('json-update', () => {
  let work: { dir: string; cleanup(): Promise<void> };
  beforeEach(async () => {
    work = await tempWorkDir();
  });
  afterEach(() => work.cleanup());
  const run = (config: unknown) => runStep(jsonUpdate, config, { workDir: work.dir });
  const read = (rel: string) => fs.readFile(path.join(work.dir, rel), 'utf8');

  it('sets values by key path and leaves the rest of the text as it was', async () => {
    await writeTree(work.dir, {
      'out/config.json': [
        '{',
        '    // the image this stage runs',
        '    "image": {"repository": "ghcr.io/acme/app", "tag": "v1.0.0"},',
        '    "ports": [80, 443],',
        '    "example.com/owner": "nobody"',
        '}',
        '',
      ].join('\n'),
    });
    const result = await run({
      path: './out/config.json',
      updates: [
        { key: 'image.tag', value: 'v1.2.0' },
        { key: 'ports.1', value: 8443 },
        { key: 'example\\.com/owner', value: 'team-a' },
        { key: 'resources.limits', value: { cpu: '500m' } },
      ],
    });
    expect(await read('out/config.json')).toBe(
      [
        '{',
        '    // the image this stage runs',
        '    "image": {"repository": "ghcr.io/acme/app", "tag": "v1.2.0"},',
        '    "ports": [80, 8443],',
        '    "example.com/owner": "team-a",',
        '    "resources": {',
        '        "limits": {',
        '            "cpu": "500m"',
        '        }',
        '    }',
        '}',
        '',
      ].join('\n'),
    );
    expect(result).toEqual({
      status: 'Succeeded',
      message: 'updated ./out/config.json: image.tag, ports.1, example\\.com/owner, resources.limits',
      outputs: {
        commitMessage: [
          'Updated ./out/config.json',
          '',
          '- image.tag: "v1.2.0"',
          '- ports.1: 8443',
          '- example\\.com/owner: "team-a"',
          '- resources.limits: {"cpu":"500m"}',
        ].join('\n'),
      },
    });
  });

  it('appends to a list with -1 and keeps tab indentation', async () => {
    await writeTree(work.dir, { 'a.json': '{\n\t"hosts": [\n\t\t"a.example.com"\n\t]\n}\n' });
    await run({ path: 'a.json', updates: [{ key: 'hosts.-1', value: 'b.example.com' }] });
    expect(await read('a.json')).toBe('{\n\t"hosts": [\n\t\t"a.example.com",\n\t\t"b.example.com"\n\t]\n}\n');
  });

  it('fills an empty file', async () => {
    await writeTree(work.dir, { 'a.json': '' });
    await run({ path: 'a.json', updates: [{ key: 'image.tag', value: 'v1' }] });
    expect(JSON.parse(await read('a.json'))).toEqual({ image: { tag: 'v1' } });
    expect(await read('a.json')).toBe('{\n  "image": {\n    "tag": "v1"\n  }\n}\n');
  });

  it('names the file and the position when the file is not JSON', async () => {
    await writeTree(work.dir, { 'bad.json': '{\n  "a": 1,\n  "b": \n}\n' });
    await expect(run({ path: 'bad.json', updates: [{ key: 'a', value: 2 }] })).rejects.toThrow(
      '"bad.json" is not valid JSON: value expected at line 4, column 1',
    );
  });

  it('says which key cannot be set, and why', async () => {
    await writeTree(work.dir, { 'a.json': '{"tag": "v1", "list": [1, 2]}' });
    await expect(run({ path: 'a.json', updates: [{ key: 'tag.major', value: 1 }] })).rejects.toThrow(
      'updates[0].key "tag.major": "tag" is a string, not an object or a list',
    );
    await expect(
      run({ path: 'a.json', updates: [{ key: 'tag', value: 'v2' }, { key: 'list.5', value: 3 }] }),
    ).rejects.toThrow('updates[1].key "list.5": "list" is a list of 2 items, so "5" must be an index from 0 to 1 (or -1 to append)');
    await expect(run({ path: 'a.json', updates: [{ key: 'a..b', value: 1 }] })).rejects.toThrow(
      'key "a..b" has an empty segment',
    );
    // nothing was written by the failed runs
    expect(await read('a.json')).toBe('{"tag": "v1", "list": [1, 2]}');
  });

  it('refuses a missing file, a path outside the work directory and a missing value', async () => {
    await expect(run({ path: 'nope.json', updates: [{ key: 'a', value: 1 }] })).rejects.toThrow(
      'path "nope.json" does not exist',
    );
    await expect(run({ path: '../x.json', updates: [{ key: 'a', value: 1 }] })).rejects.toThrow(
      'path "../x.json" leaves the promotion\'s work directory',
    );
    await expect(run({ path: 'a.json', updates: [{ key: 'a' }] })).rejects.toThrow('config.updates.0.value: is required');
    await expect(run({ path: 'a.json', updates: [] })).rejects.toThrow('needs at least one update');
  });
});
