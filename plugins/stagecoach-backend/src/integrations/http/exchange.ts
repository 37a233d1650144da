import http from 'node:http';
import { Dispatcher, fetch as undiciFetch, Headers as UndiciHeaders, RequestInit as UndiciRequestInit } from 'undici';
import { parseDuration } from '../../util/duration';
import { redactSecrets } from '../../util/secrets';
import { EgressPolicy, egressRefusalIn } from './egress';
import { egressDispatcher } from './egressDispatcher';

/**
 * One HTTP request that manifests ask for (the `http` and `http-download` steps, the `web`
 * and `prometheus` metrics): every hop, redirects included, passes the egress policy; a
 * deadline covers the whole exchange; messages name the request, never header values.
 */

/** Thrown by this module with a message meant for the user as it is. */
export class HttpExchangeError extends Error {
  /** The exchange's deadline passed. */
  readonly timedOut: boolean;

  constructor(
    message: string,
    options: {
      /** What fetch threw, for callers that explain it their own way (the SCM API client). */
      cause?: unknown;
      /** The exchange's deadline passed. */
      timedOut?: boolean;
    } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'HttpExchangeError';
    this.timedOut = options.timedOut ?? false;
  }
}

export interface HttpRequestSpec {
  method: string;
  url: string;
  headers: { name: string; value: string }[];
  queryParams: { name: string; value: string }[];
  body?: Uint8Array;
  /** As the user wrote it (`10s`), for messages. */
  timeout: string;
  insecureSkipTLSVerify?: boolean;
  proxy?: string;
  /**
   * Headers (by name) meant for the request's origin only, such as credentials from
   * app-config: dropped, with Authorization and Cookie, when a redirect leads elsewhere.
   */
  originBoundHeaders?: string[];
}

export interface ExchangeContext {
  egress: EgressPolicy;
  signal: AbortSignal;
}

/**
 * The URL for messages: user and password replaced, query values hidden (presigned URLs
 * and API keys travel there).
 */
export function shownUrl(url: string | URL): string {
  const u = new URL(url);
  if (u.username || u.password) {
    u.username = '***';
    u.password = '';
  }
  for (const key of new Set(u.searchParams.keys())) u.searchParams.set(key, '***');
  return redactSecrets(u.href);
}

/** The URL requested, query parameters included, as messages show it. */
export function shownRequestUrl(spec: Pick<HttpRequestSpec, 'url' | 'queryParams'>): string {
  const url = new URL(spec.url);
  for (const q of spec.queryParams) url.searchParams.append(q.name, q.value);
  return shownUrl(url);
}

/** `GET https://host/path?q=***`: how messages name a request. */
export function describeRequest(spec: Pick<HttpRequestSpec, 'method' | 'url' | 'queryParams'>): string {
  return `${spec.method} ${shownRequestUrl(spec)}`;
}

export function statusLine(status: number): string {
  const text = http.STATUS_CODES[status];
  return text ? `${status} ${text}` : String(status);
}

export function isSuccessStatus(status: number): boolean {
  return status >= 200 && status < 300;
}

export function mebibytes(bytes: number): string {
  return `${Math.round((bytes / 2 ** 20) * 10) / 10} MiB`;
}

/**
 * fetch refuses URLs that carry credentials; like Go's client (and so Kargo), send them as
 * Basic authentication instead, unless the configuration set Authorization itself.
 */
function requestTarget(spec: HttpRequestSpec): { url: URL; headers: UndiciHeaders } {
  const url = new URL(spec.url);
  for (const q of spec.queryParams) url.searchParams.append(q.name, q.value);
  const headers = new UndiciHeaders();
  for (const h of spec.headers) headers.append(h.name, h.value);
  if (url.username || url.password) {
    if (!headers.has('authorization')) {
      const user = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
      headers.set('authorization', `Basic ${Buffer.from(user).toString('base64')}`);
    }
    url.username = '';
    url.password = '';
  }
  return { url, headers };
}

const TLS_PROBLEM = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS|SSL/i;

