import { hasArtifactField, isArtifactRecord, readArtifactField } from './artifactRecords';
import { Builtin, builtins, order, Predicate, regex } from './builtins';
import { ExpressionError } from './errors';
import { Budget } from './limits';
import { Node, parse } from './parser';
import { deepEqual, ExprDuration, ExprTime, methodsOf, plain, stringify, typeName } from './values';

/**
 * `${{ }}` expressions (step configuration, freight creation criteria, verification
 * arguments and conditions) in expr-lang's language, as Kargo evaluates them: parsed by
 * parser.ts and evaluated over the syntax tree by the small interpreter below: no `eval`,
 * `Function` or `vm`. Only the names and functions in the environment and expr-lang's
 * built-ins (builtins.ts) exist; properties are read from plain data only (never
 * prototypes); nothing can be assigned; and each evaluation's work and what it builds are
 * bounded (limits.ts).
 */

export { ExpressionError } from './errors';

export type ExprFunction = (...args: unknown[]) => unknown;

export interface ExpressionEnv {
  /** Names visible to expressions, e.g. `ctx`, `vars`, `outputs`. */
  values: Record<string, unknown>;
  /** Functions callable by name, e.g. `commitFrom`, `quote`; they hide built-ins of the same name. */
  functions: Record<string, ExprFunction>;
}

const FORBIDDEN_KEYS = new Set(['__proto__', 'prototype', 'constructor']);
const EXPRESSION = /\$\{\{([\s\S]*?)\}\}/g;
const WHOLE_EXPRESSION = /^\s*\$\{\{([\s\S]*?)\}\}\s*$/;

/** The names of expr-lang's built-in functions, which every expression can call. */
export const BUILTIN_FUNCTIONS: readonly string[] = Object.keys(builtins).sort();

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

