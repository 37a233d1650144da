import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { withoutCredentials } from '../../util/repositoryKeys';
import { WebhookPayloadError } from './types';

/** One header's value (the first, if sent more than once); names are case-insensitive. */
export function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name.toLowerCase()];
  const first = Array.isArray(value) ? value[0] : value;
  return typeof first === 'string' ? first : undefined;
}

/**
 * Constant-time equality for secrets. Both sides are hashed first, so neither the content nor
 * the length of the expected value leaks through timing.
 */
export function safeEqual(given: string | Buffer, expected: string | Buffer): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/** True when `signature` (hex, optionally `sha256=`-prefixed) is HMAC-SHA256(secret, body). */
export function hmacSha256Matches(signature: string | undefined, secret: string, body: Buffer, prefix = ''): boolean {
  if (!signature || !secret) return false;
  const trimmed = signature.trim();
  if (prefix && !trimmed.toLowerCase().startsWith(prefix)) return false;
  const hex = trimmed.slice(prefix.length).toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(hex)) return false;
  const expected = createHmac('sha256', secret).update(body).digest('hex');
  return safeEqual(hex, expected);
}

/** The token of an `Authorization: Bearer <token>` header, if that is what was sent. */
export function bearerToken(headers: IncomingHttpHeaders): string | undefined {
  const match = /^Bearer\s+(\S.*)$/i.exec(header(headers, 'authorization')?.trim() ?? '');
  return match?.[1].trim();
}

export type Json = Record<string, unknown>;

export function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The body as an object, or a 400 naming what the sender was expected to send. */
export function expectObject(body: unknown, what: string): Json {
  if (!isObject(body)) throw new WebhookPayloadError(`expected ${what} (a JSON object)`);
  return body;
}

/** Follows a path of keys through nested objects; undefined when any step is missing. */
export function pick(value: unknown, ...path: Array<string | number>): unknown {
  let current: unknown = value;
  for (const key of path) {
    if (typeof key === 'number') {
      if (!Array.isArray(current)) return undefined;
      current = current[key];
    } else {
      if (!isObject(current)) return undefined;
      current = current[key];
    }
  }
  return current;
}

export function pickString(value: unknown, ...path: Array<string | number>): string | undefined {
  const found = pick(value, ...path);
  return typeof found === 'string' && found.trim() ? found.trim() : undefined;
}

export function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

export function unique(values: Array<string | undefined>): string[] {
  return [...new Set(values.filter((v): v is string => !!v))];
}

/** Only the http(s) URLs of the list, without user names or passwords, each once. */
export function httpURLs(values: Array<string | undefined>): string[] {
  return unique(values.filter(v => !!v && /^https?:\/\//i.test(v)).map(v => withoutCredentials(v!)));
}
