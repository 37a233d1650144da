import { compileRegex, SafeRegex } from '../util/safeRegex';
import { ExpressionError } from './errors';
import { Budget } from './limits';
import { deepEqual, ExprDuration, ExprTime, stringify, typeName } from './values';

/**
 * expr-lang's built-in functions (https://expr-lang.org/docs/language-definition), as Kargo
 * users call them: every expression has them, beside the functions its context adds
 * (`commitFrom`, `quote`, ...), which take precedence. What they build is bounded (Budget).
 */

/** A predicate argument (`filter(xs, # > 1)`): called per element. */
export class Predicate {
  constructor(readonly call: (element: unknown, index: number, acc?: unknown) => unknown) {}
}

export interface BuiltinContext {
  budget: Budget;
}

export type Builtin = (args: unknown[], ctx: BuiltinContext) => unknown;

function fail(fn: string, message: string): never {
  throw new ExpressionError(`${fn}: ${message}`);
}

function arity(fn: string, args: unknown[], min: number, max = min): void {
  if (args.length < min || args.length > max) {
    let want = `${min} to ${max}`;
    if (min === max) want = `${min}`;
    else if (max === Infinity) want = `at least ${min}`;
    fail(fn, `takes ${want} argument${want === '1' ? '' : 's'}, got ${args.length}`);
  }
}

/** A built-in that takes exactly `count` arguments: the count is checked before `body` runs. */
function exactly(fn: string, count: number, body: Builtin): Builtin {
  return (args, ctx) => {
    arity(fn, args, count);
    return body(args, ctx);
  };
}

function str(fn: string, v: unknown, what = 'a string'): string {
  if (typeof v !== 'string') fail(fn, `needs ${what}, got ${typeName(v)}`);
  return v as string;
}

function num(fn: string, v: unknown): number {
  if (typeof v !== 'number') fail(fn, `needs a number, got ${typeName(v)}`);
  return v as number;
}

function int(fn: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v)) fail(fn, `needs a whole number, got ${typeName(v)} ${stringify(v)}`);
  return v as number;
}

function list(fn: string, v: unknown): unknown[] {
  if (v === null || v === undefined) return [];
  if (!Array.isArray(v)) fail(fn, `needs a list, got ${typeName(v)}`);
  return v as unknown[];
}

function map(fn: string, v: unknown): Record<string, unknown> {
  if (!v || typeof v !== 'object' || Array.isArray(v) || v instanceof ExprTime || v instanceof ExprDuration) {
    fail(fn, `needs a map, got ${typeName(v)}`);
  }
  return v as Record<string, unknown>;
}

function predicate(fn: string, v: unknown): Predicate {
  if (!(v instanceof Predicate)) fail(fn, 'needs a predicate as its second argument, such as # > 1 or .name == "x"');
  return v as Predicate;
}

function truth(fn: string, v: unknown): boolean {
  if (typeof v !== 'boolean') fail(fn, `the predicate must give true or false, got ${typeName(v)}`);
  return v as boolean;
}

function sized<T>(ctx: BuiltinContext, fn: string, items: T[]): T[] {
  ctx.budget.items(items.length, `${fn}(...)`);
  return items;
}

function text(ctx: BuiltinContext, fn: string, s: string): string {
  ctx.budget.string(s.length, `${fn}(...)`);
  return s;
}

/** Ordering for sort, min and max: numbers with numbers, strings with strings, times with times. */
export function order(fn: string, a: unknown, b: unknown): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'string' && typeof b === 'string') {
    if (a === b) return 0;
    return a < b ? -1 : 1;
  }
  if (a instanceof ExprTime && b instanceof ExprTime) return a.ms - b.ms;
  if (a instanceof ExprDuration && b instanceof ExprDuration) return a.ms - b.ms;
  return fail(fn, `cannot compare ${typeName(a)} and ${typeName(b)}`);
}

