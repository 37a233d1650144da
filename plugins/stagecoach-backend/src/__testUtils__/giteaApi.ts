import { spawn } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { git } from '@stagecoach/git-server';

/**
 * The two calls of Gitea's repository API that Backstage's GiteaUrlReader makes to read a
 * folder (readTree), on loopback, answered from real git repositories: the commit a ref points
 * to (`GET /api/v1/repos/{owner}/{repo}/git/commits/{ref}`, its `sha` is the reader's ETag) and
 * the ref's archive (`GET /api/v1/repos/{owner}/{repo}/archive/{ref}.tar.gz`, `git archive`
 * with the repository's name as its top folder, as Gitea makes it).
 */
export async function startGiteaApi(repos: Record<string, string>) {
  const requests: string[] = [];
  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url!, 'http://x');
    requests.push(url.pathname);
    const m =
      /^\/api\/v1\/repos\/([^/]+)\/([^/]+)\/(git\/commits\/(.+)|archive\/(.+)\.tar\.gz)$/.exec(
        url.pathname,
      );
    const dir = m && repos[`${m[1]}/${m[2]}`];
    if (!m || !dir) {
      res
        .writeHead(404, { 'Content-Type': 'application/json' })
        .end('{"message":"not found"}');
      return;
    }
    if (m[4]) {
      try {
        const sha = await git(
          dir,
          'rev-parse',
          '--verify',
          `${decodeURIComponent(m[4])}^{commit}`,
        );
        res
          .writeHead(200, { 'Content-Type': 'application/json' })
          .end(JSON.stringify({ sha }));
      } catch {
        res
          .writeHead(404, { 'Content-Type': 'application/json' })
          .end('{"message":"ref not found"}');
      }
      return;
    }
    const archive = spawn(
      'git',
      [
        'archive',
        '--format=tar.gz',
        `--prefix=${m[2]}/`,
        decodeURIComponent(m[5]),
      ],
      {
        cwd: dir,
        stdio: ['ignore', 'pipe', 'ignore'],
      },
    );
    res.writeHead(200, { 'Content-Type': 'application/octet-stream' });
    archive.stdout.pipe(res);
  });
  await new Promise<void>(r => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    host: `127.0.0.1:${port}`,
    baseUrl: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise<void>(r => server.close(() => r())),
  };
}
