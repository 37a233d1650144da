import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { readTree, writeTree } from '../../__testUtils__/fileTree';
import { runStep, tempWorkDir } from '../../__testUtils__/stepHarness';
import { HELM_MISSING, helmTemplate } from './helm-template';

const CHART = {
  'src/charts/app/Chart.yaml': [
    'apiVersion: v2',
    'name: app',
    'version: 0.1.0',
    'dependencies:',
    '- name: redis',
    '  repository: https://charts.example.com/stable/',
    '  version: 19.0.0',
    '- name: postgresql',
    '  repository: https://charts.example.com/stable',
    '  version: 15.0.0',
    '- name: api',
    '  repository: oci://ghcr.io/acme/charts',
    '  version: 2.3.0',
    '',
  ].join('\n'),
  'src/charts/app/templates/service.yaml': 'kind: Service\n',
  'src/env/dev/values.yaml': 'replicas: 2\n',
};

// What `helm template` prints: documents headed by their template, some rendering to nothing.
const RENDERED = [
  '---',
  '# Source: app/templates/service.yaml',
  'apiVersion: v1',
  'kind: Service',
  'metadata:',
  '  name: web',
  '---',
  '# Source: app/templates/deployment.yaml',
  'apiVersion: apps/v1',
  'kind: Deployment',
  'metadata:',
  '  name: web',
  '  namespace: dev',
  '---',
  '# Source: app/templates/empty.yaml',
  '---',
  '# Source: app/templates/tests/connection.yaml',
  'apiVersion: v1',
  'kind: Pod',
  'metadata:',
  '  name: web-test',
  '  annotations:',
  '    "helm.sh/hook": test',
  '',
].join('\n');

