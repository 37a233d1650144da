import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { readTree, writeTree } from '../../__testUtils__/fileTree';
import { LOOPBACK_ALLOWED } from '../../__testUtils__/loopbackHttp';
import { startTestRegistry, TestRegistry } from '../../__testUtils__/registry';
import { staticServer } from '../../__testUtils__/staticServer';
import { runStep, tempWorkDir, testFreight } from '../../__testUtils__/stepHarness';
import { DEFAULT_EGRESS_POLICY } from '../../integrations/http/egress';
import { RegistryClient } from '../../integrations/registry';
import { helmLockDigest, helmUpdateChart } from './helm-update-chart';

const PROM = 'https://prometheus-community.github.io/helm-charts';

/**
 * Chart.lock files as Helm wrote them (taken from public repositories). Their digests are
 * Helm's own, so matching them shows the step computes what `helm dependency build` checks.
 */
const LOCK_63 = [
  'dependencies:',
  '- name: kube-prometheus-stack',
  `  repository: ${PROM}`,
  '  version: 63.0.0',
  'digest: sha256:a8e6640c046915cc73a3a642938301687abbddb09e69fafb5246dadd10d530d0',
  'generated: "2024-11-15T07:24:18.666620203Z"',
  '',
].join('\n');
const DIGEST_64 = 'sha256:5383180689e2d4cd869d982f2140491de65daebbf2beda344933a277f66e90e5';

const UMBRELLA = [
  'apiVersion: v2',
  'name: monitoring',
  'version: 0.1.0',
  'dependencies:',
  '  # the upstream stack; Stagecoach promotes its version',
  '  - name: kube-prometheus-stack',
  '    version: 63.0.0 # pinned per stage',
  `    repository: ${PROM}`,
  '',
].join('\n');

// charts/prometheus of prometheus-community/helm-charts: ranges and conditions
const PROMETHEUS_DEPS = [
  ['alertmanager', '1.42.*', '1.42.0', 'alertmanager.enabled'],
  ['kube-state-metrics', '8.4.*', '8.4.0', 'kube-state-metrics.enabled'],
  ['prometheus-node-exporter', '4.56.*', '4.56.1', 'prometheus-node-exporter.enabled'],
  ['prometheus-pushgateway', '3.8.*', '3.8.0', 'prometheus-pushgateway.enabled'],
];
const PROMETHEUS_DIGEST = 'sha256:5d788dab0bb3fe083870a3ca91fe0a930bbcedda7cd202844f6afdab0a3e6d0b';
const prometheusChart = (ksmVersion = '8.4.*') =>
  [
    'apiVersion: v2',
    'name: prometheus',
    'version: 28.0.0',
    'dependencies:',
    ...PROMETHEUS_DEPS.flatMap(([name, range, , condition]) => [
      `  - name: ${name}`,
      `    version: "${name === 'kube-state-metrics' ? ksmVersion : range}"`,
      `    repository: ${PROM}`,
      `    condition: ${condition}`,
    ]),
    '',
  ].join('\n');
const prometheusLock = [
  'dependencies:',
  ...PROMETHEUS_DEPS.flatMap(([name, , locked]) => [`- name: ${name}`, `  repository: ${PROM}`, `  version: ${locked}`]),
  `digest: ${PROMETHEUS_DIGEST}`,
  'generated: "2026-08-18T19:54:25.385159732Z"',
  '',
].join('\n');

const freight = testFreight({
  artifacts: {
    commits: [],
    images: [],
    charts: [
      { repoURL: PROM, name: 'kube-prometheus-stack', version: '64.0.0' },
      { repoURL: 'oci://ghcr.io/acme/charts/api', version: '2.3.0' },
    ],
  },
});

/** Chart.lock with its `generated` time, which must be a time during the test, blanked. */
function withoutGenerated(lock: string, since: Date): string {
  const m = /^generated: "?([^"\n]+)"?$/m.exec(lock);
  expect(m).not.toBeNull();
  expect(new Date(m![1]).getTime()).toBeGreaterThanOrEqual(since.getTime());
  return lock.replace(m![0], 'generated: <now>');
}

