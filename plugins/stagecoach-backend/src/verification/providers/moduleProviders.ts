import type { z } from 'zod';
import type { Measurement } from '@stagecoach/plugin-stagecoach-common';
import type {
  VerificationProvider,
  VerificationProviderContext,
  VerificationProviderMetric,
  VerificationProvidersExtensionPoint,
} from '@stagecoach/plugin-stagecoach-node';
import { DEFAULT_EGRESS_POLICY } from '../../integrations/http/egress';
import { moduleRequest } from '../../integrations/http/moduleRequest';
import { describeIssue } from '../../manifests/describeIssue';
import { errorMeasurement, judgedMeasurement, valueText } from '../conditions';
import type { MeasureContext, Metric, MetricProvider } from '../types';
import { MAX_CHECK_SECONDS, valueTooLarge } from './common';

/*
 * Verification providers that backend modules add through
 * stagecoachVerificationProvidersExtensionPoint. The analysis runs them as it runs web,
 * prometheus and job, but hands them the public context only: their code is not the
 * engine's, so app-config's credentials and the Kubernetes clusters stay out of their reach,
 * and what they return is checked before it is kept.
 */

/** What a metric's `provider` can name: a lower camel-case word, as Rollouts' keys are. */
const PROVIDER_NAME = /^[a-z][a-zA-Z0-9]*$/;

const PHASES: ReadonlySet<string> = new Set([
  'Running',
  'Successful',
  'Failed',
  'Error',
  'Inconclusive',
]);

const TOO_LARGE_ADVICE = 'keep only what the conditions read';

/** A metric provider as the engine runs it, with the schema its config is applied with. */
export interface ModuleMetricProvider extends MetricProvider {
  /** Checked when manifests are applied (analysisTemplateSpecSchemaFor) and before each measurement. */
  schema: z.ZodTypeAny;
}

function pathText(path: (string | number)[]): string {
  return path.map(p => (typeof p === 'number' ? `[${p}]` : `.${p}`)).join('');
}

/** The metric's config parsed by the provider's schema, or a message naming the field. */
function parsedConfig(
  provider: VerificationProvider,
  metric: Metric,
): { config: unknown } | { problem: string } {
  const given = (metric.provider as Record<string, unknown>)[provider.name];
  const parsed = provider.schema.safeParse(given ?? {});
  if (parsed.success) return { config: parsed.data };
  const issue = parsed.error.issues[0];
  const what =
    issue.code === 'unrecognized_keys'
      ? `has unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys
          .map(k => `"${k}"`)
          .join(', ')}`
      : describeIssue(issue);
  return {
    problem: `provider.${provider.name}${pathText(issue.path)} ${what}`,
  };
}

function publicMetric<Config>(
  metric: Metric,
  config: Config,
): VerificationProviderMetric<Config> {
  // the provider's own config is given parsed; the stored form is the engine's
  const { provider: _stored, ...fields } = metric;
  return { ...structuredClone(fields), config };
}

/** What a module's provider returned, as a measurement may be kept; throws for what cannot be. */
function checkedMeasurement(
  ctx: MeasureContext,
  m: Measurement | void,
  providerName: string,
): Measurement {
  if (!m || typeof m !== 'object' || !PHASES.has(m.phase)) {
    throw new Error(
      `returned ${
        m && typeof m === 'object'
          ? `a measurement with phase ${JSON.stringify(m.phase)}`
          : 'no measurement'
      }: the ${providerName} provider must return one that is Running, Successful, Failed, Error or Inconclusive`,
    );
  }
  const out: Measurement = { ...m };
  // kept as text, as the REST API shows them: a module written in JavaScript may give other values
  if (m.metadata) {
    out.metadata = Object.fromEntries(
      Object.entries(m.metadata).map(([k, v]) => [
        k,
        typeof v === 'string' ? v : valueText(v),
      ]),
    );
  }
  if (m.value !== undefined) {
    out.value = typeof m.value === 'string' ? m.value : valueText(m.value);
    const tooLarge = valueTooLarge(ctx, out.value, TOO_LARGE_ADVICE);
    if (tooLarge) {
      delete out.value;
      return { ...out, phase: 'Error', message: tooLarge };
    }
  }
  return out;
}

