import { expressionsIn, syntaxProblem, unwrapExpression } from './expressions';

/**
 * The `${{ }}` expressions of manifests, checked when they are applied: an expression that
 * cannot parse is a problem at the path of its field, before any promotion runs it.
 */

export interface ExpressionProblem {
  /** From the value given: `['config', 'images', 0, 'tag']`. */
  path: (string | number)[];
  message: string;
}

/** Problems of every expression in the strings of a value (config, vars, args); keys are never expressions. */
export function templateProblems(value: unknown, path: (string | number)[] = []): ExpressionProblem[] {
  if (typeof value === 'string') {
    if (!value.includes('${{')) return [];
    return expressionsIn(value)
      .map(expression => syntaxProblem(expression))
      .filter((message): message is string => message !== undefined)
      .map(message => ({ path, message }));
  }
  if (Array.isArray(value)) return value.flatMap((v, i) => templateProblems(v, [...path, i]));
  if (value && typeof value === 'object') {
    return Object.entries(value).flatMap(([k, v]) => templateProblems(v, [...path, k]));
  }
  return [];
}

/** The problem of a field that is one expression, bare or in `${{ }}` (a step's `if`). */
export function conditionProblems(text: unknown, path: (string | number)[]): ExpressionProblem[] {
  if (typeof text !== 'string' || !text.trim()) return [];
  const message = syntaxProblem(unwrapExpression(text));
  return message ? [{ path, message }] : [];
}

/** A step's expressions: its config, its vars and its `if`. */
export function stepExpressionProblems(step: { config?: unknown; vars?: unknown; if?: unknown }): ExpressionProblem[] {
  return [
    ...conditionProblems(step.if, ['if']),
    ...templateProblems(step.vars ?? [], ['vars']),
    ...templateProblems(step.config ?? {}, ['config']),
  ];
}