describe('helm-update-chart', () => {
  let work: { dir: string; cleanup(): Promise<void> };
  beforeEach(async () => {
    work = await tempWorkDir();
  });
  afterEach(() => work.cleanup());
  const run = (config: unknown, f = freight) => runStep(helmUpdateChart, config, { workDir: work.dir, freight: f });
  const read = (rel: string) => fs.readFile(path.join(work.dir, rel), 'utf8');

  it("computes the digest Helm writes into Chart.lock (checked against Helm's own lock files)", () => {
    const dep = (version: string) => ({ name: 'kube-prometheus-stack', version, repository: PROM });
    expect(helmLockDigest([dep('64.0.0')], [dep('64.0.0')])).toBe(DIGEST_64);
    const chart = parse(prometheusChart()).dependencies;
    const lock = parse(prometheusLock).dependencies;
    expect(helmLockDigest(chart, lock)).toBe(PROMETHEUS_DIGEST);
  });

  it('sets the freight\'s version in Chart.yaml, keeping comments, and brings Chart.lock to the state Helm writes', async () => {
    await writeTree(work.dir, {
      'src/charts/monitoring/Chart.yaml': UMBRELLA,
      'src/charts/monitoring/Chart.lock': LOCK_63,
      'src/charts/monitoring/charts/kube-prometheus-stack-63.0.0.tgz': 'an archive of the old version',
      'src/charts/monitoring/charts/other-1.0.0.tgz': 'left alone',
    });
    const started = new Date();
    const result = await run({
      path: './src/charts/monitoring',
      charts: [{ repository: PROM, name: 'kube-prometheus-stack' }],
    });
    expect(await read('src/charts/monitoring/Chart.yaml')).toBe(UMBRELLA.replace('63.0.0 #', '64.0.0 #'));
    expect(withoutGenerated(await read('src/charts/monitoring/Chart.lock'), started)).toBe(
      [
        'dependencies:',
        '- name: kube-prometheus-stack',
        `  repository: ${PROM}`,
        '  version: 64.0.0',
        `digest: ${DIGEST_64}`,
        'generated: <now>',
        '',
      ].join('\n'),
    );
    expect(Object.keys(await readTree(path.join(work.dir, 'src/charts/monitoring/charts')))).toEqual(['other-1.0.0.tgz']);
    expect(result).toEqual({
      status: 'Succeeded',
      message:
        'updated src/charts/monitoring/Chart.yaml: kube-prometheus-stack 64.0.0; updated Chart.lock; removed charts/kube-prometheus-stack-63.0.0.tgz',
      outputs: {
        commitMessage: 'Updated chart dependencies for src/charts/monitoring\n\n- kube-prometheus-stack: 63.0.0 -> 64.0.0',
      },
    });
  });

  it('keeps the other locked versions of a chart with conditions and ranges when one dependency is pinned', async () => {
    await writeTree(work.dir, { 'prometheus/Chart.yaml': prometheusChart(), 'prometheus/Chart.lock': prometheusLock });
    const started = new Date();
    await run({ path: 'prometheus', charts: [{ repository: `${PROM}/`, name: 'kube-state-metrics', version: '8.5.1' }] });
    expect(await read('prometheus/Chart.yaml')).toBe(prometheusChart('8.5.1'));
    const lock = parse(await read('prometheus/Chart.lock'));
    expect(lock.dependencies.map((d: { version: string }) => d.version)).toEqual(['1.42.0', '8.5.1', '4.56.1', '3.8.0']);
    expect(lock.digest).toBe(helmLockDigest(parse(prometheusChart('8.5.1')).dependencies, lock.dependencies));
    expect(withoutGenerated(await read('prometheus/Chart.lock'), started)).toBe(
      prometheusLock
        .replace('  version: 8.4.0', '  version: 8.5.1')
        .replace(PROMETHEUS_DIGEST, lock.digest)
        .replace(/^generated: .*$/m, 'generated: <now>'),
    );
  });

  it('finds an OCI chart of the freight by registry URL and name, as Chart.yaml splits them', async () => {
    await writeTree(work.dir, {
      'app/Chart.yaml': [
        'apiVersion: v2',
        'name: app',
        'version: 1.0.0',
        'dependencies:',
        '  - name: api',
        '    repository: oci://ghcr.io/acme/charts',
        '    version: 2.2.0',
        '',
      ].join('\n'),
    });
    const result = await run({ path: 'app', charts: [{ repository: 'oci://ghcr.io/acme/charts', name: 'api' }] });
    expect(await read('app/Chart.yaml')).toContain('    version: 2.3.0\n');
    expect(result.message).toBe('updated app/Chart.yaml: api 2.3.0');
    expect(existsSync(path.join(work.dir, 'app/Chart.lock'))).toBe(false);
  });

  it('removes a Chart.lock it cannot bring up to date, and says why in the commit message', async () => {
    await writeTree(work.dir, {
      'stale/Chart.yaml': UMBRELLA,
      'stale/Chart.lock': LOCK_63.replace('63.0.0', '62.7.0'),
      'range/Chart.yaml': UMBRELLA,
      'range/Chart.lock': LOCK_63,
    });
    const stale = await run({ path: 'stale', charts: [{ repository: PROM, name: 'kube-prometheus-stack' }] });
    expect(existsSync(path.join(work.dir, 'stale/Chart.lock'))).toBe(false);
    expect(stale.outputs?.commitMessage).toBe(
      'Updated chart dependencies for stale\n\n- kube-prometheus-stack: 63.0.0 -> 64.0.0\n\n' +
        'Removed Chart.lock: it was already out of date with Chart.yaml (or names a repository by an alias only Helm can resolve).',
    );
    const range = await run({
      path: 'range',
      charts: [{ repository: PROM, name: 'kube-prometheus-stack', version: '^64.0.0' }],
    });
    expect(await read('range/Chart.yaml')).toContain('    version: ^64.0.0 # pinned per stage\n');
    expect(existsSync(path.join(work.dir, 'range/Chart.lock'))).toBe(false);
    expect(range.message).toBe(
      'updated range/Chart.yaml: kube-prometheus-stack ^64.0.0; removed Chart.lock: version "^64.0.0" of kube-prometheus-stack is a range, which only Helm can resolve',
    );
  });

  it('names the chart and what the freight has when the chart is not in the freight', async () => {
    await writeTree(work.dir, { 'm/Chart.yaml': UMBRELLA });
    await expect(run({ path: 'm', charts: [{ repository: PROM, name: 'kube-prometheus-stack' }] }, testFreight())).rejects.toThrow(
      `charts[0]: chart "kube-prometheus-stack" from "${PROM}" is not in the freight being promoted (brave-otter; it has no charts); set its version explicitly`,
    );
    const other = testFreight({
      artifacts: { commits: [], images: [], charts: [{ repoURL: 'oci://ghcr.io/acme/charts/api', version: '2.3.0' }] },
    });
    await expect(run({ path: 'm', charts: [{ repository: PROM, name: 'kube-prometheus-stack' }] }, other)).rejects.toThrow(
      'is not in the freight being promoted (brave-otter; its charts: oci://ghcr.io/acme/charts/api:2.3.0)',
    );
    expect(await read('m/Chart.yaml')).toBe(UMBRELLA);
  });

  it('names the dependencies Chart.yaml has when the one asked for is not among them', async () => {
    await writeTree(work.dir, { 'm/Chart.yaml': UMBRELLA, 'empty/Chart.yaml': 'apiVersion: v2\nname: x\nversion: 1.0.0\n' });
    await expect(
      run({ path: 'm', charts: [{ repository: 'https://charts.example.com', name: 'kube-prometheus-stack', version: '1.0.0' }] }),
    ).rejects.toThrow(
      `charts[0]: m/Chart.yaml has no dependency "kube-prometheus-stack" from "https://charts.example.com" (its dependencies: kube-prometheus-stack from ${PROM})`,
    );
    await expect(run({ path: 'empty', charts: [{ repository: PROM, name: 'a', version: '1.0.0' }] })).rejects.toThrow(
      'charts: empty/Chart.yaml has no dependencies',
    );
    await expect(run({ path: 'nowhere', charts: [{ repository: PROM, name: 'a', version: '1.0.0' }] })).rejects.toThrow(
      'path "nowhere" is not a Helm chart: it has no Chart.yaml',
    );
  });

  it('updates only the dependency of the alias given', async () => {
    const twice = [
      'apiVersion: v2',
      'name: app',
      'version: 1.0.0',
      'dependencies:',
      ...['blue', 'green'].flatMap(a => ['  - name: api', '    repository: oci://ghcr.io/acme/charts', '    version: 2.2.0', `    alias: api-${a}`]),
      '',
    ].join('\n');
    await writeTree(work.dir, { 'app/Chart.yaml': twice });
    await run({ path: 'app', charts: [{ repository: 'oci://ghcr.io/acme/charts', name: 'api', alias: 'api-green' }] });
    expect(parse(await read('app/Chart.yaml')).dependencies.map((d: { version: string }) => d.version)).toEqual(['2.2.0', '2.3.0']);
    await expect(
      run({ path: 'app', charts: [{ repository: 'oci://ghcr.io/acme/charts', name: 'api', alias: 'api-red', version: '1.0.0' }] }),
    ).rejects.toThrow('charts[0]: app/Chart.yaml has no dependency "api" (alias api-red) from "oci://ghcr.io/acme/charts"');
  });

  it('changes nothing, and offers no commit message, when the versions are already there', async () => {
    await writeTree(work.dir, { 'm/Chart.yaml': UMBRELLA, 'm/Chart.lock': LOCK_63 });
    const result = await run({ path: 'm', charts: [{ repository: PROM, name: 'kube-prometheus-stack', version: '63.0.0' }] });
    expect(result).toEqual({ status: 'Succeeded', message: 'm/Chart.yaml already has these versions' });
    expect(await readTree(path.join(work.dir, 'm'))).toEqual({ 'Chart.lock': LOCK_63, 'Chart.yaml': UMBRELLA });
  });
});

