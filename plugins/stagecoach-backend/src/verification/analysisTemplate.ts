import { z } from 'zod';
import { syntaxProblem } from '../expressions/expressions';
import { parseDuration } from '../util/duration';
import { compileRegex, regexProblem } from '../util/safeRegex';
import { conditionProblem } from './conditions';
import { templatedIssues, wholeText } from './providers/common';
import { prometheusMetricSchema } from './providers/prometheus';
import { webMetricSchema } from './providers/web';

/**
 * Argo Rollouts AnalysisTemplates (`argoproj.io/v1alpha1`), as Kargo uses them to verify a
 * stage, and the Stage's `spec.verification`. Field names are Rollouts' and Kargo's, so their
 * manifests come unchanged. What Stagecoach cannot run is refused here, when the manifests
 * are applied, with what to do instead.
 *
 * Public surface: `ANALYSIS_API_VERSION`, `analysisTemplateSpecSchema` (built-in providers)
 * and `analysisTemplateSpecSchemaFor` (with the providers modules add),
 * `stageVerificationSchema`, their types, and `mergeTemplates`.
 */

export const ANALYSIS_API_VERSION = 'argoproj.io/v1alpha1';

/** The providers Stagecoach runs itself (backend modules may add more). */
export const SUPPORTED_PROVIDERS = ['web', 'prometheus', 'job'] as const;
export type ProviderName = (typeof SUPPORTED_PROVIDERS)[number];

/** Rollouts providers Stagecoach does not run: refused by name rather than as unknown fields. */
const OTHER_ROLLOUTS_PROVIDERS = [
  'datadog',
  'newRelic',
  'kayenta',
  'wavefront',
  'cloudWatch',
  'graphite',
  'influxdb',
  'skywalking',
  'plugin',
];

const PLACEHOLDER = /\{\{[^{}]*\}\}/;
const hasPlaceholder = (s: string) => PLACEHOLDER.test(s);

/** Rollouts' int-or-string: a whole number, or text that is one or an `{{args.x}}` placeholder. */
const intOrArg = (min: number, what: string) =>
  z
    .union([z.number(), z.string()], {
      errorMap: () => ({ message: `must be ${what}` }),
    })
    .superRefine((v, ctx) => {
      if (typeof v === 'string' && hasPlaceholder(v)) return;
      const n = typeof v === 'number' ? v : wholeText(v);
      if (!Number.isInteger(n) || n < min) {
        ctx.addIssue({
          code: z.ZodIssueCode.custom,
          message: `must be ${what}, got ${JSON.stringify(v)}`,
        });
      }
    });

/** A Go duration (`30s`, `5m`, `1h30m`), or an `{{args.x}}` placeholder for one. */
const durationOrArg = z.string().superRefine((s, ctx) => {
  if (hasPlaceholder(s)) return;
  try {
    parseDuration(s);
  } catch (e) {
    ctx.addIssue({
      code: z.ZodIssueCode.custom,
      message: (e as Error).message,
    });
  }
});

const conditionSchema = z.string().superRefine((s, ctx) => {
  const problem = s.trim() ? conditionProblem(s) : undefined;
  if (problem) ctx.addIssue({ code: z.ZodIssueCode.custom, message: problem });
});

const refuse = (message: string) =>
  z
    .unknown()
    .refine(() => false, { message })
    .optional();

/** A job metric: its own fields are the job provider's to check; a Job spec must be there. */
const jobMetricSchema = z
  .object({
    metadata: z.record(z.unknown()).optional(),
    spec: z.record(z.unknown(), {
      errorMap: () => ({
        message: 'must be a Kubernetes Job spec (an object with template: ...)',
      }),
    }),
  })
  .passthrough();

const PROVIDER_SCHEMAS: Record<ProviderName, z.ZodTypeAny> = {
  web: webMetricSchema,
  prometheus: prometheusMetricSchema,
  job: jobMetricSchema,
};

/**
 * The config schemas of the providers backend modules add (stagecoachVerificationProvidersExtensionPoint),
 * by the name a metric's `provider` uses; the built-in providers' are above.
 */
export type ModuleProviderSchemas = ReadonlyMap<string, z.ZodTypeAny>;

/** `web, prometheus and job` / `web, prometheus or job`. */
function listed(names: readonly string[], last: 'and' | 'or'): string {
  return names.length > 1
    ? `${names.slice(0, -1).join(', ')} ${last} ${names[names.length - 1]}`
    : names.join('');
}

