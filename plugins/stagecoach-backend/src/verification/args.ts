import { evaluateTemplate, ExprFunction } from '../expressions/expressions';
import { valueFunctions } from '../expressions/valueFunctions';
import { parseDuration } from '../util/duration';
import type { AnalysisTemplateSpec, MetricSpec, ProviderName, StageVerification } from './analysisTemplate';
import { ruleMatches, SUPPORTED_PROVIDERS } from './analysisTemplate';
import { describeIssue } from '../manifests/describeIssue';
import { conditionProblem } from './conditions';
import { wholeText } from './providers/common';
import { prometheusMetricSchema } from './providers/prometheus';
import { jobMetricSchema } from './providers/job';
import { webMetricSchema } from './providers/web';
import type { Metric, ResolvedAnalysis } from './types';

/**
 * Turns the merged AnalysisTemplates of a stage into what a verification runs: the stage's
 * args evaluated (`${{ }}`, as Kargo allows) and merged with the templates' defaults, every
 * `{{args.name}}` substituted, counts and limits parsed, defaults applied, and each metric
 * checked again now that its values are known.
 */

/** A verification that cannot start as configured; the message names the metric and field. */
export class VerificationConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'VerificationConfigError';
  }
}

export interface ResolveEnv {
  project: string;
  stage: string;
  /** The stage's vars, already evaluated: `${{ vars.x }}` in an arg reads them. */
  vars: Record<string, unknown>;
  /** More functions for arg expressions: the verified freight's `commitFrom`, `imageFrom`, … */
  functions?: Record<string, ExprFunction>;
}

/** `warehouse("x")`, the origin argument of `commitFrom(repo, warehouse("x"))`. */
const originOf: ExprFunction = name => ({ kind: 'Warehouse', name });

const DEFAULTS = { count: 1, failureLimit: 0, inconclusiveLimit: 0, consecutiveErrorLimit: 4 };
const ARG_REF = /\{\{\s*args\.([^{}\s]+)\s*\}\}/g;

function pathText(path: (string | number)[]): string {
  return path
    .map((p, i) => {
      if (typeof p === 'number') return `[${p}]`;
      return i === 0 ? p : `.${p}`;
    })
    .join('');
}

/** The stage's arg values, expressions evaluated. */
function stageArgs(verification: StageVerification | undefined, env: ResolveEnv): Map<string, string> {
  const out = new Map<string, string>();
  const exprEnv = {
    values: { ctx: { project: env.project, stage: env.stage }, vars: env.vars },
    functions: { ...valueFunctions, ...env.functions, warehouse: originOf },
  };
  verification?.args?.forEach((arg, i) => {
    let value: unknown;
    try {
      value = evaluateTemplate(arg.value, exprEnv);
    } catch (e) {
      throw new VerificationConfigError(
        `spec.verification.args[${i}] (${arg.name}): ${(e as Error).message}`,
      );
    }
    if (typeof value === 'number' || typeof value === 'boolean') value = String(value);
    if (typeof value !== 'string') {
      let what = Array.isArray(value) ? 'a list' : 'an object';
      if (value === null || value === undefined) what = 'nothing';
      throw new VerificationConfigError(
        `spec.verification.args[${i}] (${arg.name}) evaluates to ${what}, but an argument is text: use quote(...) to pass it as JSON`,
      );
    }
    out.set(arg.name, value);
  });
  return out;
}

/** Every string in a value, `{{args.name}}` replaced; keys are left alone. */
function substitute(
  value: unknown,
  args: ReadonlyMap<string, string>,
  path: (string | number)[],
  metric: string,
): unknown {
  if (typeof value === 'string') {
    return value.replace(ARG_REF, (_, name: string) => {
      const v = args.get(name);
      if (v === undefined) {
        throw new VerificationConfigError(
          `metric ${metric}: ${pathText(path)} uses {{args.${name}}}, but no AnalysisTemplate of the stage declares an argument ${name} (declared: ${
            [...args.keys()].join(', ') || 'none'
          })`,
        );
      }
      return v;
    });
  }
  if (Array.isArray(value)) return value.map((v, i) => substitute(v, args, [...path, i], metric));
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, substitute(v, args, [...path, k], metric)]),
    );
  }
  return value;
}

function wholeNumber(
  value: number | string | undefined,
  fallback: number,
  min: number,
  metric: string,
  field: string,
): number {
  if (value === undefined) return fallback;
  const n = typeof value === 'number' ? value : wholeText(value);
  if (!Number.isInteger(n) || n < min) {
    throw new VerificationConfigError(
      `metric ${metric}: ${field} must be a whole number${min > 0 ? `, ${min} or more` : ', 0 or more'}, got ${JSON.stringify(value)}`,
    );
  }
  return n;
}