/** The expressions inside a string: the text between each `${{` and `}}`. */
export function expressionsIn(text: string): string[] {
  const whole = WHOLE_EXPRESSION.exec(text);
  if (whole && !whole[1].includes('}}')) return [whole[1]];
  return [...text.matchAll(EXPRESSION)].map(m => m[1]);
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

const parsed = new Map<string, Node>();

/** The syntax tree of an expression, from a small cache: promotions evaluate the same ones often. */
function syntaxTree(text: string): Node {
  let ast = parsed.get(text);
  if (!ast) {
    try {
      ast = parse(text);
    } catch (e) {
      throw new ExpressionError(`cannot parse "${text}": ${(e as Error).message}`);
    }
    if (parsed.size >= 500) parsed.delete(parsed.keys().next().value as string);
    parsed.set(text, ast);
  }
  return ast;
}

/** Evaluates one expression (the text between `${{` and `}}`). */
export function evaluate(expression: string, env: ExpressionEnv): unknown {
  const text = expression.trim();
  const ast = syntaxTree(text);
  try {
    return plain(evalNode(ast, { env, budget: new Budget(), locals: undefined, pointers: [] }));
  } catch (e) {
    if (e instanceof RangeError) throw new ExpressionError(`in "${text}": the expression nests too deeply`);
    throw new ExpressionError(`in "${text}": ${(e as Error).message}`);
  }
}

/**
 * What makes an expression fail whatever names and values it is given (it does not parse,
 * is not one expression, or, when `knownFunctions` is given, calls a function that is
 * neither one of them nor a built-in), or undefined. For checking manifests when they are
 * applied, before anything is evaluated.
 */
export function syntaxProblem(expression: string, knownFunctions?: ReadonlySet<string>): string | undefined {
  const text = expression.trim();
  let ast: Node;
  try {
    ast = parse(text);
  } catch (e) {
    const message = (e as Error).message;
    return text ? `cannot parse "${text}": ${message}` : message;
  }
  if (knownFunctions) {
    const unknown = calledFunctions(ast).find(f => !knownFunctions.has(f) && !(f in builtins));
    if (unknown) {
      return `in "${text}": unknown function "${unknown}" (known: ${[...knownFunctions].sort().join(', ')}, and the built-ins ${BUILTIN_FUNCTIONS.join(', ')})`;
    }
  }
  return undefined;
}

/** Every function an expression calls, by name. */
function calledFunctions(node: Node): string[] {
  const out: string[] = [];
  const walk = (n: Node | undefined): void => {
    if (!n) return;
    for (const [key, v] of Object.entries(n)) {
      if (key === 'type') continue;
      if (Array.isArray(v)) v.forEach(x => (x && typeof x === 'object' && 'key' in x ? (walk(x.key), walk(x.value)) : walk(x)));
      else if (v && typeof v === 'object' && 'type' in v) walk(v as Node);
    }
    if (n.type === 'Call') out.push(n.callee);
  };
  walk(node);
  return out;
}

interface Scope {
  env: ExpressionEnv;
  budget: Budget;
  /** `let` names, innermost first. */
  locals: { name: string; value: unknown; outer: Scope['locals'] } | undefined;
  /** The elements of the predicates being evaluated, innermost last. */
  pointers: { element: unknown; index: number; acc?: unknown }[];
}

function readProperty(target: unknown, key: unknown, text: string, optional: boolean): unknown {
  if (target === null || target === undefined) {
    if (optional) return null;
    throw new ExpressionError(`cannot read "${String(key)}" of ${target === null ? 'nil' : 'undefined'} (${text})`);
  }
  if (typeof key !== 'string' && typeof key !== 'number') {
    throw new ExpressionError(`a property name must be a string or a number, got ${typeName(key)}`);
  }
  const k = String(key);
  if (FORBIDDEN_KEYS.has(k)) throw new ExpressionError(`"${k}" is not accessible`);
  if (Array.isArray(target)) {
    if (k === 'length') return target.length;
    const i = Number(k);
    return Number.isInteger(i) ? target[i < 0 ? target.length + i : i] : undefined;
  }
  if (typeof target === 'string') {
    if (k === 'length') return target.length;
    const i = Number(k);
    if (Number.isInteger(i)) return [...target][i < 0 ? [...target].length + i : i];
  }
  if (typeof target !== 'object' || target instanceof ExprTime || target instanceof ExprDuration) {
    throw new ExpressionError(`cannot read "${k}" of a ${typeName(target)}`);
  }
  if (isArtifactRecord(target)) return readArtifactField(target, k);
  return Object.prototype.hasOwnProperty.call(target, k) ? (target as Record<string, unknown>)[k] : undefined;
}

function lookup(name: string, scope: Scope): unknown {
  for (let l = scope.locals; l; l = l.outer) if (l.name === name) return l.value;
  if (!Object.prototype.hasOwnProperty.call(scope.env.values, name)) {
    throw new ExpressionError(`unknown name "${name}" (known: ${Object.keys(scope.env.values).sort().join(', ')})`);
  }
  return scope.env.values[name];
}

function callFunction(node: Extract<Node, { type: 'Call' }>, scope: Scope): unknown {
  const name = node.callee;
  const fn = Object.prototype.hasOwnProperty.call(scope.env.functions, name) ? scope.env.functions[name] : undefined;
  const builtin: Builtin | undefined = Object.prototype.hasOwnProperty.call(builtins, name) ? builtins[name] : undefined;
  if (!fn && !builtin) {
    const own = Object.keys(scope.env.functions).sort();
    throw new ExpressionError(
      `unknown function "${name}" (known: ${own.length ? `${own.join(', ')}; ` : ''}built-in: ${BUILTIN_FUNCTIONS.join(', ')})`,
    );
  }
  const args = node.args.map(a => {
    if (a.type !== 'Closure') return evalNode(a, scope);
    const body = a.body;
    return new Predicate((element, index, acc) => {
      scope.pointers.push({ element, index, acc });
      try {
        return evalNode(body, scope);
      } finally {
        scope.pointers.pop();
      }
    });
  });
  if (fn) {
    if (args.some(a => a instanceof Predicate)) {
      throw new ExpressionError(`${name}() takes no predicate`);
    }
    return fn(...args.map(plain));
  }
  return builtin!(args, { budget: scope.budget });
}

function evalNode(node: Node, scope: Scope): unknown {
  scope.budget.step();
  switch (node.type) {
    case 'Literal':
      return node.value;
    case 'Identifier':
      return lookup(node.name, scope);
    case 'Pointer': {
      const p = scope.pointers[scope.pointers.length - 1];
      if (!p) throw new ExpressionError(`#${node.name} can only be used inside a predicate`);
      if (node.name === '') return p.element;
      if (node.name === 'index') return p.index;
      if (node.name === 'acc') return p.acc;
      throw new ExpressionError(`#${node.name} does not exist (there are #, #index and, in reduce, #acc)`);
    }
    case 'Member': {
      const target = evalNode(node.object, scope);
      if (target === null || target === undefined) {
        if (node.optional) return null;
      }
      const key = evalNode(node.property, scope);
      return readProperty(target, key, node.text, node.optional);
    }
    case 'Slice': {
      const target = evalNode(node.object, scope);
      const from = node.from ? evalNode(node.from, scope) : undefined;
      const to = node.to ? evalNode(node.to, scope) : undefined;
      for (const v of [from, to]) {
        if (v !== undefined && (typeof v !== 'number' || !Number.isInteger(v))) {
          throw new ExpressionError(`a slice's bounds must be whole numbers, got ${typeName(v)}`);
        }
      }
      if (Array.isArray(target)) return target.slice(from as number | undefined, to as number | undefined);
      if (typeof target === 'string') return [...target].slice(from as number | undefined, to as number | undefined).join('');
      throw new ExpressionError(`only lists and strings can be sliced, got ${typeName(target)}`);
    }
    case 'Call':
      return callFunction(node, scope);
    case 'MethodCall': {
      const target = evalNode(node.object, scope);
      const methods = methodsOf(target);
      if (!methods || !Object.prototype.hasOwnProperty.call(methods, node.method)) {
        throw new ExpressionError(
          `${node.text}: ${methods ? `it has no method ${node.method} (its methods: ${Object.keys(methods).join(', ')})` : `a ${typeName(target)} has no methods (only the version semverParse() returns has)`}`,
        );
      }
      return methods[node.method](...node.args.map(a => plain(evalNode(a, scope))));
    }
    case 'Closure':
      throw new ExpressionError('a predicate ({ ... }) can only be an argument of filter, map, all and the like');
    case 'Let': {
      const value = evalNode(node.value, scope);
      const inner: Scope = { ...scope, locals: { name: node.name, value, outer: scope.locals } };
      return evalNode(node.body, inner);
    }
    case 'Unary': {
      const v = evalNode(node.argument, scope);
      switch (node.operator) {
        case '!':
        case 'not':
          return !v;
        case '-':
          if (v instanceof ExprDuration) return new ExprDuration(-v.ms);
          return -expectNumber(v, '-');
        default:
          return expectNumber(v, '+');
      }
    }
    case 'Binary':
      return binary(node, scope);
    case 'Conditional':
      return evalNode(node.test, scope) ? evalNode(node.consequent, scope) : evalNode(node.alternate, scope);
    case 'Array': {
      scope.budget.items(node.elements.length, 'a list');
      return node.elements.map(e => evalNode(e, scope));
    }
    case 'Map': {
      const out: Record<string, unknown> = {};
      for (const e of node.entries) {
        const key = evalNode(e.key, scope);
        if (typeof key !== 'string' && typeof key !== 'number') {
          throw new ExpressionError(`a map's key must be a string or a number, got ${typeName(key)}`);
        }
        if (FORBIDDEN_KEYS.has(String(key))) throw new ExpressionError(`"${String(key)}" cannot be a key`);
        out[String(key)] = evalNode(e.value, scope);
      }
      return out;
    }
    default:
      throw new ExpressionError(`${(node as Node).type} is not supported in expressions`);
  }
}

function binary(node: Extract<Node, { type: 'Binary' }>, scope: Scope): unknown {
  const op = node.operator;
  if (op === '&&' || op === 'and') return evalNode(node.left, scope) && evalNode(node.right, scope);
  if (op === '||' || op === 'or') return evalNode(node.left, scope) || evalNode(node.right, scope);
  if (op === '??') return evalNode(node.left, scope) ?? evalNode(node.right, scope);
  if (op === '?:') {
    const l = evalNode(node.left, scope);
    return l === null || l === undefined || l === false ? evalNode(node.right, scope) : l;
  }
  const l = evalNode(node.left, scope);
  const r = evalNode(node.right, scope);
  switch (op) {
    case '==':
      return deepEqual(l, r);
    case '!=':
      return !deepEqual(l, r);
    case '+':
      return plus(l, r, scope.budget);
    case '-':
      if (l instanceof ExprTime && r instanceof ExprTime) return new ExprDuration(l.ms - r.ms);
      if (l instanceof ExprTime && r instanceof ExprDuration) return new ExprTime(l.ms - r.ms);
      if (l instanceof ExprDuration && r instanceof ExprDuration) return new ExprDuration(l.ms - r.ms);
      return expectNumber(l, '-') - expectNumber(r, '-');
    case '*':
      if (l instanceof ExprDuration && typeof r === 'number') return new ExprDuration(l.ms * r);
      return expectNumber(l, '*') * expectNumber(r, '*');
    case '/':
      return expectNumber(l, '/') / expectNumber(r, '/');
    case '%':
      return expectNumber(l, '%') % expectNumber(r, '%');
    case '**':
    case '^':
      return expectNumber(l, op) ** expectNumber(r, op);
    case '<':
    case '>':
    case '<=':
    case '>=':
      return compare(l, r, op);
    case '..': {
      const from = expectInteger(l, '..');
      const to = expectInteger(r, '..');
      const n = Math.max(0, to - from + 1);
      scope.budget.items(n, `the range ${from}..${to}`);
      return Array.from({ length: n }, (_, i) => from + i);
    }
    case 'in':
      return isIn(l, r);
    case 'matches':
      return regex(r).test(expectString(l, 'matches'));
    case 'contains':
      return expectString(l, 'contains').includes(expectString(r, 'contains'));
    case 'startsWith':
      return expectString(l, 'startsWith').startsWith(expectString(r, 'startsWith'));
    case 'endsWith':
      return expectString(l, 'endsWith').endsWith(expectString(r, 'endsWith'));
    default:
      throw new ExpressionError(`operator "${op}" is not supported`);
  }
}

function plus(l: unknown, r: unknown, budget: Budget): unknown {
  if (typeof l === 'string' || typeof r === 'string') {
    const a = stringify(l);
    const b = stringify(r);
    budget.string(a.length + b.length, '"+"');
    return a + b;
  }
  if (Array.isArray(l) && Array.isArray(r)) {
    budget.items(l.length + r.length, '"+"');
    return [...l, ...r];
  }
  if (l instanceof ExprTime && r instanceof ExprDuration) return new ExprTime(l.ms + r.ms);
  if (l instanceof ExprDuration && r instanceof ExprTime) return new ExprTime(l.ms + r.ms);
  if (l instanceof ExprDuration && r instanceof ExprDuration) return new ExprDuration(l.ms + r.ms);
  return expectNumber(l, '+') + expectNumber(r, '+');
}

function isIn(l: unknown, r: unknown): boolean {
  if (Array.isArray(r)) return r.some(v => deepEqual(v, l));
  if (r === null || r === undefined) return false;
  if (typeof r === 'object' && !(r instanceof ExprTime) && !(r instanceof ExprDuration)) {
    if (typeof l !== 'string' && typeof l !== 'number') return false;
    if (isArtifactRecord(r)) return hasArtifactField(r, String(l));
    return Object.prototype.hasOwnProperty.call(r, String(l));
  }
  throw new ExpressionError(`"in" looks in a list or a map, got ${typeName(r)}`);
}

function expectNumber(v: unknown, op: string): number {
  if (typeof v !== 'number') throw new ExpressionError(`"${op}" needs numbers, got ${v === null ? 'null' : typeName(v)}`);
  return v;
}

function expectInteger(v: unknown, op: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v)) {
    throw new ExpressionError(`"${op}" needs whole numbers, got ${typeName(v)}`);
  }
  return v;
}

function expectString(v: unknown, op: string): string {
  if (typeof v !== 'string') throw new ExpressionError(`"${op}" needs strings, got ${typeName(v)}`);
  return v;
}

function compare(l: unknown, r: unknown, op: string): boolean {
  const sameKind =
    (typeof l === 'number' && typeof r === 'number') ||
    (typeof l === 'string' && typeof r === 'string') ||
    (l instanceof ExprTime && r instanceof ExprTime) ||
    (l instanceof ExprDuration && r instanceof ExprDuration);
  if (!sameKind) {
    throw new ExpressionError(`"${op}" compares two numbers or two strings, got ${typeName(l)} and ${typeName(r)}`);
  }
  const c = order(op, l, r);
  if (op === '<') return c < 0;
  if (op === '>') return c > 0;
  if (op === '<=') return c <= 0;
  return c >= 0;
}
