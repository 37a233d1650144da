import { z } from 'zod';
import { EgressRefusedError } from '../../integrations/http/egress';
import { exchange, HttpRequestSpec } from '../../integrations/http/exchange';
import { parseDuration } from '../../util/duration';
import { StepConfigError } from '../workDir';
import type { StepContext } from './types';

/**
 * What the `http` and `http-download` steps share: their header and query fields, and one
 * exchange through the egress policy (integrations/http), a refusal failing the step at once.
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

/**
 * The exchange of integrations/http with the step's egress policy and abort signal. A request
 * the egress policy refuses fails the step at once: retrying cannot change the answer.
 */
export async function stepExchange<T>(
  ctx: Pick<StepContext, 'egress' | 'signal'>,
  spec: HttpRequestSpec,
  use: (response: Response, what: string) => Promise<T>,
): Promise<T> {
  try {
    return await exchange({ egress: ctx.egress, signal: ctx.signal }, spec, use);
  } catch (e) {
    if (e instanceof EgressRefusedError) throw new StepConfigError(e.message);
    throw e;
  }
}
