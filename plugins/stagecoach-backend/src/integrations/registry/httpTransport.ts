import http from 'node:http';
import https from 'node:https';
import type { Readable } from 'node:stream';
import { EgressPolicy, egressRefusalIn } from '../http/egress';
import { egressLookup } from '../http/egressDispatcher';

/** A request body: bytes, or a stream opened when the request is sent (a blob on disk). */
export type TransportBody = Buffer | { length: number; open(): Readable };

export interface TransportRequest {
  url: URL;
  method: 'GET' | 'HEAD' | 'POST' | 'PUT';
  headers: Record<string, string>;
  timeoutMs: number;
  /** Accept a certificate that does not verify (self-signed registries). */
  insecureSkipTLSVerify?: boolean;
  /** Stop reading, and fail, past this many bytes. */
  maxBodyBytes: number;
  body?: TransportBody;
  /**
   * Where a 2xx answer's body goes, chunk by chunk, instead of into memory (a blob written
   * to a file); the response is paused while a chunk is written.
   */
  sink?: (chunk: Buffer) => Promise<void>;
  /**
   * Connections pass this policy (a request a manifest named): every address a name
   * resolves to is checked in the connection's DNS lookup. The caller checks the URL itself.
   */
  egress?: EgressPolicy;
  signal?: AbortSignal;
}

export interface TransportResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** Why a request got no usable response; the registry client turns these into messages. */
export class TransportFailure extends Error {
  constructor(
    readonly reason: 'timeout' | 'network' | 'tls' | 'too-large' | 'egress' | 'aborted' | 'sink',
    /** A short technical detail (an error code such as ECONNREFUSED), never a URL with credentials. */
    readonly detail: string,
  ) {
    super(`${reason}: ${detail}`);
  }
}

const TLS_CODES = /CERT|SSL|TLS|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS/i;

/**
 * Plain HTTP(S) over Node's own client with keep-alive agents. Node's http is used rather than
 * fetch because it lets a request skip TLS verification (insecureSkipTLSVerify) without an
 * extra dependency, and gives a hard deadline over the whole exchange.
 */
export class HttpTransport {
  private readonly httpAgent: http.Agent;
  private readonly httpsAgent: https.Agent;
  private readonly insecureAgent: https.Agent;
  private readonly maxSockets: number;
  /** Agents whose connections pass an egress policy, per policy and TLS choice. */
  private readonly egressAgents = new Map<EgressPolicy, Map<string, http.Agent>>();

  constructor(maxSockets: number) {
    this.maxSockets = maxSockets;
    this.httpAgent = new http.Agent({ keepAlive: true, maxSockets });
    this.httpsAgent = new https.Agent({ keepAlive: true, maxSockets });
    this.insecureAgent = new https.Agent({
      keepAlive: true,
      maxSockets,
      rejectUnauthorized: false,
    });
  }

  private agentFor(req: TransportRequest, isHttps: boolean): http.Agent {
    if (!req.egress) {
      if (!isHttps) return this.httpAgent;
      return req.insecureSkipTLSVerify ? this.insecureAgent : this.httpsAgent;
    }
    let byKind = this.egressAgents.get(req.egress);
    if (!byKind) {
      byKind = new Map();
      this.egressAgents.set(req.egress, byKind);
    }
    let kind: 'http' | 'insecure' | 'https' = 'https';
    if (!isHttps) kind = 'http';
    else if (req.insecureSkipTLSVerify) kind = 'insecure';
    let agent = byKind.get(kind);
    if (!agent) {
      const options = { keepAlive: true, maxSockets: this.maxSockets, lookup: egressLookup(req.egress) as any };
      agent = !isHttps
        ? new http.Agent(options)
        : new https.Agent({ ...options, rejectUnauthorized: kind !== 'insecure' });
      byKind.set(kind, agent);
    }
    return agent;
  }

  send(req: TransportRequest): Promise<TransportResponse> {
    const isHttps = req.url.protocol === 'https:';
    const agent = this.agentFor(req, isHttps);
    const request = isHttps ? https.request : http.request;
    return new Promise<TransportResponse>((resolve, reject) => {
      let settled = false;
      let timer: NodeJS.Timeout | undefined = undefined;
      const fail = (f: TransportFailure) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        req.signal?.removeEventListener('abort', onAbort);
        reject(f);
      };
      const r = request(
        req.url,
        { method: req.method, headers: req.headers, agent },
        res => {
          const chunks: Buffer[] = [];
          let size = 0;
          const status = res.statusCode ?? 0;
          const sink = status >= 200 && status < 300 ? req.sink : undefined;
          let writing: Promise<void> = Promise.resolve();
          res.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size > req.maxBodyBytes) {
              fail(
                new TransportFailure(
                  'too-large',
                  `more than ${req.maxBodyBytes} bytes`,
                ),
              );
              r.destroy();
              return;
            }
            if (!sink) {
              chunks.push(chunk);
              return;
            }
            res.pause();
            writing = writing
              .then(() => sink(chunk))
              .then(
                () => {
                  res.resume();
                },
                e => {
                  fail(new TransportFailure('sink', (e as Error).message));
                  r.destroy();
                },
              );
          });
          res.on('error', e => fail(classify(e)));
          res.on('end', async () => {
            await writing;
            if (settled) return;
            settled = true;
            clearTimeout(timer);
            req.signal?.removeEventListener('abort', onAbort);
            resolve({
              status: res.statusCode ?? 0,
              headers: res.headers,
              body: Buffer.concat(chunks),
            });
          });
        },
      );
      timer = setTimeout(() => {
        fail(new TransportFailure('timeout', `${req.timeoutMs}ms`));
        r.destroy();
      }, req.timeoutMs);
      // a declaration, hoisted: fail() and the end handler remove it before this line runs
      function onAbort() {
        fail(new TransportFailure('aborted', 'the request was cancelled'));
        r.destroy();
      }
      if (req.signal?.aborted) onAbort();
      req.signal?.addEventListener('abort', onAbort, { once: true });
      r.on('error', e => fail(classify(e)));
      if (req.body === undefined) {
        r.end();
      } else if (Buffer.isBuffer(req.body)) {
        r.setHeader('content-length', req.body.length);
        r.end(req.body);
      } else {
        r.setHeader('content-length', req.body.length);
        const source = req.body.open();
        source.on('error', e => {
          fail(new TransportFailure('sink', e.message));
          r.destroy();
        });
        source.pipe(r);
      }
    });
  }

  /** Closes idle keep-alive connections so a process (or a test) can exit. */
  close(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
    this.insecureAgent.destroy();
    for (const byKind of this.egressAgents.values())
      for (const agent of byKind.values()) agent.destroy();
    this.egressAgents.clear();
  }
}

function classify(e: Error & { code?: string }): TransportFailure {
  const refusal = egressRefusalIn(e);
  if (refusal) return new TransportFailure('egress', refusal.reason);
  const code = e.code ?? e.name;
  if (TLS_CODES.test(code) || TLS_CODES.test(e.message))
    return new TransportFailure('tls', code);
  return new TransportFailure('network', code);
}
