import { z } from 'zod';
import { expressionsIn, syntaxProblem, unwrapExpression } from '../expressions/expressions';
import { namePatternProblem } from '../util/namePatterns';

/**
 * Kargo's ProjectConfig (`kind: ProjectConfig`, named after its project): project-wide
 * policy. Stagecoach acts on `promotionPolicies` and on `freightLinks` / `stageLinks`;
 * `promotionWindows` (Kargo Enterprise) is accepted and stored, and `webhookReceivers` refused
 * unless empty.
 */

const labelSelectorRequirementSchema = z
  .object({
    key: z.string().min(1),
    operator: z.enum(['In', 'NotIn', 'Exists', 'DoesNotExist'], {
      errorMap: () => ({ message: 'must be In, NotIn, Exists or DoesNotExist' }),
    }),
    values: z.array(z.string()).optional(),
  })
  .strict()
  .superRefine((r, ctx) => {
    const needsValues = r.operator === 'In' || r.operator === 'NotIn';
    if (needsValues && !r.values?.length) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['values'], message: `operator ${r.operator} needs at least one value` });
    }
    if (!needsValues && r.values?.length) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['values'], message: `operator ${r.operator} takes no values` });
    }
  });

const stageNamePattern = z.string().superRefine((s, ctx) => {
  const problem = namePatternProblem(s);
  if (problem) ctx.addIssue({ code: z.ZodIssueCode.custom, message: problem });
});

const stageSelectorSchema = z
  .object({
    /** An exact stage name, `glob:<pattern>` or `regex:<pattern>`. */
    name: stageNamePattern.optional(),
    matchLabels: z.record(z.string()).optional(),
    matchExpressions: z.array(labelSelectorRequirementSchema).optional(),
  })
  .strict();

const promotionPolicySchema = z
  .object({
    /** Deprecated by Kargo in favour of stageSelector.name; still read. */
    stage: z
      .string()
      .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'must be a stage name (use stageSelector.name for patterns)')
      .optional(),
    stageSelector: stageSelectorSchema.optional(),
    autoPromotionEnabled: z.boolean().optional(),
    /** Kargo Enterprise: accepted and ignored. */
    autoRollback: z
      .object({
        onPromotion: z.array(z.enum(['Failed', 'Errored'], { errorMap: () => ({ message: 'must be Failed or Errored' }) })).optional(),
        onVerification: z.array(z.enum(['Failed', 'Error'], { errorMap: () => ({ message: 'must be Failed or Error' }) })).optional(),
      })
      .strict()
      .optional(),
  })
  .strict();

/** Text that may hold `${{ }}` expressions: each must parse (it is evaluated when freight or a stage is shown). */
function checkTemplate(text: string, ctx: z.RefinementCtx) {
  for (const expression of expressionsIn(text)) {
    const problem = syntaxProblem(expression);
    if (problem) ctx.addIssue({ code: z.ZodIssueCode.custom, message: problem });
  }
}

/**
 * A link shown with each freight (`freightLinks`) or stage (`stageLinks`), as in Kargo:
 * title, url and description are text with `${{ }}` expressions; `if` an expression (bare or
 * wrapped) that leaves the link out when false. Evaluated by app/deepLinks.ts.
 */
export const deepLinkSchema = z
  .object({
    title: z.string().min(1).superRefine(checkTemplate),
    url: z.string().min(1).superRefine(checkTemplate),
    description: z.string().superRefine(checkTemplate).optional(),
    if: z
      .string()
      .superRefine((text, ctx) => {
        const problem = syntaxProblem(unwrapExpression(text));
        if (problem) ctx.addIssue({ code: z.ZodIssueCode.custom, message: problem });
      })
      .optional(),
  })
  .strict();

export type DeepLinkSpec = z.infer<typeof deepLinkSchema>;

export const projectConfigSpecSchema = z
  .object({
    promotionPolicies: z.array(promotionPolicySchema).optional(),
    /**
     * Kargo's per-project receivers take their secret from a Secret of the project, which
     * Stagecoach does not keep (only credential Secrets are read): refused unless empty,
     * pointing to the receivers app-config defines.
     */
    webhookReceivers: z
      .array(z.unknown())
      .refine(r => r.length === 0, {
        message:
          "per-project webhook receivers are not available: their secret would come from a Secret of the project, which Stagecoach keeps only for credentials. Define the receiver in app-config (stagecoach.webhooks.receivers, see docs/webhooks.md: the same providers, each with its secret and its URL) and remove spec.webhookReceivers",
      })
      .optional(),
    freightLinks: z.array(deepLinkSchema).optional(),
    stageLinks: z.array(deepLinkSchema).optional(),
    /** Kargo Enterprise: accepted and ignored. */
    promotionWindows: z.array(z.record(z.unknown())).optional(),
  })
  .strict()
  .superRefine((spec, ctx) => {
    // two policies for one exact stage name: only the first would ever apply
    const first = new Map<string, number>();
    (spec.promotionPolicies ?? []).forEach((p, i) => {
      const exact = p.stageSelector ? p.stageSelector.name : p.stage;
      if (!exact || namePatternProblem(exact) || /^(glob|regexp?):/.test(exact)) return;
      const earlier = first.get(exact);
      if (earlier === undefined) first.set(exact, i);
      else {
        ctx.addIssue({
          code: z.ZodIssueCode.custom,
          path: ['promotionPolicies', i],
          message: `stage "${exact}" already has a policy at spec.promotionPolicies[${earlier}]`,
        });
      }
    });
  });

export type ProjectConfigSpec = z.infer<typeof projectConfigSpecSchema>;
export type PromotionPolicySpec = z.infer<typeof promotionPolicySchema>;
