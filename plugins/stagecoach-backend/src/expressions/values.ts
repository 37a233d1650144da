/**
 * Values only expressions make: times (`now()`, `date(...)`) and durations
 * (`duration("1h")`), and how any value is named, shown and compared.
 */

/** A point in time; in config and JSON it is its RFC 3339 text. */
export class ExprTime {
  constructor(readonly ms: number) {}
  toJSON(): string {
    return new Date(this.ms).toISOString();
  }
  toString(): string {
    return this.toJSON();
  }
}

/** A length of time; in config and JSON it is Go's text (`1h30m0s`). */
export class ExprDuration {
  constructor(readonly ms: number) {}
  toJSON(): string {
    return formatDuration(this.ms);
  }
  toString(): string {
    return this.toJSON();
  }
}

function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  const sign = ms < 0 ? '-' : '';
  let rest = Math.abs(ms);
  if (rest < 1000) return `${sign}${rest}ms`;
  const h = Math.floor(rest / 3_600_000);
  rest -= h * 3_600_000;
  const m = Math.floor(rest / 60_000);
  rest -= m * 60_000;
  const s = rest / 1000;
  if (h) return `${sign}${h}h${m}m${s}s`;
  if (m) return `${sign}${m}m${s}s`;
  return `${sign}${s}s`;
}

/** A value's type in messages: string, number, bool, nil, list, map, time, duration. */
export function typeName(v: unknown): string {
  if (v === null || v === undefined) return 'nil';
  if (typeof v === 'boolean') return 'bool';
  if (Array.isArray(v)) return 'list';
  if (v instanceof ExprTime) return 'time';
  if (v instanceof ExprDuration) return 'duration';
  if (typeof v === 'object') return 'map';
  return typeof v;
}

/** A value inside text: nothing for nil, JSON for lists and maps. */
export function stringify(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (v instanceof ExprTime || v instanceof ExprDuration) return v.toJSON();
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

/** A value as config and step outputs hold it: times and durations as their text. */
/** Values that have methods (VALUE_METHODS of parser.ts), and their methods: kept apart, never as properties. */
const methodTables = new WeakMap<object, Readonly<Record<string, (...args: unknown[]) => unknown>>>();

/** Gives a value (an object a function returned) methods that expressions can call, `v.Name()`. */
export function withMethods<T extends object>(value: T, methods: Readonly<Record<string, (...args: unknown[]) => unknown>>): T {
  methodTables.set(value, methods);
  return value;
}

/** The methods of a value, if it has any. */
export function methodsOf(value: unknown): Readonly<Record<string, (...args: unknown[]) => unknown>> | undefined {
  return value !== null && typeof value === 'object' ? methodTables.get(value) : undefined;
}

export function plain(v: unknown): unknown {
  if (v instanceof ExprTime || v instanceof ExprDuration) return v.toJSON();
  return v;
}

export function deepEqual(a: unknown, b: unknown): boolean {
  return JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
}
