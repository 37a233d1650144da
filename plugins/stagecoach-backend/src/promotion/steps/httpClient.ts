import http from 'node:http';
import { Agent, Dispatcher, ProxyAgent } from 'undici';
import { z } from 'zod';
import { parseDuration } from '../../util/duration';
import { redactSecrets } from '../../util/secrets';
import type { StepContext } from './types';

/**
 * What the `http` and `http-download` steps share: their header and query fields, one
 * request with a deadline over the whole exchange, and reading a body within a size limit.
 */

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

export const headersSchema = z
  .array(
    z
      .object({
        name: z.string().regex(HEADER_NAME, "must be a header name (letters, digits and !#$%&'*+-.^_`|~)"),
        // the message never repeats the value: it may be a token
        value: z
          .string()
          .min(1)
          .refine(v => !/[\r\n\0]/.test(v), 'must be a single line'),
      })
      .strict(),
  )
  .default([]);

export const queryParamsSchema = z
  .array(z.object({ name: z.string().min(1), value: z.string().min(1) }).strict())
  .default([]);

export const httpUrlSchema = z
  .string()
  .min(1)
  .superRefine((text, ctx) => {
    let protocol: string;
    try {
      protocol = new URL(text).protocol;
    } catch {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: 'must be an absolute http:// or https:// URL' });
      return;
    }
    if (protocol !== 'http:' && protocol !== 'https:') {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: `must be an http:// or https:// URL, not ${protocol}` });
    }
  });

/** A Go-style duration longer than zero, such as `30s` or `1m30s`. */
export const durationSchema = z.string().superRefine((text, ctx) => {
  try {
    if (parseDuration(text) <= 0) ctx.addIssue({ code: z.ZodIssueCode.custom, message: 'must be longer than 0s' });
  } catch (e) {
    ctx.addIssue({ code: z.ZodIssueCode.custom, message: (e as Error).message });
  }
});

/** Thrown by this module with a message meant for the user as it is. */
export class HttpStepError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HttpStepError';
  }
}

export interface HttpRequestSpec {
  method: string;
  url: string;
  headers: { name: string; value: string }[];
  queryParams: { name: string; value: string }[];
  body?: Uint8Array;
  /** As the user wrote it, for messages. */
  timeout: string;
  insecureSkipTLSVerify?: boolean;
  proxy?: string;
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

/**
 * fetch refuses URLs that carry credentials; like Go's client (and so Kargo), send them as
 * Basic authentication instead, unless the configuration set Authorization itself.
 */
function requestTarget(spec: HttpRequestSpec): { url: URL; headers: Headers } {
  const url = new URL(spec.url);
  for (const q of spec.queryParams) url.searchParams.append(q.name, q.value);
  const headers = new Headers();
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

function dispatcherFor(spec: HttpRequestSpec): Dispatcher | undefined {
  const tls = spec.insecureSkipTLSVerify ? { rejectUnauthorized: false } : undefined;
  if (spec.proxy) return new ProxyAgent({ uri: spec.proxy, requestTls: tls });
  return tls ? new Agent({ connect: tls }) : undefined;
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

/**
 * Sends one request and hands the response to `use`, which reads the body. The timeout
 * covers the whole exchange, body included, as Go's client timeout does. Errors come out
 * as messages naming the request, never its header values.
 */
export async function exchange<T>(
  ctx: Pick<StepContext, 'fetch' | 'signal'>,
  spec: HttpRequestSpec,
  use: (response: Response, what: string) => Promise<T>,
): Promise<T> {
  const what = describeRequest(spec);
  const { url, headers } = requestTarget(spec);
  const deadline = new AbortController();
  const timer = setTimeout(() => deadline.abort(), parseDuration(spec.timeout));
  const dispatcher = dispatcherFor(spec);
  try {
    let response: Response;
    try {
      response = await ctx.fetch(url, {
        method: spec.method,
        headers,
        body: spec.body,
        redirect: 'follow',
        signal: AbortSignal.any([ctx.signal, deadline.signal]),
        ...(dispatcher ? { dispatcher } : {}),
      } as RequestInit);
    } catch (e) {
      throw new HttpStepError(`${what} failed: ${causeText(e)}`);
    }
    return await use(response, what);
  } catch (e) {
    // an abort surfaces as whatever read was under way; say why it really stopped
    if (deadline.signal.aborted) throw new HttpStepError(`${what} timed out after ${spec.timeout}`);
    if (ctx.signal.aborted) throw new HttpStepError(`${what} was aborted`);
    throw e;
  } finally {
    clearTimeout(timer);
    await dispatcher?.destroy();
  }
}

export function mebibytes(bytes: number): string {
  return `${Math.round((bytes / 2 ** 20) * 10) / 10} MiB`;
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
    throw new HttpStepError(`${tooLarge} (${declared} bytes)`);
  }
  if (!response.body) return 0;
  const reader = response.body.getReader();
  let size = 0;
  for (;;) {
    let next: ReadableStreamReadResult<Uint8Array>;
    try {
      next = await reader.read();
    } catch (e) {
      throw new HttpStepError(`the answer to ${what} broke off after ${size} bytes: ${causeText(e)}`);
    }
    if (next.done) return size;
    size += next.value.length;
    if (size > limit) {
      await reader.cancel().catch(() => undefined);
      throw new HttpStepError(tooLarge);
    }
    await onChunk(next.value);
  }
}

export async function readBody(response: Response, limit: number, what: string): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  await streamBody(response, limit, what, chunk => chunks.push(chunk));
  return Buffer.concat(chunks);
}
