import http from 'node:http';
import https from 'node:https';

export interface TransportRequest {
  url: URL;
  method: 'GET' | 'HEAD';
  headers: Record<string, string>;
  timeoutMs: number;
  /** Accept a certificate that does not verify (self-signed registries). */
  insecureSkipTLSVerify?: boolean;
  /** Stop reading, and fail, past this many bytes. */
  maxBodyBytes: number;
}

export interface TransportResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** Why a request got no usable response; the registry client turns these into messages. */
export class TransportFailure extends Error {
  constructor(
    readonly reason: 'timeout' | 'network' | 'tls' | 'too-large',
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

  constructor(maxSockets: number) {
    this.httpAgent = new http.Agent({ keepAlive: true, maxSockets });
    this.httpsAgent = new https.Agent({ keepAlive: true, maxSockets });
    this.insecureAgent = new https.Agent({
      keepAlive: true,
      maxSockets,
      rejectUnauthorized: false,
    });
  }

  send(req: TransportRequest): Promise<TransportResponse> {
    const isHttps = req.url.protocol === 'https:';
    let agent: http.Agent = this.httpAgent;
    if (isHttps)
      agent = req.insecureSkipTLSVerify ? this.insecureAgent : this.httpsAgent;
    const request = isHttps ? https.request : http.request;
    return new Promise<TransportResponse>((resolve, reject) => {
      let settled = false;
      let timer: NodeJS.Timeout | undefined = undefined;
      const fail = (f: TransportFailure) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        reject(f);
      };
      const r = request(
        req.url,
        { method: req.method, headers: req.headers, agent },
        res => {
          const chunks: Buffer[] = [];
          let size = 0;
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
            chunks.push(chunk);
          });
          res.on('error', e => fail(classify(e)));
          res.on('end', () => {
            if (settled) return;
            settled = true;
            clearTimeout(timer);
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
      r.on('error', e => fail(classify(e)));
      r.end();
    });
  }

  /** Closes idle keep-alive connections so a process (or a test) can exit. */
  close(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
    this.insecureAgent.destroy();
  }
}

function classify(e: Error & { code?: string }): TransportFailure {
  const code = e.code ?? e.name;
  if (TLS_CODES.test(code) || TLS_CODES.test(e.message))
    return new TransportFailure('tls', code);
  return new TransportFailure('network', code);
}
