import { z } from 'zod';
import { parseDuration } from '../../util/duration';

/**
 * The fields that describe an HTTP request in a manifest (the `http` and `http-download`
 * steps' config): headers, query parameters, the URL and a timeout. They sit beside the
 * exchange that sends the request, so that any feature describing a request checks it alike.
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

/** An absolute http(s) URL with no credentials in it, `message` saying what it must be. */
export const httpURL = (message: string) =>
  z.string().superRefine((u, ctx) => {
    let url: URL;
    try {
      url = new URL(u);
    } catch {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message });
      return;
    }
    if (!['http:', 'https:'].includes(url.protocol)) ctx.addIssue({ code: z.ZodIssueCode.custom, message });
    // manifests are stored and shown by the API: a secret written into a URL would be shown too
    else if (url.username || url.password)
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        message: 'must not carry credentials (user:password@): give them in app-config, never in a manifest',
      });
  });
