import fs from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { parseDuration } from '../../util/duration';
import { evaluate, ExpressionEnv, syntaxProblem } from '../../expressions/expressions';
import { confinedPath, StepConfigError } from '../workDir';
import { describeRequest, isSuccessStatus, mebibytes, readBody, statusLine } from '../../integrations/http/exchange';
import { durationSchema, headersSchema, httpUrlSchema, queryParamsSchema } from '../../integrations/http/requestFields';
import { stepExchange } from './stepExchange';
import { StepContext, StepDefinition, StepResult } from './types';

/** Answers (and bodyFromFile payloads) are held in memory to be parsed: keep them bounded. */
const MAX_BODY_BYTES = 10 * 2 ** 20;

/** Expressions evaluated by the step once the answer arrives, so written bare, without `${{ }}`. */
function checkExpression(text: string, ctx: z.RefinementCtx): void {
  if (text.trim() === '') return;
  const problem = syntaxProblem(text);
  if (problem) ctx.addIssue({ code: z.ZodIssueCode.custom, message: problem });
}
const expressionSchema = z.string().superRefine(checkExpression);

const BODYLESS_METHODS = new Set(['GET', 'HEAD']);
/** Methods HTTP clients refuse to send (fetch's forbidden methods). */
const UNSENDABLE_METHODS = new Set(['CONNECT', 'TRACE', 'TRACK']);

const schema = z
  .object({
    /** Any method, as Kargo sends it (upper-cased); not the ones that open tunnels or echo requests. */
    method: z
      .string()
      .default('GET')
      .transform(m => m.toUpperCase())
      .superRefine((m, ctx) => {
        if (!/^[A-Z]{1,20}$/.test(m)) {
          ctx.addIssue({ code: z.ZodIssueCode.custom, message: 'must be an HTTP method such as GET, POST or OPTIONS' });
        } else if (UNSENDABLE_METHODS.has(m)) {
          ctx.addIssue({ code: z.ZodIssueCode.custom, message: `${m} requests cannot be sent: use GET, POST, PUT, PATCH, DELETE, HEAD or OPTIONS` });
        }
      }),
    url: httpUrlSchema,
    headers: headersSchema,
    queryParams: queryParamsSchema,
    body: z.string().optional(),
    bodyFromFile: z.string().optional(),
    insecureSkipTLSVerify: z.boolean().default(false),
    proxy: z
      .string()
      .regex(/^https?:\/\/.+/, 'must be an http:// or https:// URL')
      .optional(),
    timeout: durationSchema.default('10s'),
    pollInterval: durationSchema.default('30s'),
    responseContentType: z.enum(['application/json', 'application/yaml', 'text/plain']).optional(),
    successExpression: expressionSchema.optional(),
    failureExpression: expressionSchema.optional(),
    errorExpression: expressionSchema.optional(),
    outputs: z
      .array(z.object({ name: z.string().min(1), fromExpression: z.string().min(1).superRefine(checkExpression) }).strict())
      .default([]),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.body && c.bodyFromFile) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['bodyFromFile'], message: 'cannot be used together with body' });
    }
    if ((c.body || c.bodyFromFile) && BODYLESS_METHODS.has(c.method)) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: [c.body ? 'body' : 'bodyFromFile'],
        message: `cannot be sent with a ${c.method} request; use POST, PUT, PATCH or DELETE`,
      });
    }
  });

type HttpConfig = z.infer<typeof schema>;

/** What expressions see as `response`. */
interface ResponseView {
  status: number;
  /** Go's shape, as in Kargo: canonical names (`Content-Type`), each with a list of values. */
  headers: Record<string, string[]>;
  body: unknown;
}

function canonicalHeaderName(name: string): string {
  return name
    .split('-')
    .map(part => part.charAt(0).toUpperCase() + part.slice(1).toLowerCase())
    .join('-');
}

function headersView(headers: Headers): Record<string, string[]> {
  // no prototype: a header named __proto__ must stay a header
  const out: Record<string, string[]> = Object.create(null);
  headers.forEach((value, name) => {
    if (name !== 'set-cookie') out[canonicalHeaderName(name)] = [value];
  });
  const cookies = headers.getSetCookie();
  if (cookies.length) out['Set-Cookie'] = cookies;
  return out;
}

function mediaType(contentType: string | null | undefined): string {
  return (contentType ?? '').split(';')[0].trim().toLowerCase();
}

const YAML_TYPES = new Set(['application/yaml', 'application/x-yaml', 'text/yaml']);

/**
 * Parses the body by its media type, as Kargo does: JSON, YAML, plain text; anything else is
 * tried as JSON and, when it is not, left out (an empty object), so expressions written for
 * JSON answers do not break on an HTML error page.
 */
