import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { git, startGitHttpServer, GitHttpServer } from '@stagecoach/git-server';
import { DEMO_APP_TAGS, seedDemoRepos } from './seedDemoRepos';

describe('seedDemoRepos', () => {
  let dir: string;
  let server: GitHttpServer | undefined;

  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'stagecoach-demo-test-'));
  });

  afterEach(async () => {
    await server?.close();
    server = undefined;
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('creates the app repository with its release tags and the gitops repository with one values file per environment', async () => {
    const root = path.join(dir, 'git');
    const result = await seedDemoRepos(root);
    expect(result).toEqual({ root, created: ['app', 'gitops'], reused: [] });

    const tags = (await git(path.join(root, 'app.git'), 'tag', '--list')).split(
      '\n',
    );
    expect(tags).toEqual(DEMO_APP_TAGS);
    // v1.2.0 is the newest release and points at the tip of main
    expect(
      await git(path.join(root, 'app.git'), 'rev-parse', 'v1.2.0^{commit}'),
    ).toBe(await git(path.join(root, 'app.git'), 'rev-parse', 'main'));

    const gitops = path.join(root, 'gitops.git');
    expect(await git(gitops, 'ls-tree', '-r', '--name-only', 'main')).toBe(
      [
        'README.md',
        'env/dev/values.yaml',
        'env/prod/values.yaml',
        'env/staging/values.yaml',
      ].join('\n'),
    );
    const dev = await git(gitops, 'show', 'main:env/dev/values.yaml');
    expect(dev).toMatch(/^# Values for the dev environment\./);
    expect(dev).toContain(
      'image:\n  repository: demo/app\n  tag: v0.9.0\nreplicas: 1',
    );
    expect(await git(gitops, 'show', 'main:env/staging/values.yaml')).toContain(
      'tag: v0.9.0',
    );
    const prod = await git(gitops, 'show', 'main:env/prod/values.yaml');
    expect(prod).toMatch(/^# Values for the prod environment\./);
    expect(prod).toContain('tag: v0.9.0');

    // no scratch folders left beside the repositories
    expect((await fs.readdir(root)).sort()).toEqual(['app.git', 'gitops.git']);
  });

  it('keeps existing repositories on a later start, with what was pushed to them', async () => {
    const root = path.join(dir, 'git');
    await seedDemoRepos(root);
    const work = path.join(dir, 'work');
    await git(dir, 'clone', '-q', path.join(root, 'gitops.git'), work);
    await fs.writeFile(
      path.join(work, 'env/dev/values.yaml'),
      'image:\n  tag: v1.2.0\n',
    );
    await git(work, 'commit', '-q', '-am', 'promoted');
    await git(work, 'push', '-q', 'origin', 'main');
    const tip = await git(path.join(root, 'gitops.git'), 'rev-parse', 'main');

    const again = await seedDemoRepos(root);
    expect(again).toEqual({ root, created: [], reused: ['app', 'gitops'] });
    expect(await git(path.join(root, 'gitops.git'), 'rev-parse', 'main')).toBe(
      tip,
    );
  });

  it('replaces a half-made repository', async () => {
    const root = path.join(dir, 'git');
    await fs.mkdir(path.join(root, 'app.git'), { recursive: true });
    const result = await seedDemoRepos(root);
    expect(result.created).toEqual(['app', 'gitops']);
    expect(await git(path.join(root, 'app.git'), 'tag', '--list')).toBe(
      DEMO_APP_TAGS.join('\n'),
    );
  });

  it('serves the repositories over HTTP: tags listed, clone and push work', async () => {
    const root = path.join(dir, 'git');
    await seedDemoRepos(root);
    server = await startGitHttpServer({ root, port: 0, host: '127.0.0.1' });

    const refs = await git(dir, 'ls-remote', '--tags', `${server.url}/app.git`);
    for (const tag of DEMO_APP_TAGS) {
      expect(refs).toMatch(
        new RegExp(`\\srefs/tags/${tag.replace(/\./g, '\\.')}$`, 'm'),
      );
    }
    // the newest release is an annotated tag: listed peeled as well
    expect(refs).toMatch(/\srefs\/tags\/v1\.2\.0\^\{\}$/m);

    const work = path.join(dir, 'clone');
    await git(dir, 'clone', '-q', `${server.url}/gitops.git`, work);
    await fs.appendFile(
      path.join(work, 'env/staging/values.yaml'),
      '# touched\n',
    );
    await git(work, 'commit', '-q', '-am', 'over http');
    await git(work, 'push', '-q', 'origin', 'main');
    expect(
      await git(
        path.join(root, 'gitops.git'),
        'log',
        '-1',
        '--format=%s',
        'main',
      ),
    ).toBe('over http');
  });
});
