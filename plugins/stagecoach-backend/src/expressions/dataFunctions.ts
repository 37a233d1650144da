import { ExpressionError } from './errors';
import type { ExprFunction } from './expressions';

/**
 * Kargo's data functions: `configMap(name[, key])` and `secret(name[, key])` read the project's
 * ConfigMaps and generic Secrets, `sharedConfigMap` and `sharedSecret` the cluster scope's.
 * With a name alone they return the whole map (key → text), with a key its value. A missing
 * map or key is an error naming what there is: names and keys, never a Secret's values.
 * Every Secret value they return is remembered (`secretsRead`), so that whoever runs the
 * expressions can keep those values out of what it records and shows.
 */

/** Secrets to read: their names, and their values, opened only when asked for (they are sealed). */
export interface SecretSource {
  names: readonly string[];
  /** The Secret's values; throws (naming the Secret, never a value) when it cannot be opened. */
  open(name: string): Record<string, string>;
}

export interface DataSources {
  configMaps: ReadonlyMap<string, Readonly<Record<string, string>>>;
  sharedConfigMaps: ReadonlyMap<string, Readonly<Record<string, string>>>;
  /** Undefined: `secret()` and `sharedSecret()` fail with `secretsUnavailable`. */
  secrets?: SecretSource;
  sharedSecrets?: SecretSource;
  /** Why secrets cannot be read where these functions are used (verification arguments are stored and shown). */
  secretsUnavailable?: string;
}

export interface DataFunctions {
  functions: Record<string, ExprFunction>;
  /** The Secret values the functions returned so far (redact them from outputs and messages). */
  secretsRead(): string[];
}

/** The names of the data functions, for checks of which functions an expression may call. */
export const DATA_FUNCTIONS = ['configMap', 'secret', 'sharedConfigMap', 'sharedSecret'] as const;

const list = (names: Iterable<string>) => [...names].sort().join(', ') || 'none';

function lookup(fn: string, what: string, scope: string, name: unknown, key: unknown, names: () => Iterable<string>, read: (name: string) => Readonly<Record<string, string>> | undefined) {
  if (typeof name !== 'string' || !name) throw new ExpressionError(`${fn}(name[, key]) needs the name of a ${what}`);
  if (key !== undefined && typeof key !== 'string') throw new ExpressionError(`${fn}("${name}", key): key must be a string`);
  const values = read(name);
  if (!values) throw new ExpressionError(`${fn}("${name}"): ${scope} has no ${what} "${name}" (it has: ${list(names())})`);
  if (key === undefined) return { ...values };
  if (!Object.prototype.hasOwnProperty.call(values, key)) {
    throw new ExpressionError(`${fn}("${name}", "${key}"): ${what} "${name}" has no key "${key}" (its keys: ${list(Object.keys(values))})`);
  }
  return values[key];
}

/** The four data functions over these sources. */
export function dataFunctions(sources: DataSources): DataFunctions {
  const read = new Set<string>();
  const configMapFn = (fn: string, scope: string, maps: ReadonlyMap<string, Readonly<Record<string, string>>>): ExprFunction =>
    (name, key) => lookup(fn, 'ConfigMap', scope, name, key, () => maps.keys(), n => maps.get(n));
  const secretFn = (fn: string, scope: string, source: SecretSource | undefined): ExprFunction => {
    const opened = new Map<string, Record<string, string>>();
    return (name, key) => {
      if (!source) throw new ExpressionError(`${fn}() ${sources.secretsUnavailable ?? 'is not available here'}`);
      const value = lookup(fn, 'generic Secret', scope, name, key, () => source.names, n => {
        if (!source.names.includes(n)) return undefined;
        if (!opened.has(n)) opened.set(n, source.open(n));
        return opened.get(n);
      });
      for (const v of typeof value === 'string' ? [value] : Object.values(value)) read.add(v);
      return value;
    };
  };
  return {
    functions: {
      configMap: configMapFn('configMap', 'the project', sources.configMaps),
      sharedConfigMap: configMapFn('sharedConfigMap', 'the cluster scope', sources.sharedConfigMaps),
      secret: secretFn('secret', 'the project', sources.secrets),
      sharedSecret: secretFn('sharedSecret', 'the cluster scope', sources.sharedSecrets),
    },
    secretsRead: () => [...read],
  };
}
