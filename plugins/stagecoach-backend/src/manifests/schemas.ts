import { z } from 'zod';
import { regexProblem } from '../util/safeRegex';
import { syntaxProblem, unwrapExpression } from '../expressions/expressions';
import { refusedField } from './refusedField';

/**
 * Kargo-format manifests (`kargo.akuity.io/v1alpha1`) as Stagecoach accepts them.
 * Field names are Kargo's, so Kargo users bring their manifests unchanged.
 */

export const KARGO_API_VERSION = 'kargo.akuity.io/v1alpha1';

/** A Kubernetes-style name: lowercase alphanumerics and '-', starting and ending alphanumeric. */
const name = z
  .string()
  .min(1)
  .max(253)
  .regex(
    /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/,
    'must be a lowercase DNS-style name (a-z, 0-9, "-" and ".")',
  );

/** Go-style duration as Kargo writes it: `5m`, `1h30m`, `5m0s`, `30s`. */
export const duration = z
  .string()
  .regex(
    /^(\d+(\.\d+)?(ms|s|m|h))+$/,
    'must be a duration such as "30s", "5m" or "1h30m"',
  );

export const metadataSchema = z.object({
  name,
  namespace: name.optional(),
  labels: z.record(z.string()).optional(),
  annotations: z.record(z.string()).optional(),
});

/** A pattern that runs on RE2 (util/safeRegex): valid, not too long, no backreferences or lookaround. */
export const regexString = z.string().superRefine((s, ctx) => {
  const problem = regexProblem(s);
  if (problem) ctx.addIssue({ code: z.ZodIssueCode.custom, message: problem });
});

/**
 * A subscription kind a Warehouse may name (`git`, `image`, `chart`): its key and the schema of
 * its settings. The features bring them (ManifestExtension.subscriptionKinds), so this module
 * names none.
 */
export interface SubscriptionSchema {
  name: string;
  schema: z.ZodTypeAny;
}

/** `A, B or C`. */
export function oneOf(names: readonly string[]): string {
  return names.length <= 1 ? names.join('') : `${names.slice(0, -1).join(', ')} or ${names[names.length - 1]}`;
}

/**
 * One subscription of a Warehouse: exactly one of the kinds, by its key, and Kargo's optional
 * `name`. A key no kind claims (Kargo hands those to its generic subscribers) is refused
 * naming the kinds this backend has, and how a module adds one.
 */
function subscriptionSchema(kinds: readonly SubscriptionSchema[]) {
  const names = kinds.map(k => k.name);
  return z
    .object({
      /** Kargo's name of the subscription: kept, not used. */
      name: z.string().min(1).max(253).optional(),
      ...Object.fromEntries(kinds.map(k => [k.name, k.schema.optional()])),
    })
    .passthrough()
    .superRefine((s, ctx) => {
      const unknown = Object.keys(s).filter(key => key !== 'name' && !names.includes(key));
      for (const key of unknown) {
        ctx.addIssue({
          code: z.ZodIssueCode.custom,
          path: [key],
          message: `"${key}" is not a subscription kind of this backend, which has ${oneOf(names)}; a backend module can add a kind (stagecoachSubscriptionKindsExtensionPoint, see docs/extending.md)`,
        });
      }
      if (unknown.length === 0 && names.filter(n => s[n]).length !== 1) {
        ctx.addIssue({ code: z.ZodIssueCode.custom, message: `must have exactly one of ${oneOf(names)}` });
      }
    });
}

/** Kargo's controller shard: accepted and ignored, since Stagecoach's replicas share one work queue. */
const shard = z.string().max(253).optional();

const warehouseFields = z.object({
  shard,
  interval: duration.default('5m0s'),
  freightCreationPolicy: z
    .enum(['Automatic', 'Manual'], { errorMap: () => ({ message: 'must be Automatic or Manual' }) })
    .default('Automatic'),
  /** Automatic only: freight is made when this expression over the discovered artifacts is true. */
  freightCreationCriteria: z
    .object({
      expression: z.string().superRefine((text, ctx) => {
        const problem = syntaxProblem(unwrapExpression(text));
        if (problem) ctx.addIssue({ code: z.ZodIssueCode.custom, message: problem });
      }),
    })
    .strict()
    .optional(),
});

