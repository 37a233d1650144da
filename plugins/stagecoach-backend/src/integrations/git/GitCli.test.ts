import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createBareRepo, GitHttpServer, startGitHttpServer } from '@stagecoach/git-server';
import { loopbackServer } from '../../__testUtils__/loopbackHttp';
import { GitError, remoteBranchHead, runGit } from './GitCli';

describe('runGit with credentials (against a real Git server requiring HTTP basic auth)', () => {
  let root: string;
  let server: GitHttpServer;
  const credentials = { username: 'ci', password: 'pa55-w0rd-secret' };

  beforeAll(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'gitcli-'));
    await createBareRepo(root, 'a', [{ files: { 'a.txt': 'a\n' }, message: 'a' }]);
    await createBareRepo(root, 'b', [{ files: { 'b.txt': 'b\n' }, message: 'b' }]);
    server = await startGitHttpServer({ root, credentials });
  });
  afterAll(async () => {
    await server.close();
    await fs.rm(root, { recursive: true, force: true });
  });

  it('authenticates the requests to the URL they are given for', async () => {
    const url = `${server.url}/a.git`;
    const head = await remoteBranchHead(url, undefined, { auth: { url, credentials } });
    expect(head.branch).toBe('main');
    expect(head.commit).toMatch(/^[0-9a-f]{40}$/);
  });

  it('sends them to no other repository, even on the same host', async () => {
    const a = `${server.url}/a.git`;
    const error = await runGit(['ls-remote', `${server.url}/b.git`], { auth: { url: a, credentials } }).catch(e => e);
    expect(error).toBeInstanceOf(GitError);
    expect(String(error.message)).toMatch(/Authentication failed/);
  });

  it('keeps them off the command line and out of error messages', async () => {
    const url = `${server.url}/missing.git`;
    const error: GitError = await runGit(['ls-remote', url], { auth: { url, credentials } }).catch(e => e);
    expect(error).toBeInstanceOf(GitError);
    const shown = `${error.message}\n${error.stderr}\n${error.stdout}\n${error.args.join(' ')}`;
    expect(shown).toContain(url);
    expect(shown).not.toContain(credentials.password);
    expect(shown).not.toContain(Buffer.from(`ci:${credentials.password}`).toString('base64'));
  });
});

describe('runGit and HTTP redirects (loopback servers)', () => {
  let root: string;
  let server: GitHttpServer;
  beforeAll(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'gitcli-'));
    await createBareRepo(root, 'internal', [{ files: { 'secret.txt': 'internal\n' }, message: 'internal' }]);
    server = await startGitHttpServer({ root });
  });
  afterAll(async () => {
    await server.close();
    await fs.rm(root, { recursive: true, force: true });
  });

  it('does not follow a redirect, so a remote cannot lead git past the egress check to another host', async () => {
    // a public-looking remote that sends git on to an internal one
    const redirector = await loopbackServer((req, res) => res.writeHead(302, { Location: `${server.url}/internal.git${req.url!.replace(/^\/public\.git/, '')}` }).end());
    try {
      const error = await remoteBranchHead(`${redirector.url}/public.git`).catch(e => e);
      expect(error).toBeInstanceOf(GitError);
      expect(error.message).toMatch(/302/);
      expect(redirector.requests).toHaveLength(1);
    } finally {
      await redirector.close();
    }
  });
});
