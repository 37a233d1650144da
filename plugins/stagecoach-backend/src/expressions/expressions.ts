import jsep from 'jsep';

/**
 * `${{ ... }}` expressions (step configuration, freight creation criteria, verification
 * arguments and conditions), evaluated over a parsed syntax tree by a small interpreter: no `eval`, `Function` or `vm`. Only the names and functions in the
 * environment exist; properties are read from plain data only (never prototypes), and
 * nothing can be assigned.
 */

jsep.addBinaryOp('and', 2);
jsep.addBinaryOp('or', 1);
jsep.addUnaryOp('not');

export class ExpressionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ExpressionError';
  }
}

export type ExprFunction = (...args: unknown[]) => unknown;

export interface ExpressionEnv {
  /** Names visible to expressions, e.g. `ctx`, `vars`, `outputs`. */
  values: Record<string, unknown>;
  /** Functions callable by name, e.g. `commitFrom`, `quote`. */
  functions: Record<string, ExprFunction>;
}

const FORBIDDEN_KEYS = new Set(['__proto__', 'prototype', 'constructor']);
const EXPRESSION = /\$\{\{([\s\S]*?)\}\}/g;
const WHOLE_EXPRESSION = /^\s*\$\{\{([\s\S]*?)\}\}\s*$/;

/** True when the string holds at least one `${{ }}` expression. */
export function hasExpression(value: unknown): boolean {
  return typeof value === 'string' && value.includes('${{');
}

/**
 * The expression in a field that holds exactly one (Kargo writes some bare, such as
 * `freightCreationCriteria.expression`): the text inside `${{ }}` if it is wrapped, else all of it.
 */
export function unwrapExpression(text: string): string {
  const whole = WHOLE_EXPRESSION.exec(text);
  return whole && !whole[1].includes('}}') ? whole[1] : text;
}

/**
 * Evaluates every expression inside a configuration value. A string that is exactly one
 * expression takes the expression's type (number, object, ...); expressions embedded in
 * longer text are converted to text. Keys are never evaluated.
 */
export function evaluateTemplate(value: unknown, env: ExpressionEnv): unknown {
  if (typeof value === 'string') {
    const whole = WHOLE_EXPRESSION.exec(value);
    if (whole && !whole[1].includes('}}')) return evaluate(whole[1], env);
    if (!value.includes('${{')) return value;
    return value.replace(EXPRESSION, (_, expr: string) => stringify(evaluate(expr, env)));
  }
  if (Array.isArray(value)) return value.map(v => evaluateTemplate(v, env));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, evaluateTemplate(v, env)]));
  }
  return value;
}

