import http from 'node:http';
import https from 'node:https';
import { randomBytes } from 'node:crypto';
import { AddressInfo } from 'node:net';

/** One request as a loopback API server received it. */
export interface LoopbackRequest {
  method: string;
  /** The path as sent, still percent-encoded (GitLab's project IDs are `group%2Fproject`). */
  path: string;
  /** The path split at `/`, each segment decoded. */
  segments: string[];
  query: URLSearchParams;
  headers: http.IncomingHttpHeaders;
  /** Parsed JSON, or undefined without a body. */
  body: any;
}

export interface LoopbackResponse {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export type LoopbackHandler = (req: LoopbackRequest) => LoopbackResponse | Promise<LoopbackResponse>;

export interface LoopbackApi {
  /** http(s)://127.0.0.1:<port> */
  origin: string;
  /** host:port, as Backstage integrations name hosts. */
  host: string;
  requests: LoopbackRequest[];
  close(): Promise<void>;
}

/** A JSON API on 127.0.0.1 (HTTPS when given a certificate), recording every request. */
export async function startLoopbackApi(
  handler: LoopbackHandler,
  options: { tls?: { key: string; cert: string } } = {},
): Promise<LoopbackApi> {
  const requests: LoopbackRequest[] = [];
  const listener: http.RequestListener = async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const [rawPath, rawQuery = ''] = (req.url ?? '/').split('?');
    const request: LoopbackRequest = {
      method: req.method ?? 'GET',
      path: rawPath,
      segments: rawPath.split('/').filter(Boolean).map(decodeURIComponent),
      query: new URLSearchParams(rawQuery),
      headers: req.headers,
      body: text ? JSON.parse(text) : undefined,
    };
    requests.push(request);
    try {
      const out = await handler(request);
      const body = out.body === undefined ? '' : JSON.stringify(out.body);
      res.writeHead(out.status, { ...(body ? { 'Content-Type': 'application/json; charset=utf-8' } : {}), ...out.headers });
      res.end(body);
    } catch (e) {
      res.writeHead(500, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ message: `loopback server bug: ${(e as Error).message}` }));
    }
  };
  const server = options.tls ? https.createServer(options.tls, listener) : http.createServer(listener);
  await new Promise<void>(r => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    host: `127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>(r => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** A random 40-hex commit SHA. */
export function fakeSha(): string {
  return randomBytes(20).toString('hex');
}
