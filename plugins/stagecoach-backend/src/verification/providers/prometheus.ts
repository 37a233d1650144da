import { z } from 'zod';
import { httpURL } from '../../integrations/http/requestFields';
import { exchange, readBody, shownUrl, statusLine } from '../../integrations/http/exchange';
import { parseDuration } from '../../util/duration';
import { errorMeasurement, judgedMeasurement } from '../conditions';
import type { MeasureContext, Metric, MetricProvider } from '../types';
import {
  checkSeconds,
  CREDENTIALS_ADVICE,
  exchangeContext,
  looseBoolean,
  metricHeadersSchema,
  resultTooLarge,
  withCredentials,
} from './common';

/**
 * Rollouts' `prometheus` metric: one instant query (`/api/v1/query`). An instant vector
 * becomes a list of its sample values (`result[0]`), a scalar a number, a range vector the
 * list of every value in it. NaN and ±Inf arrive as numbers, so `isNaN(result[0])` works.
 */

const MAX_BODY = 10 * 2 ** 20;

/** Seconds (Rollouts writes a number), or a Go duration such as `30s`. */
const timeoutSchema = z.union([z.number(), z.string()]).transform((v, ctx) => {
  let seconds: number;
  if (typeof v === 'number' || /^\s*\d+\s*$/.test(v)) seconds = Number(v);
  else {
    try {
      seconds = parseDuration(v.trim()) / 1000;
    } catch {
      seconds = NaN;
    }
  }
  if (!(seconds > 0)) {
    ctx.addIssue({
      code: z.ZodIssueCode.custom,
      message: `must be a number of seconds (30) or a duration (30s) longer than 0, got ${JSON.stringify(v)}`,
    });
    return z.NEVER;
  }
  return checkSeconds(seconds, ctx);
});

const refuse = (message: string) =>
  z
    .unknown()
    .refine(() => false, { message })
    .optional();

/** A prometheus metric's settings, as Rollouts names them (`provider.prometheus`). */
export const prometheusMetricSchema = z
  .object({
    /** The server, e.g. `http://prometheus.monitoring:9090` (a path prefix is kept). */
    address: httpURL('must be the http:// or https:// address of the Prometheus server'),
    query: z.string().trim().min(1, 'must be a PromQL query'),
    /** Seconds the query may take (default 30). */
    timeout: timeoutSchema.default(30),
    headers: metricHeadersSchema,
    insecure: looseBoolean.optional(),
    authentication: refuse(CREDENTIALS_ADVICE),
    rangeQuery: refuse(
      'is not supported by Stagecoach: write the range in the query instead, e.g. avg_over_time(metric[5m])',
    ),
  })
  .strict();

export type PrometheusMetric = z.infer<typeof prometheusMetricSchema>;

interface PrometheusAnswer {
  status?: string;
  errorType?: string;
  error?: string;
  warnings?: string[];
  data?: { resultType?: string; result?: unknown };
}

/** A sample value as Prometheus writes it: `"0.5"`, `"NaN"`, `"+Inf"`, `"-Inf"`. */
export function sampleValue(text: unknown): number {
  if (typeof text !== 'string') throw new Error(`a sample value should be text, got ${JSON.stringify(text)}`);
  if (text === 'NaN') return NaN;
  if (text === '+Inf' || text === 'Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  const n = Number(text);
  if (text.trim() === '' || Number.isNaN(n)) throw new Error(`"${text}" is not a sample value`);
  return n;
}

/** The `result` the conditions see, from the answer's data. */
export function prometheusResult(data: PrometheusAnswer['data']): number | number[] {
  const type = data?.resultType;
  const result = data?.result;
  switch (type) {
    case 'scalar':
      return sampleValue((result as [number, string])[1]);
    case 'vector':
      return (result as { value: [number, string] }[]).map(s => sampleValue(s.value[1]));
    case 'matrix':
      return (result as { values: [number, string][] }[]).flatMap(s => s.values.map(v => sampleValue(v[1])));
    default:
      throw new Error(
        `the query gave a ${type ?? 'missing'} result; Stagecoach judges vectors, scalars and range vectors`,
      );
  }
}

function parseConfig(metric: Metric): PrometheusMetric {
  const parsed = prometheusMetricSchema.safeParse(metric.provider.prometheus ?? {});
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  throw new Error(
    `provider.prometheus${issue.path.map(p => (typeof p === 'number' ? `[${p}]` : `.${p}`)).join('')} ${issue.message}`,
  );
}

function queryUrl(address: string): string {
  const url = new URL(address);
  url.pathname = `${url.pathname.replace(/\/+$/, '')}/api/v1/query`;
  return url.href;
}

async function measure(ctx: MeasureContext, metric: Metric) {
  const startedAt = ctx.now();
  let config: PrometheusMetric;
  try {
    config = parseConfig(metric);
  } catch (e) {
    return errorMeasurement((e as Error).message, startedAt, ctx.now());
  }
  const server = shownUrl(config.address);
  const metadata: Record<string, string> = { query: config.query };
  const form = new URLSearchParams({ query: config.query, timeout: `${config.timeout}s` });
  const url = queryUrl(config.address);
  const { headers, originBoundHeaders } = withCredentials(ctx, url, config.headers.map(h => ({ name: h.key, value: h.value })));
  try {
    const answer = await exchange(
      exchangeContext(ctx),
      {
        // POST, as Prometheus's own client does: a long query does not fit in a URL
        method: 'POST',
        url,
        headers: [...headers, { name: 'Content-Type', value: 'application/x-www-form-urlencoded' }],
        queryParams: [],
        body: Buffer.from(form.toString()),
        timeout: `${config.timeout}s`,
        insecureSkipTLSVerify: config.insecure,
        originBoundHeaders,
      },
      async (response, what) => {
        const text = (await readBody(response, MAX_BODY, what)).toString('utf8');
        let body: PrometheusAnswer | undefined;
        try {
          body = JSON.parse(text) as PrometheusAnswer;
        } catch {
          body = undefined;
        }
        if (body?.status === 'error') {
          throw new Error(
            `Prometheus at ${server} refused the query: ${body.errorType ? `${body.errorType}: ` : ''}${body.error ?? 'no reason given'}`,
          );
        }
        if (response.status < 200 || response.status >= 300) {
          throw new Error(`${what} answered ${statusLine(response.status)}`);
        }
        if (body?.status !== 'success') {
          throw new Error(`${what} did not answer as the Prometheus query API does (is ${server} a Prometheus server?)`);
        }
        return body;
      },
    );
    if (answer.warnings?.length) metadata.warnings = answer.warnings.join('; ');
    let result: number | number[];
    try {
      result = prometheusResult(answer.data);
    } catch (e) {
      return errorMeasurement(`Prometheus at ${server}: ${(e as Error).message}`, startedAt, ctx.now(), metadata);
    }
    const tooLarge = resultTooLarge(ctx, result, 'aggregate in the query, e.g. sum(...) or topk(...)');
    if (tooLarge) return errorMeasurement(tooLarge, startedAt, ctx.now(), metadata);
    return judgedMeasurement(metric, result, startedAt, ctx.now(), metadata);
  } catch (e) {
    return errorMeasurement((e as Error).message, startedAt, ctx.now(), metadata);
  }
}

export const prometheusProvider: MetricProvider = {
  name: 'prometheus',
  description: 'Run a PromQL query against Prometheus; its answer is the result.',
  run: measure,
};