/**
 * One call of a module's provider, under the public context. Its signal is aborted after
 * MAX_CHECK_SECONDS: a worker holds the verification while it measures (its claim lasts two
 * minutes), so a call that outlived that would see the measurement taken again elsewhere. A
 * call that ignores the signal is given up on then.
 */
async function callPublic(
  provider: VerificationProvider,
  ctx: MeasureContext,
  metric: Metric,
  startedAt: Date,
  call: (
    publicCtx: VerificationProviderContext,
    publicMetric: VerificationProviderMetric,
  ) => Promise<Measurement | void>,
): Promise<
  | { config: false; measurement: Measurement }
  | { config: true; answer: Measurement | void }
> {
  const found = parsedConfig(provider, metric);
  if ('problem' in found) {
    // as the built-in providers answer a config that is wrong once its args are substituted
    return {
      config: false,
      measurement: errorMeasurement(found.problem, startedAt, ctx.now()),
    };
  }
  const deadline = new AbortController();
  const timer = setTimeout(() => deadline.abort(), MAX_CHECK_SECONDS * 1000);
  const signal = ctx.signal
    ? AbortSignal.any([ctx.signal, deadline.signal])
    : deadline.signal;
  let onAbort = () => {};
  const givenUp = new Promise<never>((_, reject) => {
    onAbort = () =>
      reject(
        new Error(
          deadline.signal.aborted
            ? `did not answer within ${MAX_CHECK_SECONDS} seconds: a longer measurement answers Running and is resumed`
            : 'the measurement was stopped',
        ),
      );
    signal.addEventListener('abort', onAbort);
  });
  const publicCtx: VerificationProviderContext = {
    project: ctx.project,
    stage: ctx.stage,
    verificationId: ctx.verificationId,
    measurement: ctx.measurement ?? 1,
    logger: ctx.logger,
    signal,
    now: () => ctx.now(),
    request: req =>
      moduleRequest(
        { egress: ctx.egress ?? DEFAULT_EGRESS_POLICY, signal },
        req,
      ),
    measured: (result, options = {}) =>
      judgedMeasurement(metric, result, startedAt, ctx.now(), options.metadata),
  };
  try {
    const answer = await Promise.race([
      call(publicCtx, publicMetric(metric, found.config)),
      givenUp,
    ]);
    return { config: true, answer };
  } finally {
    clearTimeout(timer);
    signal.removeEventListener('abort', onAbort);
  }
}

/** A module's provider as the engine runs it. */
export function moduleProvider(
  provider: VerificationProvider,
): ModuleMetricProvider {
  const { resume, terminate } = provider;
  const measure = async (
    ctx: MeasureContext,
    metric: Metric,
    startedAt: Date,
    call: Parameters<typeof callPublic>[4],
  ): Promise<Measurement> => {
    const outcome = await callPublic(provider, ctx, metric, startedAt, call);
    if (!outcome.config) return outcome.measurement;
    return checkedMeasurement(ctx, outcome.answer, provider.name);
  };
  const adapted: ModuleMetricProvider = {
    name: provider.name,
    description: provider.description,
    schema: provider.schema,
    run: (ctx, metric) =>
      measure(ctx, metric, ctx.now(), (c, m) => provider.run(c, m)),
  };
  if (resume) {
    adapted.resume = (ctx, metric, running) =>
      measure(ctx, metric, new Date(running.startedAt), (c, m) =>
        resume.call(provider, c, m, running),
      );
  }
  if (terminate) {
    adapted.terminate = async (ctx, metric, running) => {
      const outcome = await callPublic(
        provider,
        ctx,
        metric,
        new Date(running.startedAt),
        (c, m) => terminate.call(provider, c, m, running),
      );
      // nothing back: the measurement as it was, which the analysis marks stopped
      if (!outcome.config || !outcome.answer) return running;
      return checkedMeasurement(ctx, outcome.answer, provider.name);
    };
  }
  return adapted;
}