const DURATION_UNITS: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Go's duration text: `1h30m`, `-2.5s`, `300ms`. */
export function parseGoDuration(fn: string, v: unknown): ExprDuration {
  const s = str(fn, v, 'a duration such as "1h30m"');
  const m = /^([+-]?)((?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|ms|s|m|h))+$/.exec(s);
  if (!m && s !== '0') fail(fn, `"${s}" is not a duration such as "30s", "5m" or "1h30m"`);
  let total = 0;
  for (const part of s.matchAll(/(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/g)) {
    total += parseFloat(part[1]) * DURATION_UNITS[part[2]];
  }
  return new ExprDuration(m?.[1] === '-' ? -total : total);
}

function parseDate(fn: string, args: unknown[]): ExprTime {
  arity(fn, args, 1, 3);
  const s = str(fn, args[0]);
  // RFC 3339 and ISO 8601 dates; Go's layouts are not read
  const ok = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/.test(s.trim());
  const ms = ok ? Date.parse(s.trim()) : NaN;
  if (Number.isNaN(ms)) {
    fail(fn, `"${s}" is not a date as RFC 3339 writes it (2024-05-01 or 2024-05-01T12:00:00Z)${args.length > 1 ? '; Go layouts are not supported' : ''}`);
  }
  return new ExprTime(ms);
}

const regexCache = new Map<string, SafeRegex>();

/** A user's pattern on RE2 (linear time, whatever the pattern), at most MAX_PATTERN_LENGTH long. */
export function regex(pattern: unknown): SafeRegex {
  const p = str('matches', pattern, 'a pattern (a string)');
  let re = regexCache.get(p);
  if (!re) {
    try {
      re = compileRegex(p);
    } catch (e) {
      throw new ExpressionError((e as Error).message);
    }
    if (regexCache.size >= 200) regexCache.delete(regexCache.keys().next().value as string);
    regexCache.set(p, re);
  }
  return re;
}

function each(fn: string, args: unknown[], min = 2, max = 2): { items: unknown[]; p: Predicate } {
  arity(fn, args, min, max);
  return { items: list(fn, args[0]), p: predicate(fn, args[1]) };
}

function toInt(v: unknown): number {
  if (typeof v === 'number') return Math.trunc(v);
  if (typeof v === 'string' && /^\s*[+-]?\d+\s*$/.test(v)) return parseInt(v, 10);
  if (typeof v === 'boolean') return v ? 1 : 0;
  return fail('int', `cannot make a whole number of ${typeName(v)} ${JSON.stringify(stringify(v))}`);
}

function toFloat(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && v.trim() !== '' && !Number.isNaN(Number(v))) return Number(v);
  return fail('float', `cannot make a number of ${typeName(v)} ${JSON.stringify(stringify(v))}`);
}

function numbers(fn: string, args: unknown[]): number[] {
  const flat = args.length === 1 && Array.isArray(args[0]) ? (args[0] as unknown[]) : args;
  if (flat.length === 0) fail(fn, 'needs at least one number');
  return flat.map(v => num(fn, v));
}

function extreme(fn: string, args: unknown[], sign: 1 | -1): unknown {
  const flat = args.length === 1 && Array.isArray(args[0]) ? (args[0] as unknown[]) : args;
  if (flat.length === 0) fail(fn, 'needs at least one value');
  return flat.reduce((a, b) => (order(fn, b, a) * sign > 0 ? b : a));
}

function trimSet(s: string, cutset: string, left: boolean, right: boolean): string {
  const chars = new Set([...cutset]);
  const runes = [...s];
  let a = 0;
  let b = runes.length;
  while (left && a < b && chars.has(runes[a])) a++;
  while (right && b > a && chars.has(runes[b - 1])) b--;
  return runes.slice(a, b).join('');
}

