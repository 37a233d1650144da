import { JSONPath } from 'jsonpath-plus';
import { z } from 'zod';
import { httpURL } from '../../integrations/http/requestFields';
import { exchange, isSuccessStatus, readBody, shownUrl, statusLine } from '../../integrations/http/exchange';
import { errorMeasurement, judgedMeasurement } from '../conditions';
import type { MeasureContext, Metric, MetricProvider } from '../types';
import {
  checkSeconds,
  CREDENTIALS_ADVICE,
  exchangeContext,
  looseBoolean,
  metricHeadersSchema,
  resultTooLarge,
  wholeNumber,
  withCredentials,
} from './common';

/**
 * Rollouts' `web` metric: one HTTP request; the answer (JSON, or the JSONPath's first
 * match in it) is the `result` the conditions judge. Requests go out like the `http` step's
 * (same client, deadline over the whole exchange, messages that never show header values).
 */

const MAX_BODY = 10 * 2 ** 20;

/** A web metric's settings, as Rollouts names them (`provider.web`). */
export const webMetricSchema = z
  .object({
    url: httpURL('must be an absolute http:// or https:// URL'),
    method: z
      .enum(['GET', 'POST', 'PUT'], { errorMap: () => ({ message: 'must be GET (the default), POST or PUT' }) })
      .default('GET'),
    headers: metricHeadersSchema,
    body: z.string().optional(),
    jsonBody: z.unknown().optional(),
    /** Over the whole exchange (default 10). */
    timeoutSeconds: wholeNumber(1).transform(checkSeconds).default(10),
    /** Kubernetes-style JSONPath, `{$.data.ok}`; default the whole answer. */
    jsonPath: z.string().min(1).optional(),
    insecure: looseBoolean.optional(),
    authentication: z
      .unknown()
      .refine(() => false, {
        message:
          CREDENTIALS_ADVICE,
      })
      .optional(),
  })
  .strict()
  .superRefine((w, ctx) => {
    if (w.body !== undefined && w.jsonBody !== undefined) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['jsonBody'], message: 'give body or jsonBody, not both' });
    }
    if ((w.body !== undefined || w.jsonBody !== undefined) && w.method === 'GET') {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: ['method'],
        message: `a request with ${w.body !== undefined ? 'body' : 'jsonBody'} must use method POST or PUT`,
      });
    }
    if (w.jsonPath !== undefined) {
      const problem = jsonPathProblem(w.jsonPath);
      if (problem) ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['jsonPath'], message: problem });
    }
  });

export type WebMetric = z.infer<typeof webMetricSchema>;

/**
 * Kubernetes JSONPath (`{$.data.ok}`, `{.data.ok}`) as jsonpath-plus writes it (`$.data.ok`).
 * Braces are optional here.
 */
export function toJsonPath(path: string): string {
  let p = path.trim();
  if (p.startsWith('{') && p.endsWith('}')) p = p.slice(1, -1).trim();
  if (p === '' || p === '$') return '$';
  if (p.startsWith('$')) return p;
  return p.startsWith('[') ? `$${p}` : `$${p.startsWith('.') ? '' : '.'}${p}`;
}

function jsonPathProblem(path: string): string | undefined {
  if (/\{\{[^{}]*\}\}/.test(path)) return undefined;
  if (/\{\s*range\b|\{\s*end\s*\}/.test(path)) return 'range/end templates are not supported: give one JSONPath such as {$.data.ok}';
  try {
    JSONPath({ path: toJsonPath(path), json: {}, eval: 'safe' });
    return undefined;
  } catch (e) {
    return `is not a JSONPath such as {$.data.ok}: ${(e as Error).message}`;
  }
}

function parseConfig(metric: Metric): WebMetric {
  const parsed = webMetricSchema.safeParse(metric.provider.web ?? {});
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  throw new Error(`provider.web${issue.path.map(p => (typeof p === 'number' ? `[${p}]` : `.${p}`)).join('')} ${issue.message}`);
}

/** The measured result: the answer's JSON (or its text, when it is not JSON and no jsonPath is given). */
function resultOf(text: string, jsonPath: string | undefined, what: string): unknown {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    // Rollouts judges a non-JSON answer as text; a jsonPath cannot be applied to it
    if (jsonPath === undefined) return text;
    const start = text.trim().slice(0, 80);
    throw new Error(`the answer to ${what} is not JSON, so jsonPath ${jsonPath} cannot be applied (it starts: ${JSON.stringify(start)})`);
  }
  if (jsonPath === undefined) return data;
  const matches = JSONPath({ path: toJsonPath(jsonPath), json: data as object, eval: 'safe', wrap: true }) as unknown[];
  if (!Array.isArray(matches) || matches.length === 0) {
    throw new Error(`jsonPath ${jsonPath} matched nothing in the answer to ${what}`);
  }
  return matches[0];
}

async function measure(ctx: MeasureContext, metric: Metric) {
  const startedAt = ctx.now();
  let config: WebMetric;
  try {
    config = parseConfig(metric);
  } catch (e) {
    return errorMeasurement((e as Error).message, startedAt, ctx.now());
  }
  const metadata = { url: shownUrl(config.url) };
  const { headers, originBoundHeaders } = withCredentials(ctx, config.url, config.headers.map(h => ({ name: h.key, value: h.value })));
  let body: Uint8Array | undefined;
  if (config.body !== undefined) body = Buffer.from(config.body);
  if (config.jsonBody !== undefined) {
    body = Buffer.from(JSON.stringify(config.jsonBody));
    if (!headers.some(h => h.name.toLowerCase() === 'content-type')) {
      headers.push({ name: 'Content-Type', value: 'application/json' });
    }
  }
  try {
    const result = await exchange(
      exchangeContext(ctx),
      {
        method: config.method,
        url: config.url,
        headers,
        queryParams: [],
        body,
        timeout: `${config.timeoutSeconds}s`,
        insecureSkipTLSVerify: config.insecure,
        originBoundHeaders,
      },
      async (response, what) => {
        if (!isSuccessStatus(response.status)) {
          await response.body?.cancel().catch(() => undefined);
          throw new Error(`${what} answered ${statusLine(response.status)}`);
        }
        const text = (await readBody(response, MAX_BODY, what)).toString('utf8');
        return resultOf(text, config.jsonPath, what);
      },
    );
    const tooLarge = resultTooLarge(ctx, result, 'pick the part to judge with jsonPath');
    if (tooLarge) return errorMeasurement(tooLarge, startedAt, ctx.now(), metadata);
    return judgedMeasurement(metric, result, startedAt, ctx.now(), metadata);
  } catch (e) {
    return errorMeasurement((e as Error).message, startedAt, ctx.now(), metadata);
  }
}

export const webProvider: MetricProvider = {
  name: 'web',
  description: 'Send an HTTP request; its JSON answer, or what a JSONPath picks from it, is the result.',
  run: measure,
};
