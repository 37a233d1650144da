import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import path from 'node:path';

/**
 * A small HTTP server in front of a test registry that behaves like the registries people
 * use: it can demand bearer tokens (its own 401 challenge, its own /token realm that wants
 * basic credentials), paginates tag lists with Link headers (distribution 2.8 ignores `n`),
 * counts the requests it sees, and can misbehave on demand.
 */

export type ProxyFault =
  /** answer 500 */
  | '500'
  /** accept the request and never answer */
  | 'hang'
  /** answer 200 with a truncated JSON body */
  | 'malformed'
  /** answer 401 with a challenge, whatever the request carries */
  | '401';

export interface RegistryProxyOptions {
  /** The registry behind, e.g. http://127.0.0.1:5000. */
  target: string;
  /** Demand a bearer token from /token, which hands one out for these basic credentials. */
  auth?: { username: string; password: string; expiresInSeconds?: number };
  /** Largest tag page served, whatever `n` asks for. Default 100 (Docker Hub's). */
  maxPageSize?: number;
  /** Serve HTTPS with this key and certificate (PEM) instead of plain HTTP. */
  tls?: { key: string; cert: string };
}

export type RequestKind =
  | 'ping'
  | 'tags'
  | 'manifest-by-tag'
  | 'manifest-by-digest'
  | 'blob'
  | 'token'
  | 'other';

export interface ProxiedRequest {
  method: string;
  /** Path and query, as received. */
  url: string;
  kind: RequestKind;
  status: number;
}

export interface RegistryProxy {
  host: string;
  url: string;
  requests: ProxiedRequest[];
  /** Count of requests, optionally of one kind and method. */
  count(kind?: RequestKind, method?: string): number;
  reset(): void;
  /** Misbehave for requests whose path matches (all registry requests when no match is given); undefined heals. */
  setFault(fault: ProxyFault | undefined, match?: RegExp): void;
  close(): Promise<void>;
}

const DIGEST_REF = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;

function classify(pathname: string): { kind: RequestKind; repo?: string } {
  if (pathname === '/token') return { kind: 'token' };
  if (pathname === '/v2/' || pathname === '/v2') return { kind: 'ping' };
  let m = /^\/v2\/(.+)\/tags\/list$/.exec(pathname);
  if (m) return { kind: 'tags', repo: m[1] };
  m = /^\/v2\/(.+)\/manifests\/([^/]+)$/.exec(pathname);
  if (m)
    return {
      kind: DIGEST_REF.test(decodeURIComponent(m[2]))
        ? 'manifest-by-digest'
        : 'manifest-by-tag',
      repo: m[1],
    };
  m = /^\/v2\/(.+)\/blobs\/([^/]+)$/.exec(pathname);
  if (m) return { kind: 'blob', repo: m[1] };
  return { kind: 'other' };
}

/** A throwaway self-signed certificate for 127.0.0.1 (needs the openssl CLI). */
export function selfSignedCertificate(dir: string): {
  key: string;
  cert: string;
} {
  const keyFile = path.join(dir, 'key.pem');
  const certFile = path.join(dir, 'cert.pem');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
      '-keyout',
      keyFile,
      '-out',
      certFile,
    ],
    { stdio: 'ignore' },
  );
  return {
    key: fs.readFileSync(keyFile, 'utf8'),
    cert: fs.readFileSync(certFile, 'utf8'),
  };
}