function stringify(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

/** Evaluates one expression (the text between `${{` and `}}`). */
export function evaluate(expression: string, env: ExpressionEnv): unknown {
  let ast: jsep.Expression;
  try {
    ast = jsep(expression.trim());
  } catch (e) {
    throw new ExpressionError(`cannot parse "${expression.trim()}": ${(e as Error).message}`);
  }
  try {
    return evalNode(ast, env);
  } catch (e) {
    if (e instanceof ExpressionError) {
      throw new ExpressionError(`in "${expression.trim()}": ${e.message}`);
    }
    throw new ExpressionError(`in "${expression.trim()}": ${(e as Error).message}`);
  }
}

const SUPPORTED_NODES = new Set([
  'Literal',
  'Identifier',
  'MemberExpression',
  'CallExpression',
  'UnaryExpression',
  'BinaryExpression',
  'ConditionalExpression',
  'ArrayExpression',
]);
const UNARY_OPERATORS = new Set(['!', 'not', '-', '+']);
const BINARY_OPERATORS = new Set(
  ['&&', 'and', '||', 'or', '??', '==', '===', '!=', '!==', '+', '-', '*', '/', '%', '<', '>', '<=', '>='],
);

/**
 * What makes an expression fail whatever names and values it is given (it does not parse,
 * is not one expression, or uses something the evaluator does not support), or undefined.
 * For checking manifests when they are applied, before anything is evaluated.
 */
export function syntaxProblem(expression: string): string | undefined {
  const text = expression.trim();
  let ast: jsep.Expression;
  try {
    ast = jsep(text);
  } catch (e) {
    return `cannot parse "${text}": ${(e as Error).message}`;
  }
  const check = (node: jsep.Expression | null | undefined): string | undefined => {
    if (!node) return undefined;
    if (node.type === 'Compound') {
      return (node as jsep.Compound).body.length === 0 ? 'must not be empty' : 'must be a single expression';
    }
    if (!SUPPORTED_NODES.has(node.type)) return `${node.type} is not supported in expressions`;
    switch (node.type) {
      case 'MemberExpression': {
        const m = node as jsep.MemberExpression;
        return check(m.object) ?? (m.computed ? check(m.property) : undefined);
      }
      case 'CallExpression': {
        const c = node as jsep.CallExpression;
        if (c.callee.type !== 'Identifier') return 'only named functions can be called';
        return c.arguments.map(check).find(Boolean);
      }
      case 'UnaryExpression': {
        const u = node as jsep.UnaryExpression;
        return UNARY_OPERATORS.has(u.operator) ? check(u.argument) : `operator "${u.operator}" is not supported`;
      }
      case 'BinaryExpression': {
        const b = node as jsep.BinaryExpression;
        if (!BINARY_OPERATORS.has(b.operator)) return `operator "${b.operator}" is not supported`;
        return check(b.left) ?? check(b.right);
      }
      case 'ConditionalExpression': {
        const c = node as jsep.ConditionalExpression;
        return check(c.test) ?? check(c.consequent) ?? check(c.alternate);
      }
      case 'ArrayExpression':
        return (node as jsep.ArrayExpression).elements.map(check).find(Boolean);
      default:
        return undefined;
    }
  };
  const problem = check(ast);
  if (!problem) return undefined;
  return text ? `in "${text}": ${problem}` : problem;
}

function readProperty(target: unknown, key: unknown, text: string): unknown {
  if (target === null || target === undefined) {
    throw new ExpressionError(`cannot read "${String(key)}" of ${target === null ? 'null' : 'undefined'} (${text})`);
  }
  if (typeof key !== 'string' && typeof key !== 'number') {
    throw new ExpressionError(`a property name must be a string or a number, got ${typeof key}`);
  }
  const k = String(key);
  if (FORBIDDEN_KEYS.has(k)) throw new ExpressionError(`"${k}" is not accessible`);
  if (Array.isArray(target)) {
    if (k === 'length') return target.length;
    const i = Number(k);
    return Number.isInteger(i) ? target[i < 0 ? target.length + i : i] : undefined;
  }
  if (typeof target === 'string' && k === 'length') return target.length;
  if (typeof target !== 'object') {
    throw new ExpressionError(`cannot read "${k}" of a ${typeof target}`);
  }
  return Object.prototype.hasOwnProperty.call(target, k) ? (target as Record<string, unknown>)[k] : undefined;
}

function describe(node: jsep.Expression): string {
  switch (node.type) {
    case 'Identifier':
      return String(node.name);
    case 'MemberExpression': {
      const m = node as jsep.MemberExpression;
      return m.computed ? `${describe(m.object)}[...]` : `${describe(m.object)}.${describe(m.property)}`;
    }
    default:
      return node.type;
  }
}

function evalNode(node: jsep.Expression, env: ExpressionEnv): unknown {
  switch (node.type) {
    case 'Literal':
      return (node as jsep.Literal).value;
    case 'Identifier': {
      const name = String((node as jsep.Identifier).name);
      if (name === 'true') return true;
      if (name === 'false') return false;
      if (name === 'nil' || name === 'null') return null;
      if (!Object.prototype.hasOwnProperty.call(env.values, name)) {
        throw new ExpressionError(
          `unknown name "${name}" (known: ${Object.keys(env.values).sort().join(', ')})`,
        );
      }
      return env.values[name];
    }
    case 'MemberExpression': {
      const m = node as jsep.MemberExpression;
      const target = evalNode(m.object, env);
      const key = m.computed ? evalNode(m.property, env) : (m.property as jsep.Identifier).name;
      return readProperty(target, key, describe(m));
    }
    case 'CallExpression': {
      const c = node as jsep.CallExpression;
      if (c.callee.type !== 'Identifier') throw new ExpressionError('only named functions can be called');
      const name = String((c.callee as jsep.Identifier).name);
      const fn = Object.prototype.hasOwnProperty.call(env.functions, name) ? env.functions[name] : undefined;
      if (!fn) {
        throw new ExpressionError(
          `unknown function "${name}" (known: ${Object.keys(env.functions).sort().join(', ')})`,
        );
      }
      return fn(...c.arguments.map(a => evalNode(a, env)));
    }
    case 'UnaryExpression': {
      const u = node as jsep.UnaryExpression;
      const v = evalNode(u.argument, env);
      switch (u.operator) {
        case '!':
        case 'not':
          return !v;
        case '-':
          return -expectNumber(v, '-');
        case '+':
          return expectNumber(v, '+');
        default:
          throw new ExpressionError(`operator "${u.operator}" is not supported`);
      }
    }
    case 'BinaryExpression': {
      const b = node as jsep.BinaryExpression;
      if (b.operator === '&&' || b.operator === 'and') return evalNode(b.left, env) && evalNode(b.right, env);
      if (b.operator === '||' || b.operator === 'or') return evalNode(b.left, env) || evalNode(b.right, env);
      if (b.operator === '??') return evalNode(b.left, env) ?? evalNode(b.right, env);
      const l = evalNode(b.left, env);
      const r = evalNode(b.right, env);
      switch (b.operator) {
        case '==':
        case '===':
          return deepEqual(l, r);
        case '!=':
        case '!==':
          return !deepEqual(l, r);
        case '+':
          if (typeof l === 'string' || typeof r === 'string') return stringify(l) + stringify(r);
          return expectNumber(l, '+') + expectNumber(r, '+');
        case '-':
          return expectNumber(l, '-') - expectNumber(r, '-');
        case '*':
          return expectNumber(l, '*') * expectNumber(r, '*');
        case '/':
          return expectNumber(l, '/') / expectNumber(r, '/');
        case '%':
          return expectNumber(l, '%') % expectNumber(r, '%');
        case '<':
        case '>':
        case '<=':
        case '>=':
          return compare(l, r, b.operator);
        default:
          throw new ExpressionError(`operator "${b.operator}" is not supported`);
      }
    }
    case 'ConditionalExpression': {
      const c = node as jsep.ConditionalExpression;
      return evalNode(c.test, env) ? evalNode(c.consequent, env) : evalNode(c.alternate, env);
    }
    case 'ArrayExpression':
      return (node as jsep.ArrayExpression).elements.map(e => (e ? evalNode(e, env) : null));
    case 'Compound':
      throw new ExpressionError('an expression must be a single expression');
    default:
      throw new ExpressionError(`${node.type} is not supported in expressions`);
  }
}

function expectNumber(v: unknown, op: string): number {
  if (typeof v !== 'number') throw new ExpressionError(`"${op}" needs numbers, got ${v === null ? 'null' : typeof v}`);
  return v;
}

function compare(l: unknown, r: unknown, op: string): boolean {
  if (!((typeof l === 'number' && typeof r === 'number') || (typeof l === 'string' && typeof r === 'string'))) {
    throw new ExpressionError(`"${op}" compares two numbers or two strings, got ${typeof l} and ${typeof r}`);
  }
  const a = l as number | string;
  const b = r as number | string;
  if (op === '<') return a < b;
  if (op === '>') return a > b;
  if (op === '<=') return a <= b;
  return a >= b;
}

function deepEqual(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
