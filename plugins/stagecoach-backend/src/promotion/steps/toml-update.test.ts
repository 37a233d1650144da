import fs from 'node:fs/promises';
import path from 'node:path';
import { readTree, writeTree } from '../../__testUtils__/fileTree';
import { runStep, tempWorkDir } from '../../__testUtils__/stepHarness';
import { tomlUpdate } from './toml-update';

/** A Netlify-style deployment config, with the comments and layout a person gave it. */
const DEPLOY_TOML = `# Deployment settings for the web app.
title = "storefront"   # shown in the dashboard

[image]
# set by the promotion, do not edit by hand
repository = 'ghcr.io/acme/storefront'
tag = "1.4.0"  # pinned

[[regions]]
name = "eu-west-1"
replicas = 2

[[regions]]
name = "us-east-1"
replicas = 3

[build.environment]
NODE_VERSION = "20"
flags = ["--prod", "--minify"]
`;

describe('toml-update', () => {
  let work: { dir: string; cleanup(): Promise<void> };
  beforeEach(async () => {
    work = await tempWorkDir();
    await writeTree(work.dir, { 'site/deploy.toml': DEPLOY_TOML });
  });
  afterEach(() => work.cleanup());
  const run = (config: unknown) => runStep(tomlUpdate, config, { workDir: work.dir });
  const read = () => fs.readFile(path.join(work.dir, 'site/deploy.toml'), 'utf8');

  it('sets values by dotted key and array index, keeping comments, order and quoting; outputs commitMessage', async () => {
    const result = await run({
      path: 'site/deploy.toml',
      updates: [
        { key: 'image.tag', value: '1.5.2' },
        { key: 'regions.1.replicas', value: 5 },
        { key: 'build.environment.flags.-1', value: '--sourcemap' },
        { key: 'build.environment.NODE_VERSION', value: '22' },
      ],
    });
    expect(result).toEqual({
      status: 'Succeeded',
      message: 'updated site/deploy.toml: image.tag, regions.1.replicas, build.environment.flags.-1, build.environment.NODE_VERSION',
      outputs: {
        commitMessage: [
          'Updated site/deploy.toml',
          '',
          '- image.tag: "1.5.2"',
          '- regions.1.replicas: 5',
          '- build.environment.flags.-1: "--sourcemap"',
          '- build.environment.NODE_VERSION: "22"',
        ].join('\n'),
      },
    });
    expect(await read()).toBe(
      DEPLOY_TOML.replace('tag = "1.4.0"  # pinned', 'tag = "1.5.2"  # pinned')
        .replace('replicas = 3', 'replicas = 5')
        .replace('NODE_VERSION = "20"', 'NODE_VERSION = "22"')
        .replace('flags = ["--prod", "--minify"]', 'flags = ["--prod", "--minify", "--sourcemap"]'),
    );
  });

  it('adds keys and tables that are missing, with values of every TOML kind', async () => {
    await run({
      path: 'site/deploy.toml',
      updates: [
        { key: 'image.digest', value: 'sha256:abc' },
        { key: 'rollout.canary', value: { steps: [10, 50, 100], pause: true, ratio: 0.5 } },
        { key: 'a\\.b', value: 'dotted key' },
      ],
    });
    const text = await read();
    expect(text).toContain('tag = "1.4.0"  # pinned\ndigest = "sha256:abc"\n');
    expect(text).toContain('"a.b" = "dotted key"');
    // a new table goes at the end; the tables in it are written inline
    expect(text.endsWith('\n[rollout]\ncanary = {steps = [10, 50, 100], pause = true, ratio = 0.5}\n')).toBe(true);
    expect(text.startsWith('# Deployment settings for the web app.\ntitle = "storefront"   # shown in the dashboard\n')).toBe(
      true,
    );
  });

  it('says what is wrong: a path through a value, an index past the end, null, invalid TOML, .git', async () => {
    const update = (key: string, value: unknown) => run({ path: 'site/deploy.toml', updates: [{ key, value }] });
    await expect(update('title.x', 1)).rejects.toThrow(
      'updates[0].key "title.x": "title" is a string, not a table or an array',
    );
    await expect(update('regions.5.name', 'x')).rejects.toThrow(
      'updates[0].key "regions.5.name": "regions" is an array of 2 items, so "5" must be an index from 0 to 1 (or -1 to append)',
    );
    await expect(update('image.tag', null)).rejects.toThrow('updates[0].key "image.tag": the value is null, and TOML has no null');
    await expect(update('image..tag', 'x')).rejects.toThrow('key "image..tag" has an empty segment');
    await expect(run({ path: 'site/deploy.toml', updates: [{ key: 'image.tag' }] })).rejects.toThrow(
      'config.updates.0.value: is required',
    );
    await writeTree(work.dir, { 'broken.toml': '[image\ntag = "x"\n' });
    await expect(run({ path: 'broken.toml', updates: [{ key: 'a', value: 1 }] })).rejects.toThrow(
      '"broken.toml" is not valid TOML: Table header must be single-line at line 2, column 1',
    );
    await expect(run({ path: 'repo/.git/config.toml', updates: [{ key: 'a', value: 1 }] })).rejects.toThrow(
      "path \"repo/.git/config.toml\" is in git's own files (.git), which steps never write to",
    );
    expect(await read()).toBe(DEPLOY_TOML);
    expect(Object.keys(await readTree(work.dir))).toEqual(['broken.toml', 'site/deploy.toml']);
  });
});
