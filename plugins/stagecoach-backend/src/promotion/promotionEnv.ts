import type { StoredFreight } from '../store/FreightStore';
import type { MetadataSnapshot } from '../store/MetadataStore';
import { ExpressionEnv, ExpressionError, ExprFunction } from '../expressions/expressions';
import { valueFunctions } from '../expressions/valueFunctions';

export interface PromotionEnvInput {
  project: string;
  stage: string;
  promotionId: string;
  actor?: string;
  /** The freight is older than the one of its warehouse it replaces in the stage. */
  rollback?: boolean;
  /** Where people open the UI (app.baseUrl). */
  uiBaseUrl?: string;
  freight: StoredFreight;
  /** `commitFrom`, `imageFrom`, `chartFrom`, …: the subscription kinds' functions over the freight's artifacts. */
  artifactFunctions: Record<string, ExprFunction>;
  vars: Record<string, unknown>;
  outputs: Record<string, unknown>;
  /** The alias of the step whose config is evaluated. */
  stepAlias?: string;
  /** Inside a PromotionTask: the outputs of the task's own steps, by their alias in the task. */
  taskOutputs?: Record<string, unknown>;
  /** The status of every step so far, by alias; and whether an earlier step failed. */
  statuses?: ReadonlyMap<string, string>;
  failed?: boolean;
  /** Functions over the project's own data (such as `configMap`, `secret`), added by whoever holds it. */
  projectFunctions?: Record<string, ExprFunction>;
  /** Metadata written by set-metadata: stages by name, freight by ID and by alias. */
  metadata?: MetadataSnapshot;
}

/** The names and functions that `${{ }}` expressions in a promotion's steps can use. */
export function promotionEnv(input: PromotionEnvInput): ExpressionEnv {
  const { freight } = input;
  return {
    values: {
      ctx: {
        uiBaseUrl: input.uiBaseUrl ?? '',
        project: input.project,
        stage: input.stage,
        promotion: input.promotionId,
        targetFreight: { name: freight.id, alias: freight.alias, origin: { name: freight.warehouse } },
        meta: {
          promotion: { actor: input.actor ?? '', rollback: input.rollback ?? false },
          ...(input.stepAlias ? { step: { alias: input.stepAlias } } : {}),
        },
      },
      vars: input.vars,
      outputs: input.outputs,
      ...(input.taskOutputs ? { task: { outputs: input.taskOutputs } } : {}),
    },
    functions: {
      ...input.artifactFunctions,
      ...valueFunctions,
      ...statusFunctions(input.statuses ?? new Map(), input.failed ?? false),
      ...metadataFunctions(input.metadata),
      warehouse,
      ...input.projectFunctions,
    },
  };
}

/** `warehouse("x")`: an origin, the last argument of `commitFrom`, `imageFrom`, `chartFrom`, … */
function warehouse(name: unknown): { kind: 'Warehouse'; name: string } {
  if (typeof name !== 'string' || !name) throw new ExpressionError('warehouse(name) needs the name of a warehouse');
  return { kind: 'Warehouse', name };
}

/** `success()`, `failure()`, `always()` and `status(alias)`, for a step's `if`. */
function statusFunctions(statuses: ReadonlyMap<string, string>, failed: boolean): Record<string, ExprFunction> {
  return {
    success: () => !failed,
    failure: () => failed,
    always: () => true,
    status: alias => {
      if (typeof alias !== 'string') throw new ExpressionError('status(alias) needs the alias of an earlier step');
      const s = statuses.get(alias);
      if (s === undefined) {
        throw new ExpressionError(
          `status("${alias}"): no earlier step has that alias (earlier: ${[...statuses.keys()].join(', ') || 'none'})`,
        );
      }
      return s;
    },
  };
}

function metadataFunctions(metadata: MetadataSnapshot | undefined): Record<string, ExprFunction> {
  const lookup = (map: ReadonlyMap<string, Record<string, unknown>> | undefined, fn: string) =>
    (name: unknown, key?: unknown) => {
      if (typeof name !== 'string' || !name) throw new ExpressionError(`${fn}(name[, key]) needs a name`);
      const values = map?.get(name) ?? {};
      if (key === undefined) return values;
      if (typeof key !== 'string') throw new ExpressionError(`${fn}(name, key): key must be a string`);
      return Object.prototype.hasOwnProperty.call(values, key) ? values[key] : null;
    };
  return {
    freightMetadata: lookup(metadata?.freight, 'freightMetadata'),
    stageMetadata: lookup(metadata?.stages, 'stageMetadata'),
  };
}