/** A metric's `provider`: exactly one provider Stagecoach runs, its config checked by that provider's schema. */
function providerSchemaFor(modules: ModuleProviderSchemas) {
  const schemas = new Map<string, z.ZodTypeAny>([
    ...Object.entries(PROVIDER_SCHEMAS),
    ...modules,
  ]);
  const names = [...schemas.keys()];
  const runs = `Stagecoach runs ${listed(names, 'and')} metrics`;
  return z.record(z.unknown()).superRefine((provider, ctx) => {
    const supported: string[] = [];
    for (const key of Object.keys(provider)) {
      if (schemas.has(key)) supported.push(key);
      else if (OTHER_ROLLOUTS_PROVIDERS.includes(key)) {
        ctx.addIssue({
          code: z.ZodIssueCode.custom,
          path: [key],
          message: `the ${key} provider is not supported: ${runs}`,
        });
      } else {
        ctx.addIssue({
          code: z.ZodIssueCode.custom,
          path: [key],
          message: `unknown metric provider "${key}": ${runs}`,
        });
      }
    }
    if (Object.keys(provider).length === 0) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        message: `needs one provider: ${listed(names, 'or')}`,
      });
    }
    if (supported.length > 1) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        message: `has ${supported.join(
          ' and ',
        )}: a metric has exactly one provider`,
      });
    }
    for (const key of supported) {
      for (const issue of templatedIssues(schemas.get(key)!, provider[key])) {
        ctx.addIssue({ ...issue, path: [key, ...issue.path] } as z.IssueData);
      }
    }
  });
}

function metricSpecSchemaFor(modules: ModuleProviderSchemas) {
  return z
    .object({
      name: z.string().min(1, 'must name the metric'),
      /** Time between measurements; needs count. */
      interval: durationOrArg.optional(),
      /** Wait this long after the verification starts before the first measurement. */
      initialDelay: durationOrArg.optional(),
      /** Measurements to take (default 1). */
      count: intOrArg(
        1,
        'a whole number of measurements, 1 or more',
      ).optional(),
      successCondition: conditionSchema.optional(),
      failureCondition: conditionSchema.optional(),
      failureLimit: intOrArg(0, 'a whole number, 0 or more').optional(),
      inconclusiveLimit: intOrArg(0, 'a whole number, 0 or more').optional(),
      consecutiveErrorLimit: intOrArg(
        0,
        'a whole number, 0 or more',
      ).optional(),
      /** Stagecoach's shorthand for a `dryRun` entry naming this metric. */
      dryRun: z.boolean().optional(),
      consecutiveSuccessLimit: refuse(
        'is not supported by Stagecoach: use count with failureLimit (a metric succeeds once count measurements are taken without passing failureLimit)',
      ),
      provider: providerSchemaFor(modules),
    })
    .strict()
    .superRefine((m, ctx) => {
      // a count from an arg is checked once it is known (resolveAnalysis)
      let count: number | undefined =
        typeof m.count === 'number' ? m.count : undefined;
      if (m.count === undefined) count = 1;
      if (m.interval !== undefined && m.count === undefined) {
        ctx.addIssue({
          code: z.ZodIssueCode.custom,
          path: ['count'],
          message:
            'is required with interval: in Argo Rollouts a metric with interval and no count measures until the analysis is stopped, but a verification must end; give count, the number of measurements to take',
        });
      }
      if (count !== undefined && count > 1 && m.interval === undefined) {
        ctx.addIssue({
          code: z.ZodIssueCode.custom,
          path: ['interval'],
          message: `is required when count is more than 1 (count is ${count}): the time between measurements, such as 30s`,
        });
      }
      if (
        count !== undefined &&
        typeof m.inconclusiveLimit === 'number' &&
        count < m.inconclusiveLimit
      ) {
        ctx.addIssue({
          code: z.ZodIssueCode.custom,
          path: ['inconclusiveLimit'],
          message: `must not be more than count (${count})`,
        });
      }
      if (
        count !== undefined &&
        typeof m.failureLimit === 'number' &&
        count < m.failureLimit
      ) {
        ctx.addIssue({
          code: z.ZodIssueCode.custom,
          path: ['failureLimit'],
          message: `must not be more than count (${count})`,
        });
      }
    });
}

/** A metric of an AnalysisTemplate, with the built-in providers only. */
export const metricSpecSchema = metricSpecSchemaFor(new Map());

export const templateArgSchema = z
  .object({
    name: z.string().min(1, 'must name the argument'),
    /** The default, used when the stage gives none. */
    value: z
      .union([z.string(), z.number(), z.boolean()])
      .transform(String)
      .optional(),
    valueFrom: refuse(
      'is not supported by Stagecoach (no secretKeyRef or fieldRef): declare the argument without a value here and give it in the Stage, under spec.verification.args; credentials for web and prometheus checks go in app-config, stagecoach.verification.credentials',
    ),
  })
  .strict();

