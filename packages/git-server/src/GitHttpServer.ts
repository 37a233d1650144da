import { spawn } from 'node:child_process';
import http from 'node:http';
import { AddressInfo } from 'node:net';
import path from 'node:path';

export interface GitHttpServerOptions {
  /** Folder holding the bare repositories, served as `/<name>.git`. */
  root: string;
  /** Loopback port; 0 (default) picks a free one. */
  port?: number;
  /** Defaults to 127.0.0.1. Only loopback is served. */
  host?: string;
  /** When set, every request must carry HTTP basic auth with these credentials. */
  credentials?: { username: string; password: string };
}

export interface GitHttpServer {
  /** Base URL such as `http://127.0.0.1:41234`; a repository is `${url}/<name>.git`. */
  url: string;
  port: number;
  close(): Promise<void>;
}

/**
 * Git's smart HTTP protocol, served by `git http-backend` (the CGI program that ships with
 * git) behind Node's HTTP server. Clone, fetch and push work as against any Git host,
 * protocol v2 included.
 */
export async function startGitHttpServer(options: GitHttpServerOptions): Promise<GitHttpServer> {
  const root = path.resolve(options.root);
  const host = options.host ?? '127.0.0.1';

  const server = http.createServer((req, res) => {
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://localhost');
    } catch {
      res.writeHead(400).end('bad request target\n');
      return;
    }
    let user = 'anonymous';
    if (options.credentials) {
      const { username, password } = options.credentials;
      const expected = `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
      if (req.headers.authorization !== expected) {
        res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="git"' });
        res.end('authentication required\n');
        return;
      }
      user = options.credentials.username;
    }
    let pathInfo: string;
    try {
      pathInfo = decodeURIComponent(url.pathname);
    } catch {
      res.writeHead(400).end('bad path\n');
      return;
    }
    if (pathInfo.split('/').includes('..') || pathInfo.includes('\0')) {
      res.writeHead(400).end('bad path\n');
      return;
    }
    serveWithBackend(req, res, {
      PATH: process.env.PATH ?? '',
      GIT_PROJECT_ROOT: root,
      GIT_HTTP_EXPORT_ALL: '1',
      REMOTE_USER: user, // enables receive-pack (push)
      REMOTE_ADDR: req.socket.remoteAddress ?? '127.0.0.1',
      REQUEST_METHOD: req.method ?? 'GET',
      PATH_INFO: pathInfo,
      QUERY_STRING: url.search.replace(/^\?/, ''),
      CONTENT_TYPE: req.headers['content-type'] ?? '',
      ...(req.headers['content-length'] ? { CONTENT_LENGTH: req.headers['content-length'] } : {}),
      ...(req.headers['content-encoding'] ? { HTTP_CONTENT_ENCODING: req.headers['content-encoding'] } : {}),
      ...(req.headers['git-protocol'] ? { GIT_PROTOCOL: String(req.headers['git-protocol']) } : {}),
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${host}:${port}`,
    port,
    close: () =>
      new Promise<void>(resolve => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * Runs `git http-backend` for one request. Either side may stop early, and neither takes the
 * server down: git may exit without reading the whole request (its stdin then fails with
 * EPIPE, which is ignored: its answer is what counts), and a client may hang up mid-request or
 * mid-answer (git is then ended, so it does not wait for input that will never come).
 */
function serveWithBackend(req: http.IncomingMessage, res: http.ServerResponse, env: NodeJS.ProcessEnv) {
  const cgi = spawn('git', ['http-backend'], { env });
  let finished = false;
  const stopGit = () => {
    if (!finished && cgi.exitCode === null && cgi.signalCode === null) cgi.kill('SIGKILL');
  };
  const fail = (status: number, text: string) => {
    if (res.destroyed || res.writableEnded) return;
    if (!res.headersSent) res.writeHead(status);
    res.end(text);
  };
  // whatever git could not read, or the client did not send, ends with git's answer or its exit
  cgi.stdin.on('error', () => undefined);
  req.on('error', stopGit);
  req.on('aborted', stopGit);
  res.on('error', stopGit);
  res.on('close', () => {
    if (!res.writableFinished) stopGit();
  });
  req.pipe(cgi.stdin);

  let stderr = '';
  cgi.stderr.on('data', d => (stderr += d));
  cgi.stderr.on('error', () => undefined);
  cgi.stdout.on('error', stopGit);
  streamCgiResponse(cgi.stdout, res);
  cgi.on('error', err => {
    finished = true;
    fail(500, `git http-backend failed: ${err.message}\n`);
  });
  cgi.on('close', code => {
    finished = true;
    if (!res.headersSent) fail(code === 0 ? 502 : 500, stderr || 'git http-backend wrote no answer\n');
    else if (!res.writableEnded && !res.destroyed) res.end();
  });
}

/**
 * Splits the CGI output into status + headers and the body, and streams it to the client,
 * pausing git's output while the client is slower than git.
 */
function streamCgiResponse(stdout: NodeJS.ReadableStream, res: http.ServerResponse) {
  let head = Buffer.alloc(0);
  let headerDone = false;
  const send = (chunk: Buffer) => {
    if (res.destroyed || res.writableEnded) return;
    if (!res.write(chunk)) {
      stdout.pause();
      res.once('drain', () => stdout.resume());
    }
  };
  stdout.on('data', (chunk: Buffer) => {
    if (headerDone) {
      send(chunk);
      return;
    }
    head = Buffer.concat([head, chunk]);
    const sep = head.indexOf('\r\n\r\n');
    const sepLf = head.indexOf('\n\n');
    let end = -1;
    let skip = 0;
    if (sep !== -1 && (sepLf === -1 || sep < sepLf)) {
      end = sep;
      skip = 4;
    } else if (sepLf !== -1) {
      end = sepLf;
      skip = 2;
    }
    if (end === -1) return;
    headerDone = true;
    let status = 200;
    const headers: Record<string, string> = {};
    for (const line of head.subarray(0, end).toString('utf8').split(/\r?\n/)) {
      const i = line.indexOf(':');
      if (i === -1) continue;
      const key = line.slice(0, i).trim();
      const value = line.slice(i + 1).trim();
      if (key.toLowerCase() === 'status') status = parseInt(value, 10) || 502;
      else headers[key] = value;
    }
    if (res.destroyed || res.headersSent) return;
    res.writeHead(status, headers);
    send(head.subarray(end + skip));
  });
  // without a complete header, the answer is made when git has exited (its status and stderr)
  stdout.on('end', () => {
    if (headerDone && !res.writableEnded && !res.destroyed) res.end();
  });
}
