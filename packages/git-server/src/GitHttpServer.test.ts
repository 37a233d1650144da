import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createBareRepo, git, startGitHttpServer, GitHttpServer } from '.';

describe('startGitHttpServer (real git over HTTP on loopback)', () => {
  let root: string;
  let server: GitHttpServer;

  beforeEach(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'git-server-test-'));
    await createBareRepo(path.join(root, 'repos'), 'app', [
      { files: { 'README.md': 'hello\n' }, message: 'first', tag: 'v1.0.0' },
      { files: { 'README.md': 'hello again\n' }, message: 'second', tag: 'v1.1.0', annotated: true },
    ]);
  });

  afterEach(async () => {
    await server?.close();
    await fs.rm(root, { recursive: true, force: true });
  });

  it('lists tags, clones and accepts a push', async () => {
    server = await startGitHttpServer({ root: path.join(root, 'repos') });
    const remote = `${server.url}/app.git`;

    const tags = await git(root, 'ls-remote', '--tags', remote);
    expect(tags).toMatch(/refs\/tags\/v1\.0\.0$/m);
    expect(tags).toMatch(/refs\/tags\/v1\.1\.0\^\{\}$/m);

    await git(root, 'clone', '-q', remote, 'clone');
    const work = path.join(root, 'clone');
    await fs.writeFile(path.join(work, 'new.txt'), 'pushed\n');
    await git(work, 'add', '-A');
    await git(work, 'commit', '-q', '-m', 'pushed over http');
    await git(work, 'push', '-q', 'origin', 'HEAD:main');

    const log = await git(path.join(root, 'repos', 'app.git'), 'log', '-1', '--format=%s', 'main');
    expect(log).toBe('pushed over http');
  });

  it('refuses a client without the configured credentials', async () => {
    server = await startGitHttpServer({
      root: path.join(root, 'repos'),
      credentials: { username: 'ci', password: 's3cret' },
    });
    await expect(git(root, 'ls-remote', `${server.url}/app.git`)).rejects.toThrow(/401|Authentication failed|could not read Username/);
    const withCreds = server.url.replace('http://', 'http://ci:s3cret@');
    await expect(git(root, 'ls-remote', `${withCreds}/app.git`)).resolves.toMatch(/refs\/heads\/main/);
  });
});
