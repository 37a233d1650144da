import fs from 'node:fs/promises';
import { Document, isMap, isSeq } from 'yaml';
import { StepConfigError } from '../workDir';

/** What the steps that edit YAML files by key path share: the key path and the file's text. */

/** Splits `a.b.0.c` into segments; `\.` keeps a literal dot inside a key. */
export function splitKeyPath(key: string): string[] {
  const out: string[] = [];
  let cur = '';
  for (let i = 0; i < key.length; i++) {
    if (key[i] === '\\' && key[i + 1] === '.') {
      cur += '.';
      i++;
    } else if (key[i] === '.') {
      out.push(cur);
      cur = '';
    } else cur += key[i];
  }
  out.push(cur);
  if (out.some(s => s === '')) throw new StepConfigError(`key "${key}" has an empty segment`);
  return out;
}

/**
 * Sets the value at a dotted key path, creating what is missing. A numeric segment addresses
 * a list item where the node there is a list, and is a map key everywhere else.
 */
export function setAtKeyPath(doc: Document, key: string, value: unknown): void {
  const keys: unknown[] = [];
  let node: unknown = doc.contents;
  for (const seg of splitKeyPath(key)) {
    const k = isSeq(node) && /^\d+$/.test(seg) ? Number(seg) : seg;
    keys.push(k);
    node = isMap(node) || isSeq(node) ? node.get(k as never, true) : undefined;
  }
  doc.setIn(keys, value);
}

/** The text of the file that `path` names (already confined to the work directory). */
export async function readPathText(file: string, given: string): Promise<string> {
  return fs.readFile(file, 'utf8').catch(e => {
    throw new StepConfigError(e.code === 'ENOENT' ? `path "${given}" does not exist` : `cannot read "${given}": ${e.message}`);
  });
}