describe('helm-template', () => {
  let work: { dir: string; cleanup(): Promise<void> };
  let record: string;
  const originalPath = process.env.PATH;
  beforeEach(async () => {
    work = await tempWorkDir();
    record = path.join(work.dir, 'helm-calls.txt');
    await writeTree(work.dir, CHART);
  });
  afterEach(async () => {
    process.env.PATH = originalPath;
    await work.cleanup();
  });
  const run = (config: unknown) => runStep(helmTemplate, config, { workDir: work.dir, project: 'shop' });
  const chart = () => path.join(work.dir, 'src/charts/app');

  /**
   * A stand-in for the helm CLI, alone on the PATH: it records each call's arguments (and,
   * for `dependency build`, the repositories.yaml and Helm home it was given), then prints
   * what `helm template` would.
   */
  async function recordingHelm(behaviour: { stdout?: string; stderr?: string; exitCode?: number } = {}) {
    const bin = path.join(work.dir, 'bin');
    const script = [
      '#!/bin/sh',
      `{ printf '%s\\n' '==call=='; for a in "$@"; do printf '%s\\n' "$a"; done; } >> '${record}'`,
      'if [ "$1" = dependency ]; then',
      `  printf 'home %s\\n' "$HELM_CONFIG_HOME" >> '${record}'`,
      `  while IFS= read -r line; do printf '%s\\n' "$line"; done < "$HELM_REPOSITORY_CONFIG" >> '${record}'`,
      '  exit 0',
      'fi',
      behaviour.stderr ? `printf '%s\\n' '${behaviour.stderr}' >&2` : '',
      `printf '%s' '${behaviour.stdout ?? RENDERED}'`,
      `exit ${behaviour.exitCode ?? 0}`,
      '',
    ].join('\n');
    await writeTree(work.dir, { 'bin/helm': script });
    await fs.chmod(path.join(bin, 'helm'), 0o755);
    process.env.PATH = bin;
  }
  const calls = async () => (await fs.readFile(record, 'utf8')).split('==call==\n').filter(Boolean).map(c => c.trimEnd().split('\n'));

  it('fails saying to install Helm when no helm is on the PATH (a real PATH without helm)', async () => {
    process.env.PATH = path.join(work.dir, 'src'); // a folder with no executables
    const result = await run({ path: 'src/charts/app', outPath: 'out/app.yaml', releaseName: 'web' });
    expect(result).toEqual({ status: 'Failed', message: HELM_MISSING });
    expect(result.message).toMatch(/^helm-template needs the helm CLI on the backend's PATH: install Helm 3 /);
    expect(existsSync(path.join(work.dir, 'out'))).toBe(false);
  });

  it('passes every option as helm template flags and writes the output to a file (with a recording stand-in for the helm CLI)', async () => {
    await recordingHelm();
    const result = await run({
      path: './src/charts/app',
      outPath: './out/dev/app.yaml',
      releaseName: 'web',
      valuesFiles: ['src/env/dev/values.yaml', 'src/env/dev/optional.yaml'],
      ignoreMissingValueFiles: true,
      setValues: [
        { key: 'image.tag', value: 1.2 },
        { key: 'note', value: 'a,b', literal: true },
      ],
      includeCRDs: true,
      disableHooks: true,
      skipTests: true,
      kubeVersion: '1.29.0',
      apiVersions: ['monitoring.coreos.com/v1', 'batch/v1'],
    });
    expect(await calls()).toEqual([
      [
        'template',
        '--namespace=shop',
        `--values=${path.join(work.dir, 'src/env/dev/values.yaml')}`,
        '--set=image.tag=1.2',
        '--set-literal=note=a,b',
        '--include-crds',
        '--no-hooks',
        '--skip-tests',
        '--kube-version=1.29.0',
        '--api-versions=monitoring.coreos.com/v1',
        '--api-versions=batch/v1',
        '--',
        'web',
        chart(),
      ],
    ]);
    expect(await fs.readFile(path.join(work.dir, 'out/dev/app.yaml'), 'utf8')).toBe(`${RENDERED.trim()}\n`);
    expect(result).toEqual({
      status: 'Succeeded',
      message: 'rendered ./src/charts/app as release "web" into ./out/dev/app.yaml',
    });
  });

  it('writes one file per resource with outLayout: flat, named [group-]kind[-namespace]-name.yaml', async () => {
    await recordingHelm();
    const result = await run({ path: 'src/charts/app', outPath: 'out/app', outLayout: 'flat', releaseName: 'web', namespace: 'dev' });
    expect((await calls())[0]).toEqual(['template', '--namespace=dev', '--', 'web', chart()]);
    expect(await readTree(path.join(work.dir, 'out/app'))).toEqual({
      'apps-deployment-dev-web.yaml':
        '# Source: app/templates/deployment.yaml\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: dev\n',
      'pod-web-test.yaml':
        '# Source: app/templates/tests/connection.yaml\napiVersion: v1\nkind: Pod\nmetadata:\n  name: web-test\n  annotations:\n    "helm.sh/hook": test\n',
      'service-web.yaml': '# Source: app/templates/service.yaml\napiVersion: v1\nkind: Service\nmetadata:\n  name: web\n',
    });
    expect(result.message).toBe('rendered src/charts/app as release "web" into out/app (3 files)');
  });

  it("lets helm write its own layout into a folder (--output-dir, and --release-name with useReleaseName)", async () => {
    await recordingHelm({ stdout: 'wrote out/app/app/templates/service.yaml\n' });
    await run({ path: 'src/charts/app', outPath: 'out/app', releaseName: 'web', useReleaseName: true });
    expect((await calls())[0].slice(-5)).toEqual([
      `--output-dir=${path.join(work.dir, 'out/app')}`,
      '--release-name',
      '--',
      'web',
      chart(),
    ]);
    expect(existsSync(path.join(work.dir, 'out'))).toBe(false); // the stand-in wrote nothing, and neither did the step
  });

  it("builds dependencies first, telling helm the chart's repositories in a Helm home of the run's own", async () => {
    await recordingHelm();
    await run({ path: 'src/charts/app', outPath: 'out/app.yaml', releaseName: 'web', buildDependencies: true });
    const [build, template] = await calls();
    const home = build.find(l => l.startsWith('home '))!.slice('home '.length);
    expect(build).toEqual([
      'dependency',
      'build',
      '--',
      chart(),
      `home ${home}`,
      'apiVersion: ""',
      'repositories:',
      '- name: stagecoach-1',
      '  url: "https://charts.example.com/stable"',
    ]);
    expect(path.relative(os.tmpdir(), home).startsWith('..')).toBe(false);
    expect(home.startsWith(work.dir)).toBe(false);
    expect(existsSync(home)).toBe(false); // removed after the run
    expect(template[0]).toBe('template');
  });

  it('says what helm said when rendering fails', async () => {
    await recordingHelm({
      stdout: '',
      stderr: 'Error: template: app/templates/service.yaml:3:11: executing "app/templates/service.yaml" at <.Values.x.y>: nil pointer',
      exitCode: 1,
    });
    await expect(run({ path: 'src/charts/app', outPath: 'out/app.yaml', releaseName: 'web' })).rejects.toThrow(
      'helm template failed (exit code 1): Error: template: app/templates/service.yaml:3:11: executing "app/templates/service.yaml" at <.Values.x.y>: nil pointer',
    );
    expect(existsSync(path.join(work.dir, 'out'))).toBe(false);
  });

  it('refuses a missing values file, paths outside the work directory and a folder that is not a chart', async () => {
    await recordingHelm();
    await expect(
      run({ path: 'src/charts/app', outPath: 'out/a.yaml', releaseName: 'web', valuesFiles: ['src/env/prod/values.yaml'] }),
    ).rejects.toThrow(
      'valuesFiles[0] "src/env/prod/values.yaml" does not exist (set ignoreMissingValueFiles: true to skip missing ones)',
    );
    await expect(
      run({ path: 'src/charts/app', outPath: 'out/a.yaml', releaseName: 'web', valuesFiles: ['../../etc/passwd'] }),
    ).rejects.toThrow('valuesFiles[0] "../../etc/passwd" leaves the promotion\'s work directory');
    await expect(run({ path: 'src/charts/app', outPath: '/tmp/a.yaml', releaseName: 'web' })).rejects.toThrow(
      'outPath "/tmp/a.yaml" must be relative to the promotion\'s work directory',
    );
    await expect(run({ path: 'src/env', outPath: 'out/a.yaml', releaseName: 'web' })).rejects.toThrow(
      'path "src/env" is not a Helm chart: it has no Chart.yaml',
    );
    await expect(run({ path: 'src/charts/app', outPath: 'out/a.yaml' })).rejects.toThrow('config.releaseName: Required');
    expect(existsSync(record)).toBe(false); // helm never ran
  });
});
