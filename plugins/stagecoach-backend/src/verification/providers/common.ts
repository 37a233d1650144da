import { z } from 'zod';
import { DEFAULT_EGRESS_POLICY } from '../../integrations/http/egress';
import type { ExchangeContext } from '../../integrations/http/exchange';
import { byteSize } from '../../util/bytes';
import { valueText } from '../conditions';
import type { MeasureContext } from '../types';

/**
 * What the web and prometheus metric providers share: Rollouts' `headers[] {key, value}`,
 * settings that may be written as text (an `{{args.x}}` becomes text when substituted), and
 * checking a configuration that still holds `{{args.x}}` placeholders.
 */

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** Rollouts' header list. A message never repeats a header's value: it is often a token. */
export const metricHeadersSchema = z
  .array(
    z
      .object({
        key: z.string().regex(HEADER_NAME, "must be a header name (letters, digits and !#$%&'*+-.^_`|~)"),
        value: z.string().refine(v => !/[\r\n\0]/.test(v), 'must be a single line'),
      })
      .strict(),
  )
  .default([]);

/** The whole number a text holds (`" 10 "`), or NaN. */
export function wholeText(text: string): number {
  return /^\s*-?\d+\s*$/.test(text) ? Number(text) : NaN;
}

/** A whole number written as a number or as text (`"10"`, from `{{args.timeout}}`). */
export function wholeNumber(min: number) {
  return z.union([z.number(), z.string()]).transform((v, ctx) => {
    const n = typeof v === 'number' ? v : wholeText(v);
    if (!Number.isInteger(n)) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: `must be a whole number, got ${JSON.stringify(v)}` });
      return z.NEVER;
    }
    if (n < min) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: `must be at least ${min}, got ${n}` });
      return z.NEVER;
    }
    return n;
  });
}

/** true/false, also as the text `"true"`/`"false"`. */
export const looseBoolean = z.union([z.boolean(), z.enum(['true', 'false'])]).transform(v => v === true || v === 'true');

const PLACEHOLDER = /\{\{[^{}]*\}\}/;

function valueAt(root: unknown, path: (string | number)[]): unknown {
  let cur: unknown = root;
  for (const key of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string | number, unknown>)[key];
  }
  return cur;
}

/**
 * Checks a provider configuration as written in an AnalysisTemplate: a field that holds an
 * `{{args.x}}` placeholder is only known once the verification runs, so problems with such
 * a field are left for then (`resolveAnalysis` checks the configuration again).
 */
export function templatedIssues(schema: z.ZodTypeAny, value: unknown): z.ZodIssue[] {
  const parsed = schema.safeParse(value);
  if (parsed.success) return [];
  return parsed.error.issues.filter(issue => {
    const at = valueAt(value, issue.path);
    return !(typeof at === 'string' && PLACEHOLDER.test(at));
  });
}

/** Where credentials for checks belong: app-config, not manifests (which the API shows). */
export const CREDENTIALS_ADVICE =
  'is not supported by Stagecoach: give credentials in app-config, stagecoach.verification.credentials (headers per URL prefix), never in a manifest';

/**
 * The metric's own headers, with app-config's credentials for the URL added; a header the
 * metric sets itself is kept as it is.
 */
export function withCredentials(
  ctx: MeasureContext,
  url: string,
  headers: Array<{ name: string; value: string }>,
): { headers: Array<{ name: string; value: string }>; originBoundHeaders: string[] } {
  const own = new Set(headers.map(h => h.name.toLowerCase()));
  const extra = (ctx.credentials?.headersFor(url) ?? []).filter(h => !own.has(h.name.toLowerCase()));
  // credentials are for the URL they were configured for: a redirect elsewhere does not carry them
  return { headers: [...extra, ...headers], originBoundHeaders: extra.map(h => h.name) };
}

/** The egress policy and abort signal a measurement's request goes out with. */
export function exchangeContext(ctx: MeasureContext): ExchangeContext {
  return { egress: ctx.egress ?? DEFAULT_EGRESS_POLICY, signal: ctx.signal ?? new AbortController().signal };
}

export const MAX_RESULT_BYTES_KEY = 'stagecoach.verification.maxResultBytes';
export const DEFAULT_MAX_RESULT_BYTES = 64 * 1024;

/**
 * Why a measured value is too large to keep, or undefined. Measurements are stored with the
 * verification and shown to everyone who may read the stage, so each keeps little.
 */
export function resultTooLarge(ctx: MeasureContext, result: unknown, advice: string): string | undefined {
  return valueTooLarge(ctx, valueText(result), advice);
}

/** Why a measurement's value, as text, is too large to keep, or undefined. */
export function valueTooLarge(ctx: Pick<MeasureContext, 'maxResultBytes'>, value: string, advice: string): string | undefined {
  const limit = ctx.maxResultBytes ?? DEFAULT_MAX_RESULT_BYTES;
  const size = Buffer.byteLength(value);
  if (size <= limit) return undefined;
  return `the result is ${byteSize(size)}, more than the ${byteSize(limit)} a measurement may keep (${MAX_RESULT_BYTES_KEY}): ${advice}`;
}

/**
 * The longest one web or prometheus measurement may take. A worker holds the verification
 * while it measures (VerificationWorker's claim lasts two minutes), so a longer request could
 * see another worker take the same measurement again.
 */
export const MAX_CHECK_SECONDS = 60;

export function checkSeconds(seconds: number, ctx: z.RefinementCtx): number {
  if (seconds > MAX_CHECK_SECONDS) {
    ctx.addIssue({
      code: z.ZodIssueCode.custom,
      message: `must be at most ${MAX_CHECK_SECONDS} seconds, got ${seconds}: a longer check belongs in a job metric`,
    });
    return z.NEVER;
  }
  return seconds;
}