/** The useful part of a fetch error: fetch wraps the real reason (ECONNREFUSED, ...) in `cause`. */
export function causeText(e: unknown): string {
  const parts: string[] = [];
  let tlsProblem = false;
  for (let cur: any = e, depth = 0; cur && depth < 5; cur = cur.cause, depth++) {
    const code = typeof cur.code === 'string' ? cur.code : '';
    if (TLS_PROBLEM.test(code)) tlsProblem = true;
    // not instanceof Error: fetch's errors may come from another realm (jest's, for one)
    const message = (typeof cur.message === 'string' ? cur.message : String(cur)) || code;
    if (message && message !== 'fetch failed' && !parts.includes(message)) parts.push(message);
  }
  const text = parts.join(': ') || 'unknown error';
  return tlsProblem
    ? `${text} (the server's certificate does not verify; insecureSkipTLSVerify: true skips the check, not recommended)`
    : text;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
/** As fetch: more than this many redirects is an error. */
export const MAX_REDIRECTS = 20;
/** What a redirect to another origin never carries (as fetch drops them). */
const ORIGIN_BOUND = ['authorization', 'cookie', 'proxy-authorization'];
/** Dropped when a redirect turns the request into a GET without a body. */
const BODY_HEADERS = ['content-type', 'content-length', 'content-encoding', 'content-language', 'content-location'];

/**
 * Sends the request, following redirects one hop at a time: each hop's URL passes the egress
 * policy before it is requested, and its connection's address when it connects.
 */
async function send(
  ctx: ExchangeContext,
  spec: HttpRequestSpec,
  what: string,
  signal: AbortSignal,
  dispatcher: Dispatcher,
): Promise<Response> {
  const target = requestTarget(spec);
  let { url } = target;
  const { headers } = target;
  let method = spec.method;
  let body = spec.body;
  if (spec.proxy) ctx.egress.checkUrl(new URL(spec.proxy), `the proxy ${shownUrl(spec.proxy)}`);
  // how messages name the hop under way: the request, then where it was redirected
  let hopName = what;
  let hopUrl = shownUrl(url);
  for (let hop = 0; ; hop++) {
    ctx.egress.checkUrl(url, hopUrl);
    // through a proxy, the proxy resolves the name: check what it resolves to here
    if (spec.proxy) await ctx.egress.checkResolved(url, hopUrl);
    let response: Response;
    try {
      // undici's own fetch, the same library as the dispatcher: its errors keep their cause (a refusal) intact
      const init: UndiciRequestInit = { method, headers, body, redirect: 'manual', signal, dispatcher };
      response = (await undiciFetch(url, init)) as unknown as Response;
    } catch (e) {
      const refused = egressRefusalIn(e);
      if (refused) throw refused.at(hopUrl);
      throw new HttpExchangeError(`${hopName} failed: ${causeText(e)}`, { cause: e });
    }
    const location = response.headers.get('location');
    if (!REDIRECTS.has(response.status) || location === null) return response;
    await response.body?.cancel().catch(() => undefined);
    if (hop >= MAX_REDIRECTS) throw new HttpExchangeError(`${what} was redirected more than ${MAX_REDIRECTS} times`);
    let next: URL;
    try {
      next = new URL(location, url);
    } catch {
      throw new HttpExchangeError(`${hopName} answered ${statusLine(response.status)} with a Location that is not a URL`);
    }
    if (response.status === 303 ? method !== 'HEAD' : (response.status === 301 || response.status === 302) && method === 'POST') {
      method = 'GET';
      body = undefined;
      for (const h of BODY_HEADERS) headers.delete(h);
    }
    if (next.origin !== url.origin) {
      for (const h of [...ORIGIN_BOUND, ...(spec.originBoundHeaders ?? [])]) headers.delete(h);
    }
    hopUrl = `${shownUrl(next)} (redirected from ${shownUrl(url)})`;
    hopName = `${what}, redirected to ${shownUrl(next)},`;
    url = next;
  }
}

/**
 * Sends one request and hands the response to `use`, which reads the body. The timeout
 * covers the whole exchange, redirects and body included, as Go's client timeout does. Errors
 * come out as messages naming the request, never its header values; a refusal by the egress
 * policy as an EgressRefusedError.
 */
export async function exchange<T>(
  ctx: ExchangeContext,
  spec: HttpRequestSpec,
  use: (response: Response, what: string) => Promise<T>,
): Promise<T> {
  const what = describeRequest(spec);
  const deadline = new AbortController();
  const timer = setTimeout(() => deadline.abort(), parseDuration(spec.timeout));
  const signal = AbortSignal.any([ctx.signal, deadline.signal]);
  const { dispatcher, release } = egressDispatcher(ctx.egress, spec);
  try {
    const response = await send(ctx, spec, what, signal, dispatcher);
    return await use(response, what);
  } catch (e) {
    // an abort surfaces as whatever read was under way; say why it really stopped
    if (deadline.signal.aborted) throw new HttpExchangeError(`${what} timed out after ${spec.timeout}`, { timedOut: true });
    if (ctx.signal.aborted) throw new HttpExchangeError(`${what} was aborted`);
    throw e;
  } finally {
    clearTimeout(timer);
    await release();
  }
}

/**
 * Passes the body to `onChunk` piece by piece and returns its size; past `limit` bytes it
 * stops reading and throws, so a huge answer cannot exhaust memory or disk.
 */
export async function streamBody(
  response: Response,
  limit: number,
  what: string,
  onChunk: (chunk: Uint8Array) => unknown,
): Promise<number> {
  const tooLarge = `the answer to ${what} is larger than the ${mebibytes(limit)} limit`;
  const declared = Number(response.headers.get('content-length') ?? 0);
  if (declared > limit) {
    await response.body?.cancel().catch(() => undefined);
    throw new HttpExchangeError(`${tooLarge} (${declared} bytes)`);
  }
  if (!response.body) return 0;
  const reader = response.body.getReader();
  let size = 0;
  for (;;) {
    let next: ReadableStreamReadResult<Uint8Array>;
    try {
      next = await reader.read();
    } catch (e) {
      throw new HttpExchangeError(`the answer to ${what} broke off after ${size} bytes: ${causeText(e)}`);
    }
    if (next.done) return size;
    size += next.value.length;
    if (size > limit) {
      await reader.cancel().catch(() => undefined);
      throw new HttpExchangeError(tooLarge);
    }
    await onChunk(next.value);
  }
}

export async function readBody(response: Response, limit: number, what: string): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  await streamBody(response, limit, what, chunk => chunks.push(chunk));
  return Buffer.concat(chunks);
}