function parseBody(bytes: Buffer, type: string, what: string): unknown {
  if (bytes.length === 0) return {};
  const text = bytes.toString('utf8');
  if (type === 'text/plain') return text;
  if (YAML_TYPES.has(type)) {
    try {
      return parseYaml(text);
    } catch {
      throw new Error(`the answer to ${what} says it is YAML (${type}) but is not valid YAML`);
    }
  }
  try {
    return JSON.parse(text);
  } catch {
    if (type === 'application/json') {
      throw new Error(`the answer to ${what} says it is JSON (${type}) but is not valid JSON`);
    }
    return {};
  }
}

function expressionEnv(response: ResponseView): ExpressionEnv {
  return { values: { response }, functions: {} };
}

/** The expression's verdict; undefined when the field is not set. */
function verdict(field: string, expression: string | undefined, env: ExpressionEnv): boolean | undefined {
  if (!expression?.trim()) return undefined;
  const value = evaluate(expression, env);
  if (typeof value !== 'boolean') {
    throw new Error(`${field} must give true or false, got ${value === null ? 'null' : typeof value}`);
  }
  return value;
}

/** errorExpression is best effort: the answer may not have the shape it expects. */
function errorDetail(expression: string | undefined, env: ExpressionEnv): string | undefined {
  if (!expression?.trim()) return undefined;
  try {
    const value = evaluate(expression, env);
    return typeof value === 'string' && value ? value : undefined;
  } catch {
    return undefined;
  }
}

function outputsFrom(config: HttpConfig, env: ExpressionEnv): Record<string, unknown> {
  const outputs: Record<string, unknown> = {};
  for (const o of config.outputs) {
    try {
      outputs[o.name] = evaluate(o.fromExpression, env) ?? null;
    } catch (e) {
      throw new Error(`output "${o.name}": ${(e as Error).message}`);
    }
  }
  return outputs;
}

function notMetYet(succeeded: boolean | undefined, failed: boolean | undefined): string {
  if (succeeded === undefined) return 'failureExpression is not met and there is no successExpression';
  if (failed === undefined) return 'successExpression is not met yet';
  return 'neither successExpression nor failureExpression is met yet';
}

function decide(config: HttpConfig, response: ResponseView, what: string): StepResult {
  const env = expressionEnv(response);
  const answered = `${what} answered ${statusLine(response.status)}`;
  const failed = verdict('failureExpression', config.failureExpression, env);
  const succeeded = verdict('successExpression', config.successExpression, env);
  if (failed) {
    const detail = errorDetail(config.errorExpression, env);
    return { status: 'Failed', message: `${answered}, which meets failureExpression${detail ? `: ${JSON.stringify(detail)}` : ''}` };
  }
  if (failed === undefined && succeeded === undefined) {
    // Kargo's default: a 2xx succeeds; anything else is an error the step's retry policy may retry
    if (!isSuccessStatus(response.status)) throw new Error(answered);
    return { status: 'Succeeded', message: answered, outputs: outputsFrom(config, env) };
  }
  if (succeeded) return { status: 'Succeeded', message: answered, outputs: outputsFrom(config, env) };
  return {
    status: 'Running',
    message: `${answered}; ${notMetYet(succeeded, failed)}, asking again in ${config.pollInterval}`,
    retryAfterMs: parseDuration(config.pollInterval),
  };
}

async function requestBody(ctx: StepContext, config: HttpConfig): Promise<Uint8Array | undefined> {
  // bytes, not a string: fetch would label a string text/plain, where Go (and so Kargo) sends no Content-Type
  if (config.body) return Buffer.from(config.body);
  if (!config.bodyFromFile) return undefined;
  const file = await confinedPath(ctx.workDir, config.bodyFromFile, 'bodyFromFile');
  const stat = await fs.stat(file).catch(e => {
    throw new StepConfigError(
      e.code === 'ENOENT'
        ? `bodyFromFile "${config.bodyFromFile}" does not exist`
        : `cannot read bodyFromFile "${config.bodyFromFile}": ${e.message}`,
    );
  });
  if (!stat.isFile()) throw new StepConfigError(`bodyFromFile "${config.bodyFromFile}" is not a file`);
  if (stat.size > MAX_BODY_BYTES) {
    throw new StepConfigError(`bodyFromFile "${config.bodyFromFile}" is larger than the ${mebibytes(MAX_BODY_BYTES)} limit`);
  }
  return fs.readFile(file);
}

/**
 * Sends an HTTP request and judges the answer with expressions: succeed, fail, or keep
 * polling (Running) until one of them is met, with outputs taken from the answer.
 */
export const httpRequest: StepDefinition<HttpConfig> = {
  name: 'http',
  description: 'Send an HTTP request; succeed, fail or keep polling by expressions over the answer, and take outputs from it.',
  schema,
  async run(ctx, config) {
    const body = await requestBody(ctx, config);
    const spec = { ...config, body };
    const response = await stepExchange(ctx, spec, async (res, what) => {
      const bytes = await readBody(res, MAX_BODY_BYTES, what);
      const type = config.responseContentType ?? mediaType(res.headers.get('content-type'));
      return { status: res.status, headers: headersView(res.headers), body: parseBody(bytes, type, what) };
    });
    return decide(config, response, describeRequest(spec));
  },
};
