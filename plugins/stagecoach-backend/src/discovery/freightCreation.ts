import type { WarehouseSpec } from '../manifests/schemas';
import { evaluate, ExprFunction, unwrapExpression } from '../expressions/expressions';

/** Whether discovery makes freight of what it found: `error` is for the warehouse's status. */
export type FreightCreationDecision = { create: true } | { create: false; reason: string; error?: string };

/**
 * Decides whether discovery turns the newest artifacts into freight: never for a `Manual`
 * warehouse; for an `Automatic` one, when it has no `freightCreationCriteria` or its
 * expression is true over those artifacts (`artifactFunctions`: the kinds' `commitFrom`, `imageFrom`,
 * … over them, which read Kargo's field names too: SubscriptionKinds). An expression that fails, or is not true or false, creates nothing and says why.
 */
export function decideFreightCreation(
  spec: WarehouseSpec,
  artifactFunctions: Record<string, ExprFunction>,
): FreightCreationDecision {
  if (spec.freightCreationPolicy === 'Manual') return { create: false, reason: 'freightCreationPolicy is Manual' };
  const expression = spec.freightCreationCriteria?.expression;
  if (!expression) return { create: true };
  let result: unknown;
  try {
    result = evaluate(unwrapExpression(expression), { values: {}, functions: artifactFunctions });
  } catch (e) {
    const error = `spec.freightCreationCriteria.expression failed, so no freight was created: ${(e as Error).message}`;
    return { create: false, reason: error, error };
  }
  if (typeof result !== 'boolean') {
    const error = `spec.freightCreationCriteria.expression must be true or false, but it is ${
      JSON.stringify(result) ?? 'undefined'
    }: no freight was created`;
    return { create: false, reason: error, error };
  }
  return result ? { create: true } : { create: false, reason: 'spec.freightCreationCriteria.expression is false' };
}
