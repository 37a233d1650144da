import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { readTree, writeTree } from '../../__testUtils__/fileTree';
import { runStep, tempWorkDir } from '../../__testUtils__/stepHarness';
import { KUSTOMIZE_MISSING, kustomizeBuild } from './kustomize-build';

/**
 * The real kubectl from Debian's kubernetes-client (1.20, kustomize v2.0.3 built in), which
 * `./stagecoachw test` unpacks into .toolchain/ and names in STAGECOACH_TEST_KUBECTL.
 */
const repoRoot = path.resolve(__dirname, '../../../../..');
const kubectl =
  process.env.STAGECOACH_TEST_KUBECTL ?? path.join(repoRoot, '.toolchain/kubernetes-client/usr/bin/kubectl');

const BASE = {
  'src/base/kustomization.yaml': 'resources:\n- deployment.yaml\n- service.yaml\n',
  'src/base/deployment.yaml': [
    'apiVersion: apps/v1',
    'kind: Deployment',
    'metadata:',
    '  name: web',
    'spec:',
    '  template:',
    '    spec:',
    '      containers:',
    '      - name: web',
    '        image: ghcr.io/acme/web:1.0.0',
    '',
  ].join('\n'),
  'src/base/service.yaml': 'apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  ports:\n  - port: 80\n',
  // kustomize v2 takes folders as `bases`; later versions accept them in `resources` too
  'src/overlays/dev/kustomization.yaml': [
    'namespace: dev',
    'namePrefix: dev-',
    'bases:',
    '- ../../base',
    'images:',
    '- name: ghcr.io/acme/web',
    '  newTag: 1.2.0',
    '',
  ].join('\n'),
};

const SERVICE = [
  'apiVersion: v1',
  'kind: Service',
  'metadata:',
  '  name: dev-web',
  '  namespace: dev',
  'spec:',
  '  ports:',
  '  - port: 80',
  '',
].join('\n');
const DEPLOYMENT = [
  'apiVersion: apps/v1',
  'kind: Deployment',
  'metadata:',
  '  name: dev-web',
  '  namespace: dev',
  'spec:',
  '  template:',
  '    spec:',
  '      containers:',
  '      - image: ghcr.io/acme/web:1.2.0',
  '        name: web',
  '',
].join('\n');