export async function startRegistryProxy(
  options: RegistryProxyOptions,
): Promise<RegistryProxy> {
  const target = new URL(options.target);
  const maxPageSize = options.maxPageSize ?? 100;
  const tokens = new Map<string, { scope: string; expiresAt: number }>();
  const requests: ProxiedRequest[] = [];
  const hanging = new Set<http.ServerResponse>();
  let fault: { fault: ProxyFault; match?: RegExp } | undefined;
  let selfURL = '';

  const challenge = (repo: string | undefined) =>
    `Bearer realm="${selfURL}/token",service="stagecoach-test-registry"${
      repo ? `,scope="repository:${repo}:pull"` : ''
    }`;

  const deny = (res: http.ServerResponse, repo: string | undefined) => {
    res.writeHead(401, {
      'content-type': 'application/json',
      'www-authenticate': challenge(repo),
    });
    res.end(
      JSON.stringify({
        errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }],
      }),
    );
  };

  function issueToken(
    req: http.IncomingMessage,
    url: URL,
    res: http.ServerResponse,
  ) {
    const expected = `Basic ${Buffer.from(
      `${options.auth!.username}:${options.auth!.password}`,
    ).toString('base64')}`;
    if (req.headers.authorization !== expected) {
      res.writeHead(401, {
        'content-type': 'application/json',
        'www-authenticate': 'Basic realm="stagecoach-test-token"',
      });
      res.end(JSON.stringify({ details: 'incorrect username or password' }));
      return;
    }
    const token = randomBytes(16).toString('hex');
    const expiresIn = options.auth!.expiresInSeconds ?? 300;
    tokens.set(token, {
      scope: url.searchParams.get('scope') ?? '',
      expiresAt: Date.now() + expiresIn * 1000,
    });
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        token,
        access_token: token,
        expires_in: expiresIn,
        issued_at: new Date().toISOString(),
      }),
    );
  }

  function authorized(
    req: http.IncomingMessage,
    repo: string | undefined,
  ): boolean {
    const m = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '');
    const grant = m ? tokens.get(m[1]) : undefined;
    if (!grant || grant.expiresAt < Date.now()) return false;
    return !repo || grant.scope.split(' ').includes(`repository:${repo}:pull`);
  }

  function upstream(
    req: http.IncomingMessage,
    pathAndQuery: string,
  ): Promise<{
    status: number;
    headers: http.IncomingHttpHeaders;
    body: Buffer;
  }> {
    return new Promise((resolve, reject) => {
      const headers = { ...req.headers, host: target.host };
      delete headers.authorization;
      const u = http.request(
        {
          host: target.hostname,
          port: target.port,
          method: req.method,
          path: pathAndQuery,
          headers,
        },
        r => {
          const chunks: Buffer[] = [];
          r.on('data', c => chunks.push(c));
          r.on('end', () =>
            resolve({
              status: r.statusCode ?? 502,
              headers: r.headers,
              body: Buffer.concat(chunks),
            }),
          );
          r.on('error', reject);
        },
      );
      u.on('error', reject);
      u.end();
    });
  }

  /** Serves one page of the full tag list, sorted, starting after `last`, with a Link to the next. */
  async function paginatedTags(
    req: http.IncomingMessage,
    url: URL,
    repo: string,
    res: http.ServerResponse,
  ) {
    const full = await upstream(req, url.pathname);
    if (full.status !== 200) {
      res.writeHead(full.status, {
        'content-type': String(
          full.headers['content-type'] ?? 'application/json',
        ),
      });
      res.end(full.body);
      return;
    }
    const all = (
      (JSON.parse(full.body.toString()) as { tags: string[] | null }).tags ?? []
    ).sort();
    const n = Math.min(
      Number(url.searchParams.get('n') ?? maxPageSize) || maxPageSize,
      maxPageSize,
    );
    const last = url.searchParams.get('last');
    const rest = last === null ? all : all.filter(t => t > last);
    const page = rest.slice(0, n);
    const headers: http.OutgoingHttpHeaders = {
      'content-type': 'application/json',
    };
    if (rest.length > page.length) {
      headers.link = `</v2/${repo}/tags/list?n=${n}&last=${encodeURIComponent(
        page[page.length - 1],
      )}>; rel="next"`;
    }
    res.writeHead(200, headers);
    res.end(JSON.stringify({ name: repo, tags: page }));
  }

  async function handle(
    req: http.IncomingMessage,
    res: http.ServerResponse,
  ): Promise<void> {
    const url = new URL(req.url ?? '/', selfURL);
    const { kind, repo } = classify(url.pathname);
    const record: ProxiedRequest = {
      method: req.method ?? 'GET',
      url: req.url ?? '/',
      kind,
      status: 0,
    };
    requests.push(record);
    res.on('finish', () => (record.status = res.statusCode));

    if (kind === 'token' && options.auth) {
      issueToken(req, url, res);
      return;
    }
    if (
      fault &&
      kind !== 'token' &&
      (!fault.match || fault.match.test(url.pathname))
    ) {
      switch (fault.fault) {
        case '500':
          res.writeHead(500, { 'content-type': 'application/json' });
          res.end(
            JSON.stringify({
              errors: [{ code: 'UNKNOWN', message: 'internal error' }],
            }),
          );
          return;
        case 'hang':
          hanging.add(res);
          return;
        case 'malformed':
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end('{"name":"app","tags":["1.0.0",');
          return;
        case '401':
          deny(res, repo);
          return;
        default:
      }
    }
    if (options.auth && !authorized(req, repo)) {
      deny(res, repo);
      return;
    }
    if (kind === 'tags' && req.method === 'GET') {
      await paginatedTags(req, url, repo!, res);
      return;
    }
    const r = await upstream(req, url.pathname + url.search);
    const headers = { ...r.headers };
    delete headers.connection;
    delete headers['keep-alive'];
    delete headers['transfer-encoding'];
    res.writeHead(r.status, headers);
    res.end(r.body);
  }

  const onRequest = (req: http.IncomingMessage, res: http.ServerResponse) => {
    handle(req, res).catch(e => {
      if (!res.headersSent)
        res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`proxy error: ${(e as Error).message}`);
    });
  };
  const server = options.tls
    ? https.createServer(options.tls, onRequest)
    : http.createServer(onRequest);
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  selfURL = `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}`;

  return {
    host: `127.0.0.1:${port}`,
    url: selfURL,
    requests,
    count: (kind, method) =>
      requests.filter(
        r => (!kind || r.kind === kind) && (!method || r.method === method),
      ).length,
    reset: () => {
      requests.length = 0;
    },
    setFault(f, match) {
      fault = f ? { fault: f, match } : undefined;
      for (const res of hanging) res.destroy();
      hanging.clear();
    },
    async close() {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>(resolve => server.close(() => resolve()));
    },
  };
}
