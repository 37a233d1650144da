import fs from 'node:fs/promises';
import path from 'node:path';
import { writeTree } from '../../__testUtils__/fileTree';
import { runStep, tempWorkDir, testFreight } from '../../__testUtils__/stepHarness';
import { helmUpdateImage } from './helm-update-image';

const DIGEST = `sha256:${'c'.repeat(64)}`;
const freight = testFreight({
  artifacts: {
    commits: [],
    images: [
      { repoURL: 'ghcr.io/acme/api', tag: '1.4.0', digest: DIGEST },
      { repoURL: 'docker.io/library/nginx', tag: '1.25', digest: `sha256:${'d'.repeat(64)}` },
    ],
    charts: [],
  },
});

const VALUES = [
  '# values for the dev stage',
  'api:',
  '  image:',
  '    repository: ghcr.io/acme/api',
  '    tag: 1.3.0 # set by promotions',
  'sidecars:',
  '- name: proxy',
  '  image: nginx:1.24',
  '',
].join('\n');

describe('helm-update-image', () => {
  let work: { dir: string; cleanup(): Promise<void> };
  beforeEach(async () => {
    work = await tempWorkDir();
  });
  afterEach(() => work.cleanup());
  const run = (config: unknown) => runStep(helmUpdateImage, config, { workDir: work.dir, freight });
  const read = (rel: string) => fs.readFile(path.join(work.dir, rel), 'utf8');

  it("sets keys of a values file to the freight's tag, digest or reference, keeping comments and style", async () => {
    await writeTree(work.dir, { 'src/env/dev/values.yaml': VALUES });
    const result = await run({
      path: 'src/env/dev/values.yaml',
      images: [
        { image: 'ghcr.io/acme/api', key: 'api.image.tag', value: 'Tag' },
        { image: 'ghcr.io/acme/api', key: 'api.image.digest', value: 'Digest' },
        { image: 'nginx', key: 'sidecars.0.image', value: 'ImageAndTag' },
        { image: 'ghcr.io/acme/api', key: 'api.pinned', value: 'ImageAndDigest' },
      ],
    });
    expect(await read('src/env/dev/values.yaml')).toBe(
      [
        '# values for the dev stage',
        'api:',
        '  image:',
        '    repository: ghcr.io/acme/api',
        '    tag: 1.4.0 # set by promotions',
        `    digest: ${DIGEST}`,
        `  pinned: ghcr.io/acme/api@${DIGEST}`,
        'sidecars:',
        '- name: proxy',
        '  image: docker.io/library/nginx:1.25',
        '',
      ].join('\n'),
    );
    expect(result).toEqual({
      status: 'Succeeded',
      message: 'updated src/env/dev/values.yaml: api.image.tag, api.image.digest, sidecars.0.image, api.pinned',
      outputs: {
        commitMessage: [
          'Updated src/env/dev/values.yaml to use new images',
          '',
          '- api.image.tag: 1.4.0',
          `- api.image.digest: ${DIGEST}`,
          '- sidecars.0.image: docker.io/library/nginx:1.25',
          `- api.pinned: ghcr.io/acme/api@${DIGEST}`,
        ].join('\n'),
      },
    });
  });

  it('names the image and what the freight has when the image is not in the freight, and leaves the file alone', async () => {
    await writeTree(work.dir, { 'values.yaml': VALUES });
    await expect(
      run({ path: 'values.yaml', images: [{ image: 'ghcr.io/acme/worker', key: 'worker.tag', value: 'Tag' }] }),
    ).rejects.toThrow(
      'images[0].image "ghcr.io/acme/worker" is not in the freight being promoted (brave-otter; its images: ghcr.io/acme/api:1.4.0, docker.io/library/nginx:1.25)',
    );
    expect(await read('values.yaml')).toBe(VALUES);
  });

  it("refuses an unknown value kind, another warehouse's origin and a missing file", async () => {
    await writeTree(work.dir, { 'values.yaml': VALUES });
    await expect(
      run({ path: 'values.yaml', images: [{ image: 'ghcr.io/acme/api', key: 'a', value: 'Version' }] }),
    ).rejects.toThrow('config.images.0.value: must be one of Tag, Digest, ImageAndTag, ImageAndDigest');
    await expect(
      run({
        path: 'values.yaml',
        images: [{ image: 'ghcr.io/acme/api', key: 'a', value: 'Tag', fromOrigin: { kind: 'Warehouse', name: 'images' } }],
      }),
    ).rejects.toThrow('images[0].fromOrigin names warehouse "images", but the freight being promoted comes from warehouse "app"');
    await expect(run({ path: 'nope.yaml', images: [{ image: 'ghcr.io/acme/api', key: 'a', value: 'Tag' }] })).rejects.toThrow(
      'path "nope.yaml" does not exist',
    );
    await expect(run({ path: 'values.yaml', images: [] })).rejects.toThrow('config.images: needs at least one image');
  });
});