/** Rollouts' metricName rule: `*`, or a regular expression (on RE2, util/safeRegex) a metric's name is searched with. */
const regexSchema = z
  .string()
  .min(1)
  .superRefine((s, ctx) => {
    if (s === '*') return;
    const problem = regexProblem(s);
    if (problem)
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        message: `must be a metric name, a regular expression or *: ${problem}`,
      });
  });

/**
 * An AnalysisTemplate's spec, where metrics may name the built-in providers and the ones
 * modules add (their configs checked by their schemas).
 */
export function analysisTemplateSpecSchemaFor(modules: ModuleProviderSchemas) {
  return z
    .object({
      args: z.array(templateArgSchema).optional(),
      metrics: z
        .array(metricSpecSchemaFor(modules))
        .min(1, 'needs at least one metric'),
      /** Metrics measured and shown, but that do not decide the verification. */
      dryRun: z
        .array(z.object({ metricName: regexSchema }).strict())
        .optional(),
      /** Accepted; every measurement of a verification is kept (count bounds them). */
      measurementRetention: z
        .array(
          z
            .object({
              metricName: regexSchema,
              limit: z.number().int().min(1, 'must be at least 1'),
            })
            .strict(),
        )
        .optional(),
      templates: refuse(
        'is not supported by Stagecoach: list every AnalysisTemplate in the Stage, under spec.verification.analysisTemplates',
      ),
    })
    .strict()
    .superRefine((spec, ctx) => {
      const seen = new Map<string, number>();
      spec.metrics.forEach((m, i) => {
        const first = seen.get(m.name);
        if (first !== undefined) {
          ctx.addIssue({
            code: z.ZodIssueCode.custom,
            path: ['metrics', i, 'name'],
            message: `"${m.name}" is also the name of metrics[${first}]: metric names must be unique`,
          });
        } else seen.set(m.name, i);
      });
      const args = new Map<string, number>();
      spec.args?.forEach((a, i) => {
        const first = args.get(a.name);
        if (first !== undefined) {
          ctx.addIssue({
            code: z.ZodIssueCode.custom,
            path: ['args', i, 'name'],
            message: `"${a.name}" is declared twice (also args[${first}])`,
          });
        } else args.set(a.name, i);
      });
    });
}

/** An AnalysisTemplate's spec, with the built-in providers only. */
export const analysisTemplateSpecSchema = analysisTemplateSpecSchemaFor(
  new Map(),
);

export type MetricSpec = z.infer<typeof metricSpecSchema>;
export type TemplateArg = z.infer<typeof templateArgSchema>;
export type AnalysisTemplateSpec = z.infer<typeof analysisTemplateSpecSchema>;

const EXPRESSION = /\$\{\{([\s\S]*?)\}\}/g;

/** A Stage's `spec.verification`, as Kargo has it. */
export const stageVerificationSchema = z
  .object({
    /** AnalysisTemplates in the stage's project (none: the stage is verified once healthy). */
    analysisTemplates: z
      .array(
        z
          .object({
            name: z.string().min(1, 'must name an AnalysisTemplate'),
            kind: z
              .enum(['AnalysisTemplate', 'ClusterAnalysisTemplate'], {
                errorMap: () => ({
                  message:
                    'must be AnalysisTemplate (the default) or ClusterAnalysisTemplate',
                }),
              })
              .default('AnalysisTemplate'),
          })
          .strict(),
      )
      .default([]),
    analysisRunMetadata: z
      .object({
        labels: z.record(z.string()).optional(),
        annotations: z.record(z.string()).optional(),
      })
      .strict()
      .optional(),
    /** Values for the templates' args; a value may use `${{ }}` expressions (ctx, vars). */
    args: z
      .array(
        z
          .object({
            name: z.string().min(1, 'must name an argument of the templates'),
            value: z
              .union([z.string(), z.number(), z.boolean()], {
                errorMap: () => ({
                  message: 'must be text (a value may use ${{ }} expressions)',
                }),
              })
              .transform(String)
              .superRefine((v, ctx) => {
                for (const m of v.matchAll(EXPRESSION)) {
                  const problem = syntaxProblem(m[1]);
                  if (problem)
                    ctx.addIssue({
                      code: z.ZodIssueCode.custom,
                      message: problem,
                    });
                }
              }),
          })
          .strict(),
      )
      .optional(),
  })
  .strict()
  .superRefine((v, ctx) => {
    const seen = new Set<string>();
    v.args?.forEach((a, i) => {
      if (seen.has(a.name)) {
        ctx.addIssue({
          code: z.ZodIssueCode.custom,
          path: ['args', i, 'name'],
          message: `"${a.name}" is given twice`,
        });
      }
      seen.add(a.name);
    });
    const refs = new Set<string>();
    v.analysisTemplates.forEach((t, i) => {
      const key = `${t.kind}/${t.name}`;
      if (refs.has(key)) {
        ctx.addIssue({
          code: z.ZodIssueCode.custom,
          path: ['analysisTemplates', i, 'name'],
          message: `${t.kind} ${t.name} is listed twice`,
        });
      }
      refs.add(key);
    });
  });

