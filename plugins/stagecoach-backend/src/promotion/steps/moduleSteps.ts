import type {
  PromotionStep,
  PromotionStepContext,
  PromotionStepHttpRequest,
  PromotionStepHttpResponse,
  PromotionStepsExtensionPoint,
} from '@stagecoach/plugin-stagecoach-node';
import { EgressRefusedError } from '../../integrations/http/egress';
import {
  InvalidRequestError,
  moduleRequest,
} from '../../integrations/http/moduleRequest';
import { confinedPath, StepConfigError } from '../workDir';
import type { StepContext, StepDefinition } from './types';

/*
 * Steps that backend modules add through stagecoachPromotionStepsExtensionPoint. The engine
 * runs them as it runs the built-in steps, but hands them the public context only: their
 * code is not the engine's, so credentials, clusters, the clone store and the metadata
 * writer stay out of their reach.
 */

/** What a manifest's `uses` can name: lower-case words with `-` or `.` between them. */
const STEP_NAME = /^[a-z0-9]+(?:[-.][a-z0-9]+)*$/;

/**
 * A module step's HTTP request, under the step's egress policy. A URL that does not parse or
 * a host the policy refuses fails the step at once: retrying cannot change either.
 */
async function request(
  ctx: StepContext,
  req: PromotionStepHttpRequest,
): Promise<PromotionStepHttpResponse> {
  try {
    return await moduleRequest({ egress: ctx.egress, signal: ctx.signal }, req);
  } catch (e) {
    if (e instanceof InvalidRequestError || e instanceof EgressRefusedError) {
      throw new StepConfigError(e.message);
    }
    throw e;
  }
}

/** The part of the engine's context that a module's step gets. */
export function publicContext(ctx: StepContext): PromotionStepContext {
  const { freight } = ctx;
  return {
    workDir: ctx.workDir,
    project: ctx.project,
    stage: ctx.stage,
    promotionId: ctx.promotionId,
    // a copy: the step cannot change the freight the runner goes on with
    freight: structuredClone({
      id: freight.id,
      alias: freight.alias,
      warehouse: freight.warehouse,
      artifacts: freight.artifacts,
      createdAt: freight.createdAt,
    }),
    alias: ctx.alias,
    logger: ctx.logger,
    outputs: ctx.outputs,
    signal: ctx.signal,
    state: ctx.state,
    actor: ctx.actor,
    resolvePath: (given, options = {}) =>
      confinedPath(ctx.workDir, given, options.field ?? 'path', {
        writes: options.writes,
      }),
    request: req => request(ctx, req),
  };
}

/** A module's step as the engine runs it. */
export function moduleStep<Config>(
  step: PromotionStep<Config>,
): StepDefinition<Config> {
  return {
    name: step.name,
    description: step.description,
    schema: step.schema,
    defaultTimeoutMs: step.defaultTimeoutMs,
    async run(ctx, config) {
      const result = await step.run(publicContext(ctx), config);
      // only what the public result holds: a health check is the built-in steps' to make
      const { status, message, outputs, retryAfterMs, state } = result;
      return { status, message, outputs, retryAfterMs, state };
    },
  };
}

function describeStep(step: Pick<PromotionStep, 'name' | 'description'>) {
  return `"${step.name}" (${step.description})`;
}

/** What is wrong with a step a module adds, before its name is looked at. */
function shapeProblem(step: PromotionStep): string | undefined {
  if (typeof step?.name !== 'string' || !STEP_NAME.test(step.name)) {
    return `its name ${JSON.stringify(
      step?.name,
    )} is not lower-case words with - or . between them`;
  }
  if (typeof step.schema?.safeParse !== 'function') {
    return 'its schema is not a zod schema';
  }
  if (typeof step.run !== 'function') return 'it has no run function';
  return undefined;
}

/**
 * The steps manifests may use: the built-in ones and those modules add. A name that two steps
 * claim is refused when the second is added, so the module that added it fails to start
 * (Backstage names it) with a message that names both steps.
 */
export class PromotionStepRegistry {
  private readonly added = new Map<string, PromotionStep>();
  private sealed = false;

  constructor(private readonly builtins: ReadonlyMap<string, StepDefinition>) {}

  /** The implementation of the extension point. */
  readonly extensionPoint: PromotionStepsExtensionPoint = {
    addSteps: (...steps) => this.add(steps),
  };

  /** Adds all these steps, or none of them. */
  add(steps: PromotionStep[]): void {
    if (this.sealed) {
      throw new Error(
        "promotion steps can only be added while the backend starts, from a module's init",
      );
    }
    const names = new Map<string, PromotionStep>();
    for (const step of steps) {
      const problem = shapeProblem(step);
      if (problem) {
        throw new Error(
          `cannot add the promotion step ${JSON.stringify(
            step?.name,
          )}: ${problem}`,
        );
      }
      const builtin = this.builtins.get(step.name);
      const earlier = this.added.get(step.name) ?? names.get(step.name);
      if (builtin) {
        throw new Error(
          `cannot add the promotion step ${describeStep(
            step,
          )}: the built-in step ${describeStep(
            builtin,
          )} has that name; give the module's step another name`,
        );
      }
      if (earlier) {
        throw new Error(
          `cannot add the promotion step ${describeStep(
            step,
          )}: a step added by ${
            names.has(step.name) ? 'the same call' : 'another module'
          }, ${describeStep(
            earlier,
          )}, has that name; give one of them another name`,
        );
      }
      names.set(step.name, step);
    }
    for (const [name, step] of names) this.added.set(name, step);
  }

  /** The built-in steps and the modules' steps; no step can be added after this. */
  seal(): ReadonlyMap<string, StepDefinition> {
    this.sealed = true;
    if (this.added.size === 0) return this.builtins;
    return new Map([
      ...this.builtins,
      ...[...this.added].map(
        ([name, step]) => [name, moduleStep(step)] as const,
      ),
    ]);
  }
}