/** A Warehouse's spec, its subscriptions of the given kinds. */
export function warehouseSpecSchema(kinds: readonly SubscriptionSchema[]): z.ZodType<WarehouseSpec, z.ZodTypeDef, unknown> {
  return warehouseFields
    .extend({ subscriptions: z.array(subscriptionSchema(kinds)).min(1, 'needs at least one subscription') })
    .strict();
}

export const freightOriginSchema = z
  .object({
    kind: z.literal('Warehouse'),
    name,
  })
  .strict();

export const freightSourcesSchema = z
  .object({
    direct: z.boolean().optional(),
    stages: z.array(name).optional(),
    /** How long freight must have been in an upstream stage since it was verified there. */
    requiredSoakTime: duration.optional(),
    /** OneOf (the default): verified (and soaked) in one upstream stage; All: in every one. */
    availabilityStrategy: z
      .enum(['OneOf', 'All'], { errorMap: () => ({ message: 'must be OneOf (the default) or All' }) })
      .optional(),
    autoPromotionOptions: z
      .object({
        /**
         * NewestFreight (the default): the newest available freight. MatchUpstream: the
         * freight now in the one upstream stage.
         */
        selectionPolicy: z
          .enum(['NewestFreight', 'MatchUpstream'], {
            errorMap: () => ({ message: 'must be NewestFreight (the default) or MatchUpstream' }),
          })
          .optional(),
      })
      .strict()
      .optional(),
  })
  .strict()
  .superRefine((s, ctx) => {
    const upstream = s.stages?.length ?? 0;
    if (!s.direct && upstream === 0) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        message: 'must set direct: true or name at least one upstream stage in stages',
      });
    }
    if (s.autoPromotionOptions?.selectionPolicy === 'MatchUpstream' && (s.direct || upstream !== 1)) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: ['autoPromotionOptions', 'selectionPolicy'],
        message: s.direct
          ? 'MatchUpstream cannot be used with direct: true: freight straight from the warehouse has no upstream stage to match'
          : `MatchUpstream needs exactly one upstream stage in stages (there are ${upstream})`,
      });
    }
  });

export const requestedFreightSchema = z
  .object({
    origin: freightOriginSchema,
    sources: freightSourcesSchema,
  })
  .strict();

export const varSchema = z
  .object({ name: z.string().min(1), value: z.unknown().optional() })
  .strict();

/** How a step is retried: Kargo's `retry`. */
export const stepRetrySchema = z
  .object({
    /** Errors in a row after which the step fails (default 1: the first error fails it). */
    errorThreshold: z.number().int().min(1, 'must be at least 1').max(1000).optional(),
    /** How long a step may keep reporting it is still running (waiting for a pull request). */
    timeout: duration.optional(),
  })
  .strict();

const stepAliasSchema = z
  .string()
  .regex(/^[a-zA-Z_][a-zA-Z0-9_-]*$/, 'must be letters, digits, "_" and "-", starting with a letter or "_"');

const stepFields = {
  as: stepAliasSchema.optional(),
  if: z.string().optional(),
  continueOnError: z.boolean().optional(),
  retry: stepRetrySchema.optional(),
  vars: z.array(varSchema).optional(),
  config: z.record(z.unknown()).optional(),
};

/** A step that runs a built-in step (`uses`). */
export const promotionTaskStepSchema = z
  .object({
    uses: z.string().min(1).optional(),
    /** Kargo expands the tasks a stage calls one level only: a task's step cannot call a task. */
    task: refusedField(
      "a task's steps run steps (uses), not other tasks: Kargo expands only the tasks a stage calls; list that task's steps here, or call both tasks from the stage",
    ),
    ...stepFields,
  })
  .strict()
  .superRefine((s, ctx) => {
    if (s.uses === undefined && s.task === undefined) ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['uses'], message: 'is required' });
  })
  .transform(({ task: _task, ...s }) => ({ ...s, uses: s.uses as string }));