function describeProvider(
  provider: Pick<MetricProvider, 'name' | 'description'>,
) {
  return `"${provider.name}"${
    provider.description ? ` (${provider.description})` : ''
  }`;
}

/** What is wrong with a provider a module adds, before its name is looked at. */
function shapeProblem(provider: VerificationProvider): string | undefined {
  if (
    typeof provider?.name !== 'string' ||
    !PROVIDER_NAME.test(provider.name)
  ) {
    return `its name ${JSON.stringify(
      provider?.name,
    )} is not a lower camel-case word (such as statuspage or newRelic)`;
  }
  if (typeof provider.schema?.safeParse !== 'function') {
    return 'its schema is not a zod schema';
  }
  if (typeof provider.run !== 'function') return 'it has no run function';
  return undefined;
}

/**
 * The providers AnalysisTemplates may name: the built-in ones and those modules add. A name
 * that two providers claim is refused when the second is added, so the module that added it
 * fails to start (Backstage names it) with a message that names both providers.
 */
export class VerificationProviderRegistry {
  private readonly added = new Map<string, VerificationProvider>();
  private sealed = false;

  constructor(private readonly builtins: ReadonlyMap<string, MetricProvider>) {}

  /** The implementation of the extension point. */
  readonly extensionPoint: VerificationProvidersExtensionPoint = {
    addProviders: (...providers) => this.add(providers),
  };

  /** Adds all these providers, or none of them. */
  add(providers: VerificationProvider[]): void {
    if (this.sealed) {
      throw new Error(
        "verification providers can only be added while the backend starts, from a module's init",
      );
    }
    const names = new Map<string, VerificationProvider>();
    for (const provider of providers) {
      const problem = shapeProblem(provider);
      if (problem) {
        throw new Error(
          `cannot add the verification provider ${JSON.stringify(
            provider?.name,
          )}: ${problem}`,
        );
      }
      const builtin = this.builtins.get(provider.name);
      const earlier = this.added.get(provider.name) ?? names.get(provider.name);
      if (builtin) {
        throw new Error(
          `cannot add the verification provider ${describeProvider(
            provider,
          )}: the built-in provider ${describeProvider(
            builtin,
          )} has that name; give the module's provider another name`,
        );
      }
      if (earlier) {
        throw new Error(
          `cannot add the verification provider ${describeProvider(
            provider,
          )}: a provider added by ${
            names.has(provider.name) ? 'the same call' : 'another module'
          }, ${describeProvider(
            earlier,
          )}, has that name; give one of them another name`,
        );
      }
      names.set(provider.name, provider);
    }
    for (const [name, provider] of names) this.added.set(name, provider);
  }

  /** The built-in providers and the modules'; no provider can be added after this. */
  seal(): ReadonlyMap<string, MetricProvider> {
    this.sealed = true;
    if (this.added.size === 0) return this.builtins;
    return new Map<string, MetricProvider>([
      ...this.builtins,
      ...[...this.added].map(
        ([name, provider]) => [name, moduleProvider(provider)] as const,
      ),
    ]);
  }
}

/**
 * The config schemas of the providers in `providers` that modules added, for the manifests
 * (analysisTemplateSpecSchemaFor); the built-in providers' schemas are analysisTemplate's own.
 */
export function moduleProviderSchemas(
  providers: ReadonlyMap<string, MetricProvider>,
): ReadonlyMap<string, z.ZodTypeAny> {
  const schemas = new Map<string, z.ZodTypeAny>();
  for (const [name, provider] of providers) {
    const schema = (provider as Partial<ModuleMetricProvider>).schema;
    if (schema) schemas.set(name, schema);
  }
  return schemas;
}
