import { z } from 'zod';
import { namePatternProblem } from '../util/namePatterns';

/**
 * Kargo's ProjectConfig (`kind: ProjectConfig`, named after its project): project-wide
 * policy. Stagecoach acts on `promotionPolicies`; the other fields Kargo has are accepted
 * and stored so that Kargo manifests apply unchanged.
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

const WEBHOOK_PROVIDERS = ['artifactory', 'azure', 'bitbucket', 'dockerhub', 'gitea', 'github', 'gitlab', 'harbor', 'quay', 'generic'];

/** Stored, not served: Stagecoach's webhook receivers are configured in app-config. */
const webhookReceiverSchema = z
  .object({ name: z.string().min(1) })
  .catchall(z.record(z.unknown()))
  .superRefine((r, ctx) => {
    const keys = Object.keys(r).filter(k => k !== 'name');
    const unknown = keys.filter(k => !WEBHOOK_PROVIDERS.includes(k));
    for (const k of unknown) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: [k], message: `is not a webhook receiver kind: use one of ${WEBHOOK_PROVIDERS.join(', ')}` });
    }
    if (unknown.length === 0 && keys.length !== 1) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: `must have exactly one of ${WEBHOOK_PROVIDERS.join(', ')}` });
    }
  });

export const deepLinkSchema = z
  .object({
    title: z.string().min(1),
    /** An expression over the freight or stage. */
    url: z.string().min(1),
    description: z.string().optional(),
    if: z.string().optional(),
  })
  .strict();

export const projectConfigSpecSchema = z
  .object({
    promotionPolicies: z.array(promotionPolicySchema).optional(),
    webhookReceivers: z.array(webhookReceiverSchema).optional(),
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