function checkDuration(value: string | undefined, metric: string, field: string): string | undefined {
  if (value === undefined) return undefined;
  try {
    parseDuration(value);
  } catch (e) {
    throw new VerificationConfigError(`metric ${metric}: ${field} ${(e as Error).message}`);
  }
  return value;
}

const PROVIDER_SCHEMAS = { web: webMetricSchema, prometheus: prometheusMetricSchema, job: jobMetricSchema } as const;

/**
 * The metric's one provider. A built-in provider's config is checked here, now that its args
 * are known; a provider a module added checks its own before each measurement
 * (providers/moduleProviders.ts), and one no module adds any more says so then.
 */
function checkProvider(provider: Record<string, unknown>, metric: string): Metric['provider'] {
  const keys = Object.keys(provider);
  if (keys.length !== 1) {
    throw new VerificationConfigError(`metric ${metric}: provider must name exactly one provider (such as web, prometheus or job)`);
  }
  const name = keys[0];
  const config = provider[name];
  if ((SUPPORTED_PROVIDERS as readonly string[]).includes(name)) {
    const parsed = PROVIDER_SCHEMAS[name as ProviderName].safeParse(config);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const what =
        issue.code === 'unrecognized_keys'
          ? `has unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map(k => `"${k}"`).join(', ')}`
          : describeIssue(issue);
      throw new VerificationConfigError(`metric ${metric}: ${pathText(['provider', name, ...issue.path])} ${what}`);
    }
  }
  return { [name]: config as Record<string, unknown> };
}

function resolveMetric(
  spec: MetricSpec,
  args: ReadonlyMap<string, string>,
  dryRunRules: string[],
): Metric {
  const name = spec.name;
  const m = substitute(
    { ...spec, name: undefined },
    args,
    [],
    name,
  ) as Omit<MetricSpec, 'name'>;
  const interval = checkDuration(m.interval, name, 'interval');
  const initialDelay = checkDuration(m.initialDelay, name, 'initialDelay');
  const count = wholeNumber(m.count, DEFAULTS.count, 1, name, 'count');
  if (count > 1 && !interval) {
    throw new VerificationConfigError(`metric ${name}: count is ${count}, so interval (the time between measurements) is required`);
  }
  for (const field of ['successCondition', 'failureCondition'] as const) {
    const condition = m[field];
    const problem = condition?.trim() ? conditionProblem(condition) : undefined;
    if (problem) throw new VerificationConfigError(`metric ${name}: ${field} ${problem}`);
  }
  const metric: Metric = {
    name,
    count,
    failureLimit: wholeNumber(m.failureLimit, DEFAULTS.failureLimit, 0, name, 'failureLimit'),
    inconclusiveLimit: wholeNumber(m.inconclusiveLimit, DEFAULTS.inconclusiveLimit, 0, name, 'inconclusiveLimit'),
    consecutiveErrorLimit: wholeNumber(
      m.consecutiveErrorLimit,
      DEFAULTS.consecutiveErrorLimit,
      0,
      name,
      'consecutiveErrorLimit',
    ),
    provider: checkProvider(m.provider as Record<string, unknown>, name),
  };
  if (interval) metric.interval = interval;
  if (initialDelay) metric.initialDelay = initialDelay;
  if (m.successCondition?.trim()) metric.successCondition = m.successCondition.trim();
  if (m.failureCondition?.trim()) metric.failureCondition = m.failureCondition.trim();
  if (spec.dryRun || dryRunRules.some(rule => ruleMatches(rule, name))) metric.dryRun = true;
  return metric;
}

/**
 * What a verification of a stage runs.
 *
 * @param templates the names of the merged AnalysisTemplates, as the verification shows them
 * @param spec the merged spec (`mergeTemplates`)
 * @param verification the Stage's `spec.verification`
 * @throws VerificationConfigError naming the arg, or the metric and field, that is wrong
 */
export function resolveAnalysis(
  templates: string[],
  spec: AnalysisTemplateSpec,
  verification: StageVerification | undefined,
  env: ResolveEnv,
): ResolvedAnalysis {
  const given = stageArgs(verification, env);
  const args = new Map<string, string>();
  for (const arg of spec.args ?? []) {
    // a stage arg no template declares is ignored, as Kargo does
    const value = given.get(arg.name) ?? arg.value;
    if (value === undefined) {
      throw new VerificationConfigError(
        `argument ${arg.name} has no value: the AnalysisTemplate declares it without a default, so give it in the Stage's spec.verification.args`,
      );
    }
    args.set(arg.name, value);
  }
  const dryRunRules = (spec.dryRun ?? []).map(d => d.metricName);
  return {
    templates: [...templates],
    args: Object.fromEntries(args),
    metrics: spec.metrics.map(m => resolveMetric(m, args, dryRunRules)),
  };
}
