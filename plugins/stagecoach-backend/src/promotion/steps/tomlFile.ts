import { parse, patch } from '@decimalturn/toml-patch';
import { StepConfigError } from '../workDir';
import { splitKeyPath } from './yamlFile';

/**
 * Reading and editing the TOML files of toml-parse and toml-update, with
 * @decimalturn/toml-patch: it parses TOML 1.0 (its tests run the toml-spec-tests suite) and
 * writes a changed value back into the file's own text, so comments, order, blank lines,
 * quoting and inline tables stay as they were; only what changes is rewritten.
 */

function isTable(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Date);
}

/** Parses a TOML file's text; integers past 2^53 come back as bigint, dates as Date subclasses. */
export function parseToml(text: string, shown: string): Record<string, unknown> {
  try {
    return parse(text);
  } catch (e) {
    // "Error parsing TOML (2, 1):\n<the line>\n^\n<what is wrong>": the position and the words
    const lines = (e as Error).message.split('\n');
    const at = /\((\d+), (\d+)\)/.exec(lines[0]);
    const what = lines[lines.length - 1].trim();
    const where = at ? ` at line ${at[1]}, column ${at[2]}` : '';
    throw new StepConfigError(`"${shown}" is not valid TOML: ${what}${where}`);
  }
}

/**
 * A parsed TOML value as plain data, for expressions and outputs: dates and times become their
 * TOML text (`1979-05-27`, `07:32:00`, `1979-05-27T07:32:00Z`), integers past 2^53 the exact
 * digits as a string (a number would change them).
 */
export function plainTomlValue(v: unknown): unknown {
  if (typeof v === 'bigint') return v.toString();
  if (v instanceof Date) return v.toISOString();
  if (Array.isArray(v)) return v.map(plainTomlValue);
  if (isTable(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plainTomlValue(x)]));
  return v;
}

function kind(v: unknown): string {
  if (Array.isArray(v)) return 'an array';
  if (v instanceof Date) return 'a date';
  return `a ${typeof v}`;
}

/** Why a value cannot be written to TOML, or undefined: TOML has no null, and no undefined. */
function unwritable(v: unknown, at: string): string | undefined {
  if (v === null || v === undefined) return `${at} is null, and TOML has no null`;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const why = unwritable(v[i], `${at}[${i}]`);
      if (why) return why;
    }
  } else if (isTable(v)) {
    for (const [k, x] of Object.entries(v)) {
      const why = unwritable(x, `${at}.${k}`);
      if (why) return why;
    }
  }
  return undefined;
}

/**
 * Sets `value` at a dotted key path (`a.b.0.c`; `\.` for a dot inside a key) of a parsed
 * document: a segment indexes an array where the document has one (`-1`, or the array's length,
 * appends); tables that are missing are created.
 */
export function setTomlValue(root: Record<string, unknown>, key: string, value: unknown, field: string): void {
  const why = unwritable(value, 'the value');
  if (why) throw new StepConfigError(`${field} "${key}": ${why}`);
  let segments: string[];
  try {
    segments = splitKeyPath(key);
  } catch (e) {
    throw new StepConfigError(`${field}: ${(e as Error).message}`);
  }
  let node: unknown = root;
  segments.forEach((seg, i) => {
    const last = i === segments.length - 1;
    const where = segments.slice(0, i).join('.') || 'the document';
    if (Array.isArray(node)) {
      const index = /^-?\d+$/.test(seg) ? Number(seg) : NaN;
      const appends = last && (index === -1 || index === node.length);
      if (!appends && !(index >= 0 && index < node.length)) {
        throw new StepConfigError(
          `${field} "${key}": "${where}" is an array of ${node.length} items, so "${seg}" must be an index from 0 to ${
            node.length - 1
          } (or -1 to append)`,
        );
      }
      if (last) node[appends ? node.length : index] = value;
      else node = node[index];
    } else if (isTable(node)) {
      if (last) node[seg] = value;
      else {
        if (!Object.prototype.hasOwnProperty.call(node, seg)) node[seg] = {};
        node = node[seg];
      }
    } else {
      throw new StepConfigError(`${field} "${key}": "${where}" is ${kind(node)}, not a table or an array`);
    }
  });
}

/** The file's text with the document's new values written in, the rest of the text kept. */
export function patchToml(text: string, document: Record<string, unknown>): string {
  return patch(text, document);
}