export type StageVerification = z.infer<typeof stageVerificationSchema>;

/** A problem found merging templates: the template it is in and the path inside that document. */
export interface TemplateProblem {
  template: string;
  path: (string | number)[];
  message: string;
}

export type MergeResult =
  | { ok: true; spec: AnalysisTemplateSpec }
  | { ok: false; problems: TemplateProblem[] };

/** Does a dryRun / measurementRetention rule name this metric? (Rollouts: a regex, or `*`.) */
export function ruleMatches(rule: string, metric: string): boolean {
  if (rule === '*' || rule === metric) return true;
  try {
    return compileRegex(rule).test(metric);
  } catch {
    return false;
  }
}

/**
 * Merges the AnalysisTemplates a stage verifies with into one, as Kargo does before it
 * creates an AnalysisRun: metrics side by side (a name may be used once across them), args
 * merged (the same arg in two templates must not have two different defaults), dryRun and
 * measurementRetention rules together (each must match some metric of the merge).
 */
export function mergeTemplates(
  templates: { name: string; spec: AnalysisTemplateSpec }[],
): MergeResult {
  const problems: TemplateProblem[] = [];
  const metrics: MetricSpec[] = [];
  const metricFrom = new Map<string, string>();
  const args: TemplateArg[] = [];
  const argFrom = new Map<string, string>();
  const dryRun: { metricName: string }[] = [];
  const retention: { metricName: string; limit: number }[] = [];
  const rules: { template: string; path: (string | number)[]; rule: string }[] =
    [];

  for (const { name, spec } of templates) {
    spec.metrics.forEach((m, i) => {
      const other = metricFrom.get(m.name);
      if (other !== undefined) {
        problems.push({
          template: name,
          path: ['spec', 'metrics', i, 'name'],
          message: `metric "${m.name}" is also defined in AnalysisTemplate ${other}: metric names must be unique across the templates a stage verifies with`,
        });
        return;
      }
      metricFrom.set(m.name, name);
      metrics.push(m);
    });
    spec.args?.forEach((a, i) => {
      const at = args.findIndex(x => x.name === a.name);
      if (at < 0) {
        args.push({ ...a });
        argFrom.set(a.name, name);
        return;
      }
      const prev = args[at];
      if (
        prev.value !== undefined &&
        a.value !== undefined &&
        prev.value !== a.value
      ) {
        // the values are not repeated: an arg may carry a token
        problems.push({
          template: name,
          path: ['spec', 'args', i, 'value'],
          message: `argument "${
            a.name
          }" has a different default here than in AnalysisTemplate ${argFrom.get(
            a.name,
          )}: give it one default, or none and set it in the Stage's spec.verification.args`,
        });
        return;
      }
      if (prev.value === undefined && a.value !== undefined) {
        args[at] = { ...a };
        argFrom.set(a.name, name);
      }
    });
    spec.dryRun?.forEach((d, i) => {
      rules.push({
        template: name,
        path: ['spec', 'dryRun', i, 'metricName'],
        rule: d.metricName,
      });
      if (!dryRun.some(x => x.metricName === d.metricName)) dryRun.push(d);
    });
    spec.measurementRetention?.forEach((r, i) => {
      rules.push({
        template: name,
        path: ['spec', 'measurementRetention', i, 'metricName'],
        rule: r.metricName,
      });
      if (!retention.some(x => x.metricName === r.metricName))
        retention.push(r);
    });
  }
  for (const r of rules) {
    if (!metrics.some(m => ruleMatches(r.rule, m.name))) {
      problems.push({
        template: r.template,
        path: r.path,
        message: `"${r.rule}" matches no metric (metrics: ${metrics
          .map(m => m.name)
          .join(', ')})`,
      });
    }
  }
  if (problems.length) return { ok: false, problems };
  return {
    ok: true,
    spec: {
      metrics,
      ...(args.length ? { args } : {}),
      ...(dryRun.length ? { dryRun } : {}),
      ...(retention.length ? { measurementRetention: retention } : {}),
    },
  };
}