/** A step of a stage's promotion template: a built-in step (`uses`) or a PromotionTask (`task`). */
export const promotionStepSchema = z
  .object({
    uses: z.string().min(1).optional(),
    task: z
      .object({
        name,
        kind: z
          .enum(['PromotionTask', 'ClusterPromotionTask'], {
            errorMap: () => ({ message: 'must be PromotionTask (the default) or ClusterPromotionTask' }),
          })
          .default('PromotionTask'),
      })
      .strict()
      .optional(),
    ...stepFields,
  })
  .strict()
  .superRefine((s, ctx) => {
    if (!s.uses === !s.task) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: 'must have exactly one of uses (a step) or task (a PromotionTask)' });
    }
  });

/** A PromotionTask: reusable steps; a var without a value is an input the calling step must give. */
export const promotionTaskSpecSchema = z
  .object({
    vars: z.array(varSchema).optional(),
    steps: z.array(promotionTaskStepSchema).min(1, 'needs at least one step'),
  })
  .strict();

export const stageSpecSchema = z
  .object({
    shard,
    vars: z.array(varSchema).optional(),
    requestedFreight: z
      .array(requestedFreightSchema)
      .min(1, 'needs at least one entry: the warehouse the stage takes freight from'),
    promotionTemplate: z
      .object({
        spec: z
          .object({
            vars: z.array(varSchema).optional(),
            steps: z.array(promotionStepSchema).default([]),
          })
          .strict(),
      })
      .strict()
      .optional(),
  })
  .strict();

/**
 * One subscription of a Warehouse as written and stored: one kind's key (`git`) and its
 * settings, which that kind's module reads (discovery/<kind>/).
 */
export type Subscription = Record<string, unknown>;
export type WarehouseSpec = z.infer<typeof warehouseFields> & { subscriptions: Subscription[] };
export type StageSpec = z.infer<typeof stageSpecSchema>;
/**
 * The fields features add to a Stage's spec (ManifestExtension.stageFields), as read and as
 * stored. Each feature declares its own by declaration merging, next to its extension
 * (verification/manifestExtension.ts: `verification`), so that this module names no feature.
 */
// eslint-disable-next-line @typescript-eslint/no-empty-interface
export interface StageSpecExtensions {}
/** A Stage's spec as written: Kargo's, and the fields features add. */
export type StageDocumentSpec = StageSpec & StageSpecExtensions;
export type PromotionStepDefinition = z.infer<typeof promotionStepSchema>;
/** A stage's spec as stored: PromotionTasks inflated, every step a `uses` step; features' fields completed. */
export type RunnableStageSpec = Omit<StageSpec, 'promotionTemplate'> &
  StageSpecExtensions & {
    promotionTemplate?: { spec: { vars?: Var[]; steps: RunnableStep[] } };
  };
export type PromotionTaskSpec = z.infer<typeof promotionTaskSpecSchema>;
export type StepRetry = z.infer<typeof stepRetrySchema>;

/**
 * A step as a promotion runs it: a built-in step, perhaps inflated from a PromotionTask
 * (its alias is then `<calling step>::<task step>`, and `task` says which call it belongs to).
 */
export interface RunnableStep extends Omit<PromotionStepDefinition, 'uses' | 'task'> {
  uses: string;
  task?: {
    /** The calling step's alias: `task.outputs` and compose-output gather under it. */
    alias: string;
    /** The task's vars, the caller's inputs applied: seen by the task's steps. */
    vars: Var[];
    /** The ClusterPromotionTask the step comes from (a project's PromotionTask: none): what a change of the cluster scope concerns. */
    clusterTask?: string;
  };
}
export type Var = z.infer<typeof varSchema>;
