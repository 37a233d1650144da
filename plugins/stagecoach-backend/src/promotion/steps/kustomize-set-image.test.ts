import fs from 'node:fs/promises';
import path from 'node:path';
import { writeTree } from '../../__testUtils__/fileTree';
import { runStep, tempWorkDir, testFreight } from '../../__testUtils__/stepHarness';
import { kustomizeSetImage } from './kustomize-set-image';

const DIGEST_A = `sha256:${'a'.repeat(64)}`;
const DIGEST_B = `sha256:${'b'.repeat(64)}`;

const freight = testFreight({
  artifacts: {
    commits: [],
    images: [
      { repoURL: 'ghcr.io/acme/api', tag: '1.4.0', digest: DIGEST_A },
      { repoURL: 'docker.io/library/nginx', tag: '1.25', digest: DIGEST_B },
    ],
    charts: [],
  },
});

const KUSTOMIZATION = [
  '# dev overlay',
  'resources:',
  '  - ../../base',
  'images:',
  '  # the API server',
  '  - name: ghcr.io/acme/api',
  '    newTag: 1.3.0 # bumped by promotions',
  '  - name: redis',
  '    newTag: "7.2"',
  '',
].join('\n');

describe('kustomize-set-image', () => {
  let work: { dir: string; cleanup(): Promise<void> };
  beforeEach(async () => {
    work = await tempWorkDir();
  });
  afterEach(() => work.cleanup());
  const run = (config: unknown, f = freight) => runStep(kustomizeSetImage, config, { workDir: work.dir, freight: f });
  const read = (rel: string) => fs.readFile(path.join(work.dir, rel), 'utf8');

  it("sets an entry's tag from the freight, keeping the file's comments and other entries", async () => {
    // a checkout (git-clone makes src/ a working tree): messages name the file inside the repository
    await writeTree(work.dir, { 'src/overlays/dev/kustomization.yaml': KUSTOMIZATION, 'src/.git': 'gitdir: elsewhere\n' });
    const result = await run({ path: './src/overlays/dev', images: [{ image: 'ghcr.io/acme/api' }] });
    expect(await read('src/overlays/dev/kustomization.yaml')).toBe(
      [
        '# dev overlay',
        'resources:',
        '  - ../../base',
        'images:',
        '  # the API server',
        '  - name: ghcr.io/acme/api',
        '    newTag: 1.4.0 # bumped by promotions',
        '  - name: redis',
        '    newTag: "7.2"',
        '',
      ].join('\n'),
    );
    expect(result).toEqual({
      status: 'Succeeded',
      message: 'set ghcr.io/acme/api:1.4.0 in overlays/dev/kustomization.yaml',
      outputs: { commitMessage: 'Updated overlays/dev/kustomization.yaml to use new image\n\n- ghcr.io/acme/api:1.4.0' },
    });
  });

  it('writes the freight\'s digest with useDigest, and replaces the tag with it', async () => {
    await writeTree(work.dir, { 'k/kustomization.yaml': KUSTOMIZATION });
    await run({ path: 'k', images: [{ image: 'ghcr.io/acme/api', useDigest: true }] });
    expect(await read('k/kustomization.yaml')).toContain(
      ['  - name: ghcr.io/acme/api', `    digest: ${DIGEST_A}`, '  - name: redis'].join('\n'),
    );
  });

  it('adds an images list and entries with a given tag, digest, name and newName', async () => {
    await writeTree(work.dir, { 'k/kustomization.yml': 'resources:\n  - deployment.yaml # the app\n' });
    const result = await run({
      path: 'k',
      images: [
        { image: 'ghcr.io/acme/api', tag: '2.0.0' },
        { image: 'docker.io/library/nginx', name: 'nginx', newName: 'mirror.acme.io/nginx', digest: DIGEST_B },
        { image: 'busybox', tag: '1.36', digest: '' },
      ],
    });
    expect(await read('k/kustomization.yml')).toBe(
      [
        'resources:',
        '  - deployment.yaml # the app',
        'images:',
        '  - name: ghcr.io/acme/api',
        '    newTag: 2.0.0',
        '  - name: nginx',
        '    newName: mirror.acme.io/nginx',
        `    digest: ${DIGEST_B}`,
        '  - name: busybox',
        '    newTag: "1.36"',
        '',
      ].join('\n'),
    );
    expect(result.outputs?.commitMessage).toBe(
      [
        'Updated k/kustomization.yml to use new images',
        '',
        '- busybox:1.36',
        '- ghcr.io/acme/api:2.0.0',
        `- mirror.acme.io/nginx@${DIGEST_B}`,
      ].join('\n'),
    );
  });

  it('without images, sets every image of the freight with its tag and digest, as Kargo does', async () => {
    await writeTree(work.dir, { 'k/Kustomization': KUSTOMIZATION });
    await run({ path: 'k' });
    expect(await read('k/Kustomization')).toBe(
      [
        '# dev overlay',
        'resources:',
        '  - ../../base',
        'images:',
        '  # the API server',
        '  - name: ghcr.io/acme/api',
        '    newTag: 1.4.0 # bumped by promotions',
        `    digest: ${DIGEST_A}`,
        '  - name: redis',
        '    newTag: "7.2"',
        '  - name: docker.io/library/nginx',
        '    newTag: "1.25"',
        `    digest: ${DIGEST_B}`,
        '',
      ].join('\n'),
    );
  });

  it('names the image and what the freight has when the image is not in the freight', async () => {
    await writeTree(work.dir, { 'k/kustomization.yaml': KUSTOMIZATION });
    await expect(run({ path: 'k', images: [{ image: 'ghcr.io/acme/worker' }] })).rejects.toThrow(
      'images[0].image "ghcr.io/acme/worker" is not in the freight being promoted (brave-otter; its images: ghcr.io/acme/api:1.4.0, docker.io/library/nginx:1.25)',
    );
    await expect(run({ path: 'k', images: [{ image: 'ghcr.io/acme/api' }] }, testFreight())).rejects.toThrow(
      'images[0].image "ghcr.io/acme/api" is not in the freight being promoted (brave-otter; it has no images)',
    );
    expect(await read('k/kustomization.yaml')).toBe(KUSTOMIZATION);
  });

  it("keeps the file's style: unindented lists (as kustomize writes them) and long lines", async () => {
    const long = `# ${'a comment that goes on and on '.repeat(4)}`;
    const original = [
      'apiVersion: kustomize.config.k8s.io/v1beta1',
      'kind: Kustomization',
      `commonAnnotations:\n  note: ${'a long annotation value '.repeat(5).trim()}`,
      long,
      'resources:',
      '- ../../base',
      'images:',
      '- name: ghcr.io/acme/api',
      '  newTag: 1.3.0',
      '',
    ].join('\n');
    await writeTree(work.dir, { 'k/kustomization.yaml': original });
    await run({ path: 'k', images: [{ image: 'ghcr.io/acme/api' }] });
    expect(await read('k/kustomization.yaml')).toBe(original.replace('1.3.0', '1.4.0'));
  });

  it('finds Docker Hub images however they are spelled', async () => {
    await writeTree(work.dir, { 'k/kustomization.yaml': 'images:\n  - name: nginx\n    newTag: "1.24"\n' });
    await run({ path: 'k', images: [{ image: 'nginx' }] });
    expect(await read('k/kustomization.yaml')).toBe('images:\n  - name: nginx\n    newTag: "1.25"\n');
  });

  it('says which warehouse fromOrigin names when it is not the freight\'s', async () => {
    await writeTree(work.dir, { 'k/kustomization.yaml': KUSTOMIZATION });
    await expect(
      run({ path: 'k', images: [{ image: 'ghcr.io/acme/api', fromOrigin: { kind: 'Warehouse', name: 'other' } }] }),
    ).rejects.toThrow(
      'images[0].fromOrigin names warehouse "other", but the freight being promoted comes from warehouse "app"',
    );
  });

  it('refuses tag with digest, and a folder without exactly one kustomization file', async () => {
    await expect(run({ path: 'k', images: [{ image: 'a', tag: '1', digest: DIGEST_A }] })).rejects.toThrow(
      'config.images.0: set tag or digest, not both',
    );
    await expect(run({ path: 'k', images: [{ image: 'a', tag: 'not a tag' }] })).rejects.toThrow(
      'config.images.0.tag: must be an image tag such as 1.2.3',
    );
    await expect(run({ path: 'k' })).rejects.toThrow('path "k" does not exist');
    await writeTree(work.dir, { 'k/deployment.yaml': 'kind: Deployment\n' });
    await expect(run({ path: 'k' })).rejects.toThrow(
      'path "k" has no kustomization.yaml, kustomization.yml, Kustomization',
    );
    await writeTree(work.dir, { 'k/kustomization.yaml': '{}\n', 'k/kustomization.yml': '{}\n' });
    await expect(run({ path: 'k' })).rejects.toThrow(
      'path "k" has more than one kustomization file (kustomization.yaml, kustomization.yml): keep one',
    );
    await expect(run({ path: '../k' })).rejects.toThrow('path "../k" leaves the promotion\'s work directory');
  });

  it('succeeds without touching the file when images are omitted and the freight has none', async () => {
    await writeTree(work.dir, { 'k/kustomization.yaml': KUSTOMIZATION });
    const result = await run({ path: 'k' }, testFreight());
    expect(result).toEqual({
      status: 'Succeeded',
      message: 'the freight being promoted has no images: k/kustomization.yaml is unchanged',
    });
    expect(await read('k/kustomization.yaml')).toBe(KUSTOMIZATION);
  });
});
