import fs from 'node:fs/promises';
import path from 'node:path';
import { parse } from 'yaml';
import { writeTree } from '../../__testUtils__/fileTree';
import { runStep, tempWorkDir } from '../../__testUtils__/stepHarness';
import { yamlMerge } from './yaml-merge';

describe('yaml-merge', () => {
  let work: { dir: string; cleanup(): Promise<void> };
  beforeEach(async () => {
    work = await tempWorkDir();
    await writeTree(work.dir, {
      'src/base.yaml': [
        '# shared by every stage',
        'image:',
        '  repository: ghcr.io/acme/app # where CI pushes',
        '  tag: v1.0.0',
        'replicas: 1',
        'debug: true',
        'args: [--serve, --verbose]',
        'containers:',
        '  - name: app',
        '    cpu: 100m',
        '  - name: sidecar',
        '    cpu: 10m',
        '',
      ].join('\n'),
      'src/prod.yaml': [
        'image:',
        '  tag: v1.2.0',
        'replicas: 3 # prod needs more',
        'debug: null',
        'args: [--serve]',
        'containers:',
        '  - name: app',
        '    cpu: 500m',
        '  - name: metrics',
        '    cpu: 20m',
        '',
      ].join('\n'),
      'src/region.yaml': 'region: eu-west-1\nreplicas: 4\n',
    });
  });
  afterEach(() => work.cleanup());
  const run = (config: unknown) => runStep(yamlMerge, config, { workDir: work.dir });
  const read = (rel: string) => fs.readFile(path.join(work.dir, rel), 'utf8');

  it('deep-merges the files in order, later ones winning, and keeps comments', async () => {
    const result = await run({
      inFiles: ['./src/base.yaml', './src/prod.yaml', './src/region.yaml'],
      outFile: './out/values.yaml',
    });
    const text = await read('out/values.yaml');
    expect(parse(text)).toEqual({
      image: { repository: 'ghcr.io/acme/app', tag: 'v1.2.0' },
      replicas: 4,
      args: ['--serve'],
      // items with a name merge one by one; new ones come last
      containers: [
        { name: 'app', cpu: '500m' },
        { name: 'sidecar', cpu: '10m' },
        { name: 'metrics', cpu: '20m' },
      ],
      region: 'eu-west-1',
    });
    expect(text).toContain('# shared by every stage');
    expect(text).toContain('repository: ghcr.io/acme/app # where CI pushes');
    expect(result).toEqual({
      status: 'Succeeded',
      message: 'merged ./src/base.yaml, ./src/prod.yaml, ./src/region.yaml into ./out/values.yaml',
      outputs: {
        commitMessage: [
          'Merged 3 YAML files to ./out/values.yaml',
          '- ./src/base.yaml',
          '- ./src/prod.yaml',
          '- ./src/region.yaml',
        ].join('\n'),
      },
    });
  });

  it('writes one file through unchanged', async () => {
    const result = await run({ inFiles: ['src/region.yaml'], outFile: 'out/values.yaml' });
    expect(await read('out/values.yaml')).toBe('region: eu-west-1\nreplicas: 4\n');
    expect(result.outputs).toEqual({ commitMessage: 'Wrote src/region.yaml to out/values.yaml' });
  });

  it('merges files that use anchors and aliases by value', async () => {
    await writeTree(work.dir, { 'src/anchors.yaml': 'defaults: &d {cpu: 1m}\nimage:\n  limits: *d\n' });
    await run({ inFiles: ['src/base.yaml', 'src/anchors.yaml'], outFile: 'out.yaml' });
    expect(parse(await read('out.yaml')).image).toEqual({ repository: 'ghcr.io/acme/app', tag: 'v1.0.0', limits: { cpu: '1m' } });
  });

  it('fails on a missing input unless ignoreMissingFiles is set', async () => {
    await expect(run({ inFiles: ['src/base.yaml', 'src/staging.yaml'], outFile: 'out.yaml' })).rejects.toThrow(
      'inFiles[1] "src/staging.yaml" does not exist',
    );
    await expect(fs.stat(path.join(work.dir, 'out.yaml'))).rejects.toThrow(/ENOENT/);

    const result = await run({
      inFiles: ['src/staging.yaml', 'src/region.yaml'],
      outFile: 'out.yaml',
      ignoreMissingFiles: true,
    });
    expect(result.outputs).toEqual({ commitMessage: 'Wrote src/region.yaml to out.yaml' });
  });

  it('writes an empty file when no input is there', async () => {
    const result = await run({ inFiles: ['a.yaml', 'b.yaml'], outFile: 'out/empty.yaml', ignoreMissingFiles: true });
    expect(await read('out/empty.yaml')).toBe('');
    expect(result).toEqual({ status: 'Succeeded', message: 'no input files: wrote an empty out/empty.yaml' });
  });

  it('names the file that is not valid YAML, and refuses paths outside the work directory', async () => {
    await writeTree(work.dir, { 'src/bad.yaml': 'a: [1, 2\n' });
    await expect(run({ inFiles: ['src/base.yaml', 'src/bad.yaml'], outFile: 'out.yaml' })).rejects.toThrow(
      /^"src\/bad\.yaml" is not valid YAML: /,
    );
    await expect(run({ inFiles: ['../base.yaml'], outFile: 'out.yaml' })).rejects.toThrow(
      'inFiles[0] "../base.yaml" leaves the promotion\'s work directory',
    );
    await expect(run({ inFiles: ['src/base.yaml'], outFile: '/tmp/out.yaml' })).rejects.toThrow(
      'outFile "/tmp/out.yaml" must be relative to the promotion\'s work directory',
    );
    await expect(run({ inFiles: ['src/base.yaml'], outFile: 'out.yaml', strategy: 'replace' })).rejects.toThrow(
      /strategy/,
    );
  });
});
