import fs from 'node:fs/promises';
import { isMap, isSeq, parseDocument } from 'yaml';
import { z } from 'zod';
import { confinedPath, pathInRepository, StepConfigError } from '../workDir';
import { StepDefinition } from './types';

const schema = z
  .object({
    path: z.string().min(1),
    updates: z
      .array(z.object({ key: z.string().min(1), value: z.unknown() }).strict())
      .min(1, 'needs at least one update'),
  })
  .strict();

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

/** Sets values at key paths in a YAML file, keeping its comments and formatting. */
export const yamlUpdate: StepDefinition<z.infer<typeof schema>> = {
  name: 'yaml-update',
  description: 'Set values in a YAML file by key path, keeping comments and formatting.',
  schema,
  async run(ctx, config) {
    const file = await confinedPath(ctx.workDir, config.path, 'path', { writes: true });
    const text = await fs.readFile(file, 'utf8').catch(e => {
      throw new StepConfigError(
        e.code === 'ENOENT' ? `path "${config.path}" does not exist` : `cannot read "${config.path}": ${e.message}`,
      );
    });
    const doc = parseDocument(text);
    if (doc.errors.length) throw new StepConfigError(`"${config.path}" is not valid YAML: ${doc.errors[0].message}`);
    for (const u of config.updates) {
      const segments = splitKeyPath(u.key);
      // numeric segments address sequence items when the node there is a sequence
      const keys: unknown[] = [];
      let node: unknown = doc.contents;
      for (const seg of segments) {
        const useIndex = isSeq(node) && /^\d+$/.test(seg);
        const k = useIndex ? Number(seg) : seg;
        keys.push(k);
        node = isMap(node) || isSeq(node) ? node.get(k as never, true) : undefined;
      }
      doc.setIn(keys, u.value);
    }
    await fs.writeFile(file, doc.toString());
    const lines = config.updates.map(u => `- ${u.key}: ${JSON.stringify(u.value)}`);
    const shown = pathInRepository(ctx.workDir, file, config.path);
    return {
      status: 'Succeeded',
      message: `updated ${shown}: ${config.updates.map(u => u.key).join(', ')}`,
      outputs: { commitMessage: `Updated ${shown}\n\n${lines.join('\n')}` },
    };
  },
};