/** A chart packaged as `helm package` lays it out: `<name>/Chart.yaml` in a gzipped tar. */
async function packChart(dir: string, name: string, version: string): Promise<Buffer> {
  const work = await fs.mkdtemp(path.join(dir, '.pack-'));
  await fs.mkdir(path.join(work, name));
  await fs.writeFile(path.join(work, name, 'Chart.yaml'), `apiVersion: v2\nname: ${name}\nversion: ${version}\n`);
  const { stdout } = await promisify(execFile)('tar', ['-czf', '-', '-C', work, name], { encoding: 'buffer' });
  await fs.rm(work, { recursive: true });
  return stdout;
}

describe('helm-update-chart without charts (a classic repository on a loopback static server, OCI charts in a real registry)', () => {
  jest.setTimeout(60_000);
  let registry: TestRegistry;
  let repoDir: string;
  let repo: Awaited<ReturnType<typeof staticServer>>;
  let client: RegistryClient;
  let work: Awaited<ReturnType<typeof tempWorkDir>>;
  const archives: Record<string, Buffer> = {};
  const run = (config: unknown, egress = LOOPBACK_ALLOWED) =>
    runStep(helmUpdateChart, config, { workDir: work.dir, egress, registry: client });
  const read = (rel: string) => fs.readFile(path.join(work.dir, rel), 'utf8');
  const chartYaml = (deps: string[]) => ['apiVersion: v2', 'name: app', 'version: 1.0.0', 'dependencies:', ...deps, ''].join('\n');

  beforeAll(async () => {
    registry = await startTestRegistry();
    for (const v of ['2.0.9', '2.1.0', '2.1.3', '2.1.4+build.7', '2.2.0']) await registry.pushHelmChart('charts/api', 'api', v);
    repoDir = await fs.mkdtemp(path.join(os.tmpdir(), 'stagecoach-chartrepo-'));
    const entries: Record<string, string[]> = { redis: ['1.0.0', '1.2.0', '1.3.0-rc.1', '2.0.0'], web: ['0.3.0', '0.4.0'] };
    const index = ['apiVersion: v1', 'entries:'];
    for (const [name, versions] of Object.entries(entries)) {
      index.push(`  ${name}:`);
      for (const version of versions) {
        const file = `${name}-${version}.tgz`;
        archives[file] = await packChart(repoDir, name, version);
        await fs.mkdir(path.join(repoDir, 'archives'), { recursive: true });
        await fs.writeFile(path.join(repoDir, 'archives', file), archives[file]);
        // relative URLs, as `helm repo index` writes them
        index.push(
          `    - name: ${name}`,
          `      version: ${version}`,
          `      digest: ${createHash('sha256').update(archives[file]).digest('hex')}`,
          `      urls: [archives/${file}]`,
        );
      }
    }
    await fs.writeFile(path.join(repoDir, 'index.yaml'), `${index.join('\n')}\n`);
    repo = await staticServer(repoDir);
  });
  afterAll(async () => {
    repo?.close();
    await registry?.close();
    if (repoDir) await fs.rm(repoDir, { recursive: true, force: true });
  });
  beforeEach(async () => {
    work = await tempWorkDir();
    client = new RegistryClient();
  });
  afterEach(async () => {
    client.close();
    await work.cleanup();
  });

  it('locks the newest version each range allows, keeps Chart.yaml, and puts the archives in charts/ as helm dependency update does', async () => {
    const chart = chartYaml([
      '  - name: redis',
      '    version: ^1.0.0 # any 1.x',
      `    repository: ${repo.url}/`,
      '  - name: web',
      '    version: 0.3.0',
      `    repository: ${repo.url}`,
      '  - name: api',
      '    version: ~2.1.0',
      `    repository: oci://${registry.host}/charts`,
      '    alias: api-blue',
      '  - name: common',
      '    version: 1.x',
      '    repository: file://../common',
    ]);
    await writeTree(work.dir, {
      'src/app/Chart.yaml': chart,
      'src/app/charts/redis-1.0.0.tgz': 'the archive of the version locked before',
      'src/app/charts/notes.txt': 'not an archive: left alone',
      'src/common/Chart.yaml': 'apiVersion: v2\nname: common\nversion: 1.4.0\n',
    });
    const result = await run({ path: 'src/app' });

    expect(await read('src/app/Chart.yaml')).toBe(chart);
    const locked = [
      ['redis', `${repo.url}/`, '1.2.0'],
      ['web', repo.url, '0.3.0'],
      ['api', `oci://${registry.host}/charts`, '2.1.4+build.7'],
      ['common', 'file://../common', '1.4.0'],
    ].map(([name, repository, version]) => ({ name, repository, version }));
    const lockText = await read('src/app/Chart.lock');
    const lock = parse(lockText);
    expect(lock.dependencies).toEqual(locked);
    expect(lock.digest).toBe(helmLockDigest(parse(chart).dependencies, locked));
    expect(lockText).toBe(
      [
        'dependencies:',
        ...locked.flatMap(d => [`- name: ${d.name}`, `  repository: ${d.repository}`, `  version: ${d.version}`]),
        `digest: ${lock.digest}`,
        `generated: "${lock.generated}"`,
        '',
      ].join('\n'),
    );
    const charts = path.join(work.dir, 'src/app/charts');
    expect((await fs.readdir(charts)).sort()).toEqual(['api-2.1.4+build.7.tgz', 'notes.txt', 'redis-1.2.0.tgz', 'web-0.3.0.tgz']);
    expect(await fs.readFile(path.join(charts, 'redis-1.2.0.tgz'))).toEqual(archives['redis-1.2.0.tgz']);
    expect(await fs.readFile(path.join(charts, 'web-0.3.0.tgz'))).toEqual(archives['web-0.3.0.tgz']);
    const { stdout } = await promisify(execFile)('tar', ['-xzOf', path.join(charts, 'api-2.1.4+build.7.tgz'), 'api/Chart.yaml']);
    expect(stdout).toContain('version: 2.1.4+build.7');
    expect(result).toEqual({
      status: 'Succeeded',
      message:
        `locked redis 1.2.0, web 0.3.0, api 2.1.4+build.7, common 1.4.0 in src/app/Chart.lock; ` +
        'downloaded charts/redis-1.2.0.tgz, charts/web-0.3.0.tgz, charts/api-2.1.4+build.7.tgz; removed charts/redis-1.0.0.tgz',
      outputs: {
        commitMessage:
          'Updated chart dependencies for src/app\n\n- api: (not locked) -> 2.1.4+build.7\n- common: (not locked) -> 1.4.0\n' +
          '- redis: (not locked) -> 1.2.0\n- web: (not locked) -> 0.3.0',
      },
    });

    // again: the lock already holds the newest versions, and stays as it is
    const again = await run({ path: 'src/app' });
    expect(await read('src/app/Chart.lock')).toBe(lockText);
    expect(again.outputs).toBeUndefined();
    expect(again.message).toBe(
      'src/app/Chart.lock already locks the newest versions allowed: redis 1.2.0, web 0.3.0, api 2.1.4+build.7, common 1.4.0; ' +
        'downloaded charts/redis-1.2.0.tgz, charts/web-0.3.0.tgz, charts/api-2.1.4+build.7.tgz',
    );

    // the repository moves on: the lock follows, naming the versions it held
    await registry.pushHelmChart('charts/api', 'api', '2.1.5');
    const moved = await run({ path: 'src/app' });
    expect(parse(await read('src/app/Chart.lock')).dependencies[2].version).toBe('2.1.5');
    expect((await fs.readdir(charts)).sort()).toEqual(['api-2.1.5.tgz', 'notes.txt', 'redis-1.2.0.tgz', 'web-0.3.0.tgz']);
    expect(moved.outputs?.commitMessage).toBe('Updated chart dependencies for src/app\n\n- api: 2.1.4+build.7 -> 2.1.5');
  });

  it('names the dependency and what its repository offers when nothing satisfies its range, and changes nothing', async () => {
    const lock = 'dependencies: []\ndigest: sha256:0\ngenerated: "2026-01-01T00:00:00Z"\n';
    const tree = (deps: string[]) => ({ 'app/Chart.yaml': chartYaml(deps), 'app/Chart.lock': lock, 'app/charts/keep-1.0.0.tgz': 'x' });
    const redis = ['  - name: redis', '    version: ^1.0.0', `    repository: ${repo.url}`];

    await writeTree(work.dir, tree([...redis, '  - name: redis', '    version: ">=3.0.0"', `    repository: ${repo.url}`, '    alias: next']));
    await expect(run({ path: 'app' })).rejects.toThrow(
      `app/Chart.yaml dependencies[1] (redis, alias next): no version of chart "redis" in ${repo.url} satisfies ">=3.0.0" ` +
        '(its versions: 2.0.0, 1.3.0-rc.1, 1.2.0, 1.0.0)',
    );

    await writeTree(work.dir, tree([...redis, '  - name: api', '    version: ^3.0.0', `    repository: oci://${registry.host}/charts`]));
    await expect(run({ path: 'app' })).rejects.toThrow(
      `app/Chart.yaml dependencies[1] (api): no version of ${registry.host}/charts/api satisfies "^3.0.0" ` +
        '(its versions: 2.2.0, 2.1.5, 2.1.4+build.7, 2.1.3, 2.1.0, 2.0.9)',
    );
    await writeTree(work.dir, tree(['  - name: cache', '    version: 1.0.0', `    repository: ${repo.url}`]));
    await expect(run({ path: 'app' })).rejects.toThrow(
      `app/Chart.yaml dependencies[0] (cache): chart repository ${repo.url} has no chart named "cache" (it has: redis, web)`,
    );
    await writeTree(work.dir, tree(['  - name: redis', '    version: 1.0.0', '    repository: "@stable"']));
    await expect(run({ path: 'app' })).rejects.toThrow(
      'app/Chart.yaml dependencies[0] (redis): repository "@stable" names a Helm repository by its local name',
    );
    await writeTree(work.dir, tree(['  - name: redis', '    version: latest', `    repository: ${repo.url}`]));
    await expect(run({ path: 'app' })).rejects.toThrow(
      'app/Chart.yaml dependencies[0] (redis): version "latest" is not a version or a semver range',
    );
    expect(await read('app/Chart.lock')).toBe(lock);
    expect(await fs.readdir(path.join(work.dir, 'app/charts'))).toEqual(['keep-1.0.0.tgz']);
  });

  it('asks chart repositories only what the egress policy allows', async () => {
    await writeTree(work.dir, { 'app/Chart.yaml': chartYaml(['  - name: redis', '    version: ^1.0.0', `    repository: ${repo.url}`]) });
    await expect(run({ path: 'app' })).resolves.toMatchObject({ status: 'Succeeded' });
    await expect(run({ path: 'app' }, DEFAULT_EGRESS_POLICY)).rejects.toThrow(/127\.0\.0\.1/);
  });

  it('succeeds with nothing to do when Chart.yaml has no dependencies', async () => {
    await writeTree(work.dir, { 'app/Chart.yaml': 'apiVersion: v2\nname: app\nversion: 1.0.0\n' });
    expect(await run({ path: 'app' })).toEqual({ status: 'Succeeded', message: 'app/Chart.yaml has no dependencies: nothing to update' });
    expect(existsSync(path.join(work.dir, 'app/Chart.lock'))).toBe(false);
  });
});