describe('kustomize-build', () => {
  let work: { dir: string; cleanup(): Promise<void> };
  const originalPath = process.env.PATH;
  beforeAll(() => {
    if (!existsSync(kubectl)) {
      throw new Error(`no kubectl at ${kubectl}: run ./stagecoachw test once, which fetches Debian's kubernetes-client`);
    }
  });
  beforeEach(async () => {
    work = await tempWorkDir();
    // only the toolchain's kubectl: no kustomize, and not the machine's own kubectl
    process.env.PATH = path.dirname(kubectl);
  });
  afterEach(async () => {
    process.env.PATH = originalPath;
    await work.cleanup();
  });
  const run = (config: unknown) => runStep(kustomizeBuild, config, { workDir: work.dir });

  it('renders an overlay of a base into one file with the real kubectl kustomize', async () => {
    await writeTree(work.dir, BASE);
    const result = await run({ path: './src/overlays/dev', outPath: './out/dev/manifests.yaml' });
    expect(await fs.readFile(path.join(work.dir, 'out/dev/manifests.yaml'), 'utf8')).toBe(
      `${SERVICE}---\n${DEPLOYMENT}`,
    );
    expect(result).toEqual({
      status: 'Succeeded',
      message: 'rendered 2 resources from ./src/overlays/dev into ./out/dev/manifests.yaml (kubectl kustomize)',
    });
  });

  it('writes one file per resource into a folder, named [namespace-]kind-name.yaml by default', async () => {
    await writeTree(work.dir, BASE);
    await run({ path: 'src/overlays/dev', outPath: 'out/dev' });
    expect(await readTree(path.join(work.dir, 'out'))).toEqual({
      'dev/dev-deployment-dev-web.yaml': DEPLOYMENT,
      'dev/dev-service-dev-web.yaml': SERVICE,
    });
  });

  it("names files as `kustomize build -o` does with outputFormat: kustomize, namespaces only when there are several", async () => {
    await writeTree(work.dir, BASE);
    await run({ path: 'src/overlays/dev', outPath: 'out/one', outputFormat: 'kustomize' });
    expect(Object.keys(await readTree(path.join(work.dir, 'out/one')))).toEqual([
      'apps_v1_deployment_dev-web.yaml',
      'v1_service_dev-web.yaml',
    ]);

    await writeTree(work.dir, {
      'src/many/kustomization.yaml': 'resources:\n- all.yaml\n',
      'src/many/all.yaml': [
        'apiVersion: v1',
        'kind: Namespace',
        'metadata:',
        '  name: team-a',
        '---',
        'apiVersion: v1',
        'kind: ConfigMap',
        'metadata:',
        '  name: settings',
        '  namespace: team-a',
        '---',
        'apiVersion: v1',
        'kind: ConfigMap',
        'metadata:',
        '  name: settings',
        '  namespace: team-b',
        '',
      ].join('\n'),
    });
    await run({ path: 'src/many', outPath: 'out/many', outputFormat: 'kustomize' });
    expect(await readTree(path.join(work.dir, 'out/many'))).toEqual({
      'team-a_v1_configmap_settings.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: team-a\n',
      'team-b_v1_configmap_settings.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: team-b\n',
      'v1_namespace_team-a.yaml': 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: team-a\n',
    });
  });

  it("says what kustomize said when the kustomization cannot be built", async () => {
    await writeTree(work.dir, { 'src/broken/kustomization.yaml': 'resources:\n- missing.yaml\n' });
    await expect(run({ path: 'src/broken', outPath: 'out/x.yaml' })).rejects.toThrow(
      /^kubectl kustomize failed \(exit code 1\): Error: .*missing\.yaml/,
    );
    expect(existsSync(path.join(work.dir, 'out'))).toBe(false);
  });

  it('refuses Helm options this kustomize (v2.0.3) cannot honour, naming the field', async () => {
    await writeTree(work.dir, BASE);
    await expect(
      run({ path: 'src/overlays/dev', outPath: 'out/x.yaml', plugin: { helm: { kubeVersion: '1.29.0' } } }),
    ).rejects.toThrow(
      `plugin.helm.kubeVersion needs a kustomize with --helm-kube-version (kustomize v5.3 or later); ${kubectl} has no such flag`,
    );
  });

  it('fails saying what to install when neither kustomize nor kubectl is on the PATH', async () => {
    await writeTree(work.dir, BASE);
    process.env.PATH = path.join(work.dir, 'src'); // a folder with no executables
    expect(await run({ path: 'src/overlays/dev', outPath: 'out/x.yaml' })).toEqual({
      status: 'Failed',
      message: KUSTOMIZE_MISSING,
    });
    expect(KUSTOMIZE_MISSING).toBe(
      "kustomize-build needs kustomize on the backend's PATH: install kustomize " +
        '(https://kubectl.docs.kubernetes.io/installation/kustomize/) or kubectl, which has it built in as `kubectl kustomize`',
    );
  });

  it('prefers a kustomize binary and passes the Helm flags it supports (with a recording stand-in for the kustomize CLI)', async () => {
    await writeTree(work.dir, BASE);
    const bin = path.join(work.dir, 'bin');
    const record = path.join(work.dir, 'args.txt');
    await writeTree(work.dir, {
      'bin/kustomize': [
        '#!/bin/sh',
        'case "$*" in *--help*)',
        "  printf '      --enable-helm\\n      --helm-api-versions strings\\n      --helm-kube-version string\\n'; exit 0;;",
        'esac',
        `for a in "$@"; do printf '%s\\n' "$a"; done > '${record}'`,
        "printf 'apiVersion: v1\\nkind: ConfigMap\\nmetadata:\\n  name: from-stand-in\\n'",
        '',
      ].join('\n'),
    });
    await fs.chmod(path.join(bin, 'kustomize'), 0o755);
    process.env.PATH = `${bin}${path.delimiter}${path.dirname(kubectl)}`;
    const result = await run({
      path: 'src/overlays/dev',
      outPath: 'out',
      plugin: { helm: { kubeVersion: '1.29.0', apiVersions: ['monitoring.coreos.com/v1', 'batch/v1'] } },
    });
    expect((await fs.readFile(record, 'utf8')).split('\n')).toEqual([
      'build',
      '--enable-helm',
      '--helm-kube-version=1.29.0',
      '--helm-api-versions=monitoring.coreos.com/v1',
      '--helm-api-versions=batch/v1',
      '--',
      path.join(work.dir, 'src/overlays/dev'),
      '',
    ]);
    expect(await readTree(path.join(work.dir, 'out'))).toEqual({
      'configmap-from-stand-in.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: from-stand-in\n',
    });
    expect(result.message).toBe('rendered 1 resource from src/overlays/dev into out (kustomize build)');
  });

  it('refuses paths outside the work directory and a folder without a kustomization', async () => {
    await writeTree(work.dir, BASE);
    await expect(run({ path: 'src/overlays/dev', outPath: '../elsewhere' })).rejects.toThrow(
      'outPath "../elsewhere" leaves the promotion\'s work directory',
    );
    await expect(run({ path: '/etc', outPath: 'out' })).rejects.toThrow(
      'path "/etc" must be relative to the promotion\'s work directory',
    );
    await expect(run({ path: 'src', outPath: 'out' })).rejects.toThrow(
      'path "src" has no kustomization.yaml, kustomization.yml, Kustomization',
    );
    await expect(run({ path: 'src/base', outPath: 'out', outputFormat: 'helm' })).rejects.toThrow(
      "config.outputFormat: Invalid enum value. Expected 'kargo' | 'kustomize', received 'helm'",
    );
  });
});

