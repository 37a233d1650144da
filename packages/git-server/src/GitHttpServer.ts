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
    const url = new URL(req.url ?? '/', 'http://localhost');
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
    if (url.pathname.split('/').includes('..')) {
      res.writeHead(400).end('bad path\n');
      return;
    }
    const cgi = spawn('git', ['http-backend'], {
      env: {
        PATH: process.env.PATH,
        GIT_PROJECT_ROOT: root,
        GIT_HTTP_EXPORT_ALL: '1',
        REMOTE_USER: user, // enables receive-pack (push)
        REMOTE_ADDR: req.socket.remoteAddress ?? '127.0.0.1',
        REQUEST_METHOD: req.method ?? 'GET',
        PATH_INFO: decodeURIComponent(url.pathname),
        QUERY_STRING: url.search.replace(/^\?/, ''),
        CONTENT_TYPE: req.headers['content-type'] ?? '',
        ...(req.headers['content-length'] ? { CONTENT_LENGTH: req.headers['content-length'] } : {}),
        ...(req.headers['content-encoding'] ? { HTTP_CONTENT_ENCODING: req.headers['content-encoding'] } : {}),
        ...(req.headers['git-protocol'] ? { GIT_PROTOCOL: String(req.headers['git-protocol']) } : {}),
      },
    });
    req.pipe(cgi.stdin);
    parseCgiResponse(cgi.stdout, res);
    let stderr = '';
    cgi.stderr.on('data', d => (stderr += d));
    cgi.on('error', err => {
      if (!res.headersSent) res.writeHead(500);
      res.end(`git http-backend failed: ${err.message}\n`);
    });
    cgi.on('close', code => {
      if (code !== 0 && !res.headersSent) {
        res.writeHead(500);
        res.end(stderr);
      }
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

/** Splits the CGI output into status + headers and the body, and streams it to the client. */
function parseCgiResponse(stdout: NodeJS.ReadableStream, res: http.ServerResponse) {
  let head = Buffer.alloc(0);
  let headerDone = false;
  stdout.on('data', (chunk: Buffer) => {
    if (headerDone) {
      res.write(chunk);
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
      if (key.toLowerCase() === 'status') status = parseInt(value, 10);
      else headers[key] = value;
    }
    res.writeHead(status, headers);
    res.write(head.subarray(end + skip));
  });
  stdout.on('end', () => res.end());
}
