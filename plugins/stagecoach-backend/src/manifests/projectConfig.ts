import { z } from 'zod';
import { expressionsIn, syntaxProblem, unwrapExpression } from '../expressions/expressions';
import { namePatternProblem } from '../util/namePatterns';
import { refusedField } from './refusedField';

/** Kargo Enterprise's promotion windows: a deny window ignored in silence would let promotions through. */
export const PROMOTION_WINDOWS_REFUSAL =
  'promotion windows are a Kargo Enterprise feature that Stagecoach does not enforce: remove promotionWindows (ignored, a deny window would let promotions through); to hold a stage, turn its auto-promotion off';
const AUTO_ROLLBACK_REFUSAL =
  'automatic rollback is a Kargo Enterprise feature that Stagecoach does not have: remove autoRollback; to go back, promote the earlier freight (a failed verification already keeps freight from moving on)';

/**
 * Kargo's ProjectConfig (`kind: ProjectConfig`, named after its project): project-wide
 * policy. Stagecoach acts on `promotionPolicies` and on `freightLinks` / `stageLinks`;
 * `promotionWindows` and `autoRollback` (Kargo Enterprise) are refused, and `webhookReceivers` are
 * the project's inbound webhooks (their secrets come from the set's Secrets).
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
    /** Kargo Enterprise: refused, so that nobody counts on a rollback that never comes. */
    autoRollback: refusedField(AUTO_ROLLBACK_REFUSAL),
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

/** The senders a project's receiver may name, as Kargo spells them, that Stagecoach verifies and reads. */
export const PROJECT_RECEIVER_PROVIDERS = ['github', 'gitlab', 'gitea', 'bitbucket', 'dockerhub', 'quay', 'harbor'] as const;
export type ProjectReceiverProvider = (typeof PROJECT_RECEIVER_PROVIDERS)[number];
/** Kargo's senders Stagecoach's project receivers do not take, and what to do instead. */
const UNSUPPORTED_PROVIDERS: Record<string, string> = {
  artifactory: 'Artifactory receivers are not supported: use a generic receiver in app-config (stagecoach.webhooks.receivers, docs/webhooks.md)',
  azure: 'Azure receivers are not supported: use a generic receiver in app-config (stagecoach.webhooks.receivers, docs/webhooks.md)',
  generic: "a project's generic receiver (Kargo's actions and targetSelectionCriteria) is not supported: use a generic receiver in app-config (stagecoach.webhooks.receivers, docs/webhooks.md)",
};
const secretRefSchema = z.object({ secretRef: z.object({ name: z.string().min(1) }).strict() }).strict();

/** `{name, github: {secretRef: {name}}}`: exactly one provider. */
const webhookReceiverSchema = z
  .object({ name: z.string().regex(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/, 'must be a lower-case name of letters, digits and "-", at most 63') })
  .catchall(z.unknown())
  .superRefine((receiver, ctx) => {
    const providers = Object.keys(receiver).filter(k => k !== 'name');
    for (const key of providers) {
      if (UNSUPPORTED_PROVIDERS[key]) ctx.addIssue({ code: z.ZodIssueCode.custom, path: [key], message: UNSUPPORTED_PROVIDERS[key] });
      else if (!(PROJECT_RECEIVER_PROVIDERS as readonly string[]).includes(key)) {
        ctx.addIssue({ code: z.ZodIssueCode.custom, path: [key], message: `is not a receiver's field: name one provider, ${PROJECT_RECEIVER_PROVIDERS.join(', ')}` });
      } else {
        const parsed = secretRefSchema.safeParse(receiver[key]);
        if (!parsed.success) ctx.addIssue({ code: z.ZodIssueCode.custom, path: [key], message: 'must be {secretRef: {name: <a Secret of the set, with the key secret>}}' });
      }
    }
    if (providers.length !== 1) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: [], message: `must name exactly one provider (${PROJECT_RECEIVER_PROVIDERS.join(', ')}) with its secretRef` });
    }
  });

/** A project's receiver as read: its name, provider and the Secret it takes its secret from. */
export interface ProjectReceiverSpec {
  name: string;
  provider: ProjectReceiverProvider;
  secretName: string;
}

/** The receivers of a (valid) ProjectConfig, read. */
export function projectReceivers(spec: { webhookReceivers?: Record<string, unknown>[] } | undefined): ProjectReceiverSpec[] {
  return (spec?.webhookReceivers ?? []).map(r => {
    const provider = Object.keys(r).find(k => k !== 'name') as ProjectReceiverProvider;
    return { name: r.name as string, provider, secretName: (r[provider] as { secretRef: { name: string } }).secretRef.name };
  });
}

export const projectConfigSpecSchema = z
  .object({
    promotionPolicies: z.array(promotionPolicySchema).optional(),
    /** Kargo's per-project receivers: a provider, and the Secret of the set (key `secret`) their URL and checks come from. */
    webhookReceivers: z.array(webhookReceiverSchema).optional(),
    freightLinks: z.array(deepLinkSchema).optional(),
    stageLinks: z.array(deepLinkSchema).optional(),
    /** Kargo Enterprise: refused, so that no deny window is ignored in silence. */
    promotionWindows: refusedField(PROMOTION_WINDOWS_REFUSAL),
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
