import type { Measurement } from '@stagecoach/plugin-stagecoach-common';
import { evaluate, ExpressionError, ExprFunction, syntaxProblem } from '../expressions/expressions';
import type { Metric } from './types';

/**
 * A metric's `successCondition` and `failureCondition`, judged against a measured `result`
 * as Argo Rollouts judges them:
 *
 * - neither given: every measurement that produced a value is Successful;
 * - only successCondition: Successful when it holds, else Failed;
 * - only failureCondition: Failed when it holds, else Successful;
 * - both: Failed when failureCondition holds, else Successful when successCondition holds,
 *   else Inconclusive.
 *
 * Conditions are evaluated by Stagecoach's sandboxed expression evaluator (the one `${{ }}`
 * uses) with Rollouts' helper functions; a condition that cannot be evaluated, or that gives
 * something other than true or false, makes the measurement an Error.
 */

export type ConditionPhase = 'Successful' | 'Failed' | 'Inconclusive' | 'Error';

export interface ConditionOutcome {
  phase: ConditionPhase;
  /** Why, in words, when it is not Successful. */
  message?: string;
}

function typeName(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (Array.isArray(v)) return 'a list';
  return typeof v === 'object' ? 'an object' : `a ${typeof v}`;
}

function toNumber(v: unknown, fn: string, parse: (s: string) => number): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string') {
    const n = parse(v.trim());
    if (!Number.isNaN(n) || /^nan$/i.test(v.trim())) return n;
    throw new ExpressionError(`${fn}("${v}"): not a number`);
  }
  throw new ExpressionError(`${fn}() needs a number or a numeric string, got ${typeName(v)}`);
}

function parseFloatStrict(s: string): number {
  if (/^[+-]?inf(inity)?$/i.test(s)) return s.startsWith('-') ? -Infinity : Infinity;
  if (/^nan$/i.test(s)) return NaN;
  return /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(s) ? Number(s) : NaN;
}

/** The functions a condition may call: Rollouts' set, plus `len`. */
export const conditionFunctions: Record<string, ExprFunction> = {
  len: v => {
    if (typeof v === 'string' || Array.isArray(v)) return v.length;
    if (v && typeof v === 'object') return Object.keys(v).length;
    throw new ExpressionError(`len() needs a list, a string or an object, got ${typeName(v)}`);
  },
  asInt: v => {
    if (typeof v === 'string' && !/^\s*[+-]?\d+\s*$/.test(v)) throw new ExpressionError(`asInt("${v}"): not a whole number`);
    return Math.trunc(toNumber(v, 'asInt', s => Number(s)));
  },
  asFloat: v => toNumber(v, 'asFloat', parseFloatStrict),
  isNaN: v => {
    if (typeof v !== 'number') throw new ExpressionError(`isNaN() needs a number, got ${typeName(v)}`);
    return Number.isNaN(v);
  },
  isInf: v => {
    if (typeof v !== 'number') throw new ExpressionError(`isInf() needs a number, got ${typeName(v)}`);
    return v === Infinity || v === -Infinity;
  },
  isNil: v => v === null || v === undefined,
  default: (v, fallback) => (v === null || v === undefined ? fallback : v),
};

/**
 * A measured value as text, as measurements keep it: JSON, except that numbers JSON cannot
 * hold are written as Prometheus writes them (`NaN`, `+Inf`, `-Inf`).
 */
export function valueText(value: unknown): string {
  if (typeof value === 'number') {
    if (Number.isNaN(value)) return 'NaN';
    if (value === Infinity) return '+Inf';
    if (value === -Infinity) return '-Inf';
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map(valueText).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${JSON.stringify(k)}:${valueText(v)}`)
      .join(',')}}`;
  }
  return value === undefined ? 'null' : JSON.stringify(value);
}

function isEmpty(result: unknown): boolean {
  return result === null || result === undefined || (Array.isArray(result) && result.length === 0);
}

function stripPrefix(text: string, prefix: string): string {
  return text.startsWith(prefix) ? text.slice(prefix.length) : text;
}

function judge(kind: 'successCondition' | 'failureCondition', condition: string, result: unknown): boolean | string {
  let value: unknown;
  try {
    value = evaluate(condition, { values: { result }, functions: conditionFunctions });
  } catch (e) {
    const why = isEmpty(result)
      ? 'the result is empty: the metric provider returned no data'
      : stripPrefix((e as Error).message, `in "${condition.trim()}": `);
    return `could not evaluate ${kind} ${condition}: ${why}`;
  }
  if (typeof value !== 'boolean') {
    return `${kind} ${condition} gave ${typeName(value)} (${valueText(value)}), not true or false`;
  }
  return value;
}

/** Judges one measured result against a metric's conditions. */
export function evaluateConditions(
  metric: Pick<Metric, 'successCondition' | 'failureCondition'>,
  result: unknown,
): ConditionOutcome {
  const success = metric.successCondition?.trim() || undefined;
  const failure = metric.failureCondition?.trim() || undefined;
  const shown = valueText(result);
  const s = success === undefined ? undefined : judge('successCondition', success, result);
  if (typeof s === 'string') return { phase: 'Error', message: s };
  const f = failure === undefined ? undefined : judge('failureCondition', failure, result);
  if (typeof f === 'string') return { phase: 'Error', message: f };

  if (f === true) return { phase: 'Failed', message: `result ${shown} met the failure condition ${failure}` };
  if (s === false && f === undefined) return { phase: 'Failed', message: `result ${shown} did not satisfy ${success}` };
  if (s === false) {
    return {
      phase: 'Inconclusive',
      message: `result ${shown} neither satisfied ${success} nor met the failure condition ${failure}`,
    };
  }
  return { phase: 'Successful' };
}

/**
 * What makes a condition fail whatever its result (it does not parse or uses something the
 * evaluator lacks), or undefined. `{{args.x}}` placeholders are read as a value.
 */
export function conditionProblem(condition: string): string | undefined {
  return syntaxProblem(condition.replace(/\{\{[^{}]*\}\}/g, '0'));
}

/**
 * A finished measurement of `result`: its value as text and its phase from the conditions.
 * For providers that measure a value (web, prometheus).
 */
export function judgedMeasurement(
  metric: Pick<Metric, 'successCondition' | 'failureCondition'>,
  result: unknown,
  startedAt: Date,
  finishedAt: Date,
  metadata?: Record<string, string>,
): Measurement {
  const outcome = evaluateConditions(metric, result);
  return {
    phase: outcome.phase,
    value: valueText(result),
    ...(outcome.message ? { message: outcome.message } : {}),
    startedAt: startedAt.toISOString(),
    finishedAt: finishedAt.toISOString(),
    ...(metadata && Object.keys(metadata).length ? { metadata } : {}),
  };
}

/** A measurement that produced no value: an Error, with why. */
export function errorMeasurement(
  message: string,
  startedAt: Date,
  finishedAt: Date,
  metadata?: Record<string, string>,
): Measurement {
  return {
    phase: 'Error',
    message,
    startedAt: startedAt.toISOString(),
    finishedAt: finishedAt.toISOString(),
    ...(metadata && Object.keys(metadata).length ? { metadata } : {}),
  };
}
