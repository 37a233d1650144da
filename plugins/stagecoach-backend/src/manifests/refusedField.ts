import { z } from 'zod';

/**
 * A field Kargo knows but Stagecoach refuses (deprecated in Kargo, or replaced): present, it
 * fails the manifest with `message`, which says what to write instead; absent, nothing
 * happens. Listing such fields in a strict schema keeps their refusal from being a bare
 * "unknown field".
 */
export function refusedField(message: string) {
  return z
    .unknown()
    .superRefine((value, ctx) => {
      if (value !== undefined) ctx.addIssue({ code: z.ZodIssueCode.custom, message });
    })
    .optional() as z.ZodOptional<z.ZodType<undefined, z.ZodTypeDef, unknown>>;
}

/** Kargo's `allowTags` / `ignoreTags`, failing discovery from Kargo v1.11: refused, naming the list that replaced each. */
export const deprecatedTagFields = {
  allowTags: refusedField(
    'allowTags is deprecated in Kargo and fails discovery from v1.11: write allowTagsRegexes, a list of regular expressions (allowTags: "^v1\\." becomes allowTagsRegexes: ["^v1\\."])',
  ),
  ignoreTags: refusedField(
    'ignoreTags is deprecated in Kargo and fails discovery from v1.11: write ignoreTagsRegexes, a list of regular expressions (ignoreTags: [latest] becomes ignoreTagsRegexes: ["^latest$"])',
  ),
};