export const builtins: Readonly<Record<string, Builtin>> = {
  // strings
  len: args => {
    arity('len', args, 1);
    const v = args[0];
    if (typeof v === 'string') return [...v].length;
    if (Array.isArray(v)) return v.length;
    if (v && typeof v === 'object') return Object.keys(v).length;
    return fail('len', `needs a string, a list or a map, got ${typeName(v)}`);
  },
  lower: exactly('lower', 1, args => str('lower', args[0]).toLowerCase()),
  upper: exactly('upper', 1, args => str('upper', args[0]).toUpperCase()),
  trim: args => {
    arity('trim', args, 1, 2);
    const s = str('trim', args[0]);
    return args.length === 2 ? trimSet(s, str('trim', args[1]), true, true) : s.trim();
  },
  trimPrefix: args => {
    arity('trimPrefix', args, 1, 2);
    const s = str('trimPrefix', args[0]);
    const p = args.length === 2 ? str('trimPrefix', args[1]) : ' ';
    return s.startsWith(p) ? s.slice(p.length) : s;
  },
  trimSuffix: args => {
    arity('trimSuffix', args, 1, 2);
    const s = str('trimSuffix', args[0]);
    const p = args.length === 2 ? str('trimSuffix', args[1]) : ' ';
    return p && s.endsWith(p) ? s.slice(0, s.length - p.length) : s;
  },
  split: (args, ctx) => {
    arity('split', args, 2, 3);
    const s = str('split', args[0]);
    const sep = str('split', args[1]);
    const n = args.length === 3 ? int('split', args[2]) : -1;
    if (n === 0) return [];
    const parts = sep === '' ? [...s] : s.split(sep);
    ctx.budget.items(parts.length, 'split(...)');
    if (n > 0 && parts.length > n) return [...parts.slice(0, n - 1), parts.slice(n - 1).join(sep)];
    return parts;
  },
  splitAfter: (args, ctx) => {
    arity('splitAfter', args, 2);
    const s = str('splitAfter', args[0]);
    const sep = str('splitAfter', args[1]);
    const parts = sep === '' ? [...s] : s.split(sep).map((p, i, all) => (i < all.length - 1 ? p + sep : p));
    return sized(ctx, 'splitAfter', parts);
  },
  replace: (args, ctx) => {
    arity('replace', args, 3);
    const s = str('replace', args[0]);
    const from = str('replace', args[1]);
    const to = str('replace', args[2]);
    if (from === '') return s;
    const count = s.split(from).length - 1;
    ctx.budget.string(s.length + count * (to.length - from.length), 'replace(...)');
    return s.split(from).join(to);
  },
  repeat: (args, ctx) => {
    arity('repeat', args, 2);
    const s = str('repeat', args[0]);
    const n = int('repeat', args[1]);
    if (n < 0) fail('repeat', 'the count must not be negative');
    ctx.budget.string(s.length * n, 'repeat(...)');
    return s.repeat(n);
  },
  indexOf: exactly('indexOf', 2, args => str('indexOf', args[0]).indexOf(str('indexOf', args[1]))),
  lastIndexOf: exactly('lastIndexOf', 2, args => str('lastIndexOf', args[0]).lastIndexOf(str('lastIndexOf', args[1]))),
  hasPrefix: exactly('hasPrefix', 2, args => str('hasPrefix', args[0]).startsWith(str('hasPrefix', args[1]))),
  hasSuffix: exactly('hasSuffix', 2, args => str('hasSuffix', args[0]).endsWith(str('hasSuffix', args[1]))),
  join: (args, ctx) => {
    arity('join', args, 1, 2);
    const items = list('join', args[0]).map(v => str('join', v, 'a list of strings'));
    const sep = args.length === 2 ? str('join', args[1]) : '';
    const length = items.reduce((n, s) => n + s.length, 0) + Math.max(0, items.length - 1) * sep.length;
    ctx.budget.string(length, 'join(...)');
    return items.join(sep);
  },

  // predicates
  all: args => {
    const { items, p } = each('all', args);
    return items.every((v, i) => truth('all', p.call(v, i)));
  },
  any: args => {
    const { items, p } = each('any', args);
    return items.some((v, i) => truth('any', p.call(v, i)));
  },
  none: args => {
    const { items, p } = each('none', args);
    return !items.some((v, i) => truth('none', p.call(v, i)));
  },
  one: args => {
    const { items, p } = each('one', args);
    return items.filter((v, i) => truth('one', p.call(v, i))).length === 1;
  },
  filter: args => {
    const { items, p } = each('filter', args);
    return items.filter((v, i) => truth('filter', p.call(v, i)));
  },
  map: (args, ctx) => {
    const { items, p } = each('map', args);
    return sized(ctx, 'map', items.map((v, i) => p.call(v, i)));
  },
  find: args => {
    const { items, p } = each('find', args);
    return items.find((v, i) => truth('find', p.call(v, i))) ?? null;
  },
  findIndex: args => {
    const { items, p } = each('findIndex', args);
    return items.findIndex((v, i) => truth('findIndex', p.call(v, i)));
  },
  findLast: args => {
    const { items, p } = each('findLast', args);
    for (let i = items.length - 1; i >= 0; i--) if (truth('findLast', p.call(items[i], i))) return items[i];
    return null;
  },
  findLastIndex: args => {
    const { items, p } = each('findLastIndex', args);
    for (let i = items.length - 1; i >= 0; i--) if (truth('findLastIndex', p.call(items[i], i))) return i;
    return -1;
  },
  count: args => {
    arity('count', args, 1, 2);
    const items = list('count', args[0]);
    if (args.length === 1) return items.filter(v => v === true).length;
    const p = predicate('count', args[1]);
    return items.filter((v, i) => truth('count', p.call(v, i))).length;
  },
  sum: args => {
    arity('sum', args, 1, 2);
    const items = list('sum', args[0]);
    const p = args.length === 2 ? predicate('sum', args[1]) : undefined;
    return items.reduce((n: number, v, i) => n + num('sum', p ? p.call(v, i) : v), 0);
  },
  groupBy: args => {
    const { items, p } = each('groupBy', args);
    const groups: Record<string, unknown[]> = {};
    items.forEach((v, i) => {
      const key = stringify(p.call(v, i));
      if (key === '__proto__') fail('groupBy', '"__proto__" cannot be a key');
      (groups[key] ??= []).push(v);
    });
    return groups;
  },
  sortBy: args => {
    const { items, p } = each('sortBy', args, 2, 3);
    const desc = args[2] === 'desc';
    const keyed = items.map((v, i) => ({ v, k: p.call(v, i) }));
    keyed.sort((a, b) => order('sortBy', a.k, b.k) * (desc ? -1 : 1));
    return keyed.map(e => e.v);
  },
  reduce: args => {
    arity('reduce', args, 2, 3);
    const items = list('reduce', args[0]);
    const p = predicate('reduce', args[1]);
    let acc: unknown;
    let start = 0;
    if (args.length === 3) {
      acc = args[2];
    } else {
      if (items.length === 0) fail('reduce', 'the list is empty and no initial value is given');
      acc = items[0];
      start = 1;
    }
    for (let i = start; i < items.length; i++) acc = p.call(items[i], i, acc);
    return acc;
  },

  // lists and maps
  first: exactly('first', 1, args => list('first', args[0])[0] ?? null),
  last: args => {
    arity('last', args, 1);
    const items = list('last', args[0]);
    return items[items.length - 1] ?? null;
  },
  take: exactly('take', 2, args => list('take', args[0]).slice(0, Math.max(0, int('take', args[1])))),
  reverse: exactly('reverse', 1, args => [...list('reverse', args[0])].reverse()),
  sort: args => {
    arity('sort', args, 1, 2);
    const desc = args[1] === 'desc';
    return [...list('sort', args[0])].sort((a, b) => order('sort', a, b) * (desc ? -1 : 1));
  },
  uniq: args => {
    arity('uniq', args, 1);
    const out: unknown[] = [];
    for (const v of list('uniq', args[0])) if (!out.some(o => deepEqual(o, v))) out.push(v);
    return out;
  },
  concat: (args, ctx) => {
    const lists = args.map(a => list('concat', a));
    return sized(ctx, 'concat', lists.flat());
  },
  flatten: (args, ctx) => {
    arity('flatten', args, 1);
    return sized(ctx, 'flatten', list('flatten', args[0]).flat(Infinity));
  },
  keys: exactly('keys', 1, args => Object.keys(map('keys', args[0]))),
  values: exactly('values', 1, args => Object.values(map('values', args[0]))),
  toPairs: exactly('toPairs', 1, args => Object.entries(map('toPairs', args[0]))),
  fromPairs: args => {
    arity('fromPairs', args, 1);
    const out: Record<string, unknown> = {};
    for (const pair of list('fromPairs', args[0])) {
      if (!Array.isArray(pair) || pair.length !== 2) fail('fromPairs', 'needs a list of [key, value] pairs');
      const key = stringify(pair[0]);
      if (key === '__proto__') fail('fromPairs', '"__proto__" cannot be a key');
      out[key] = pair[1];
    }
    return out;
  },
  get: args => {
    arity('get', args, 2);
    const [v, k] = args;
    if (Array.isArray(v) && typeof k === 'number') return v[k < 0 ? v.length + k : k] ?? null;
    if (v && typeof v === 'object' && (typeof k === 'string' || typeof k === 'number')) {
      return Object.prototype.hasOwnProperty.call(v, String(k)) ? (v as Record<string, unknown>)[String(k)] : null;
    }
    return null;
  },

  // conversions and encodings
  toJSON: (args, ctx) => {
    arity('toJSON', args, 1);
    return text(ctx, 'toJSON', JSON.stringify(args[0] ?? null, null, 2));
  },
  fromJSON: args => {
    arity('fromJSON', args, 1);
    try {
      return JSON.parse(str('fromJSON', args[0]), (k, v) => (k === '__proto__' ? undefined : v));
    } catch (e) {
      return fail('fromJSON', `not JSON: ${(e as Error).message}`);
    }
  },
  toBase64: exactly('toBase64', 1, (args, ctx) => text(ctx, 'toBase64', Buffer.from(str('toBase64', args[0])).toString('base64'))),
  fromBase64: args => {
    arity('fromBase64', args, 1);
    const s = str('fromBase64', args[0]);
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(s)) fail('fromBase64', 'not base64 text');
    return Buffer.from(s, 'base64').toString('utf8');
  },
  int: exactly('int', 1, args => toInt(args[0])),
  float: exactly('float', 1, args => toFloat(args[0])),
  string: exactly('string', 1, (args, ctx) => text(ctx, 'string', stringify(args[0]))),
  type: exactly('type', 1, args => typeName(args[0])),

  // numbers
  abs: exactly('abs', 1, args => Math.abs(num('abs', args[0]))),
  ceil: exactly('ceil', 1, args => Math.ceil(num('ceil', args[0]))),
  floor: exactly('floor', 1, args => Math.floor(num('floor', args[0]))),
  round: exactly('round', 1, args => Math.round(num('round', args[0]))),
  max: args => extreme('max', args, 1),
  min: args => extreme('min', args, -1),
  mean: args => {
    const ns = numbers('mean', args);
    return ns.reduce((a, b) => a + b, 0) / ns.length;
  },
  median: args => {
    const ns = [...numbers('median', args)].sort((a, b) => a - b);
    const mid = Math.floor(ns.length / 2);
    return ns.length % 2 ? ns[mid] : (ns[mid - 1] + ns[mid]) / 2;
  },

  // time
  now: exactly('now', 0, () => new ExprTime(Date.now())),
  date: args => parseDate('date', args),
  duration: exactly('duration', 1, args => parseGoDuration('duration', args[0])),
};