describe('kustomize-build keeps a kustomization in the work directory (real kubectl kustomize)', () => {
  let work: { dir: string; cleanup(): Promise<void> };
  /** A folder of the backend beside the work directory: another promotion's checkout, say. */
  let outside: string;
  const originalPath = process.env.PATH;
  const SECRET = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: other-team\ndata:\n  token: TOPSECRET\n';
  beforeEach(async () => {
    work = await tempWorkDir();
    process.env.PATH = path.dirname(kubectl);
    outside = path.join(path.dirname(work.dir), 'outside');
    await writeTree(outside, { 'kustomization.yaml': 'resources:\n- secret.yaml\n', 'secret.yaml': SECRET });
  });
  afterEach(async () => {
    process.env.PATH = originalPath;
    await work.cleanup();
  });
  const build = async (tree: Record<string, string>) => {
    await writeTree(work.dir, tree);
    return runStep(kustomizeBuild, { path: 'app', outPath: 'out.yaml' }, { workDir: work.dir });
  };
  const nothingRendered = async () => expect(existsSync(path.join(work.dir, 'out.yaml'))).toBe(false);

  it('refuses a base that leads out of the work directory (../../outside), and renders none of it', async () => {
    await expect(build({ 'app/kustomization.yaml': 'bases:\n- ../../outside\n' })).rejects.toThrow(
      'app/kustomization.yaml: bases[0] "../../outside" leaves the promotion\'s work directory',
    );
    await nothingRendered();
  });

  it('refuses the same as an absolute path in resources, and deeper down the tree, naming the file', async () => {
    await expect(build({ 'app/kustomization.yaml': `resources:\n- ${outside}\n` })).rejects.toThrow(
      `app/kustomization.yaml: resources[0] "${outside}" leaves the promotion's work directory`,
    );
    await fs.rm(path.join(work.dir, 'app'), { recursive: true });
    await expect(
      build({ 'app/kustomization.yaml': 'bases:\n- ../base\n', 'base/kustomization.yaml': 'bases:\n- ../../outside\n' }),
    ).rejects.toThrow('base/kustomization.yaml: bases[0] "../../outside" leaves the promotion\'s work directory');
    await nothingRendered();
  });

  it('refuses a base reached through a symbolic link that leads outside', async () => {
    await writeTree(work.dir, { 'app/kustomization.yaml': 'bases:\n- ./vendored\n' });
    await fs.symlink(outside, path.join(work.dir, 'app/vendored'));
    await expect(runStep(kustomizeBuild, { path: 'app', outPath: 'out.yaml' }, { workDir: work.dir })).rejects.toThrow(
      'app/kustomization.yaml: bases[0] "app/vendored" leads out of the promotion\'s work directory through a symbolic link',
    );
    await nothingRendered();
  });

  it('refuses generator files outside the work directory', async () => {
    await expect(
      build({ 'app/kustomization.yaml': 'configMapGenerator:\n- name: stolen\n  files:\n  - token=../../outside/secret.yaml\n' }),
    ).rejects.toThrow('app/kustomization.yaml: configMapGenerator[0].files[0] "../../outside/secret.yaml" leaves the promotion\'s work directory');
    await nothingRendered();
  });

  it('refuses remote bases and chart repositories, which would be fetched outside the egress policy', async () => {
    for (const remote of ['https://github.com/acme/k8s//base?ref=v1', 'github.com/acme/k8s/base', 'git::https://git.example.com/k8s.git//base', 'git@github.com:acme/k8s.git']) {
      await expect(build({ 'app/kustomization.yaml': `resources:\n- ${remote}\n` })).rejects.toThrow(
        `app/kustomization.yaml: resources[0] "${remote}" is remote: kustomize would fetch it with git (or helm), outside the egress policy (stagecoach.egress)`,
      );
    }
    await expect(
      build({ 'app/kustomization.yaml': 'helmCharts:\n- name: web\n  repo: https://charts.example.com\n  version: 1.0.0\n' }),
    ).rejects.toThrow('app/kustomization.yaml: helmCharts[0].repo "https://charts.example.com": helm would fetch the chart outside the egress policy');
    await nothingRendered();
  });
});
