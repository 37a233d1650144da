import { applyEdits, format, FormattingOptions, modify, parse as parseJsonc, JSONPath } from 'jsonc-parser';
import { z } from 'zod';
import { pathInRepository, StepConfigError } from '../workDir';
import { readConfigFile, writeConfigFile } from './files';
import { parseJson } from './structuredData';
import { StepDefinition } from './types';
import { splitKeyPath } from './yamlFile';

const schema = z
  .object({
    path: z.string().min(1),
    updates: z
      .array(
        z
          .object({
            key: z.string().min(1),
            value: z.unknown().refine(v => v !== undefined, 'is required'),
          })
          .strict(),
      )
      .min(1, 'needs at least one update'),
  })
  .strict();

/** The indentation and line ends the file already uses, for the text an update inserts. */
function detectFormatting(text: string): FormattingOptions {
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  const indent = /\n([ \t]+)\S/.exec(text)?.[1];
  if (indent?.startsWith('\t')) return { insertSpaces: false, tabSize: 1, eol };
  return { insertSpaces: true, tabSize: indent?.length ?? 2, eol };
}

function kind(v: unknown): string {
  return v === null ? 'null' : typeof v;
}

/**
 * The jsonc-parser path for a dotted key: a segment indexes a list where the document has a
 * list (`-1`, or the list's length, appends); missing objects are created.
 */
function toJsonPath(root: unknown, key: string, field: string): JSONPath {
  const segments = splitKeyPath(key);
  const out: JSONPath = [];
  let node: unknown = root;
  segments.forEach((seg, i) => {
    const last = i === segments.length - 1;
    const where = segments.slice(0, i).join('.') || 'the document';
    if (Array.isArray(node)) {
      const index = /^-?\d+$/.test(seg) ? Number(seg) : NaN;
      const appends = last && (index === -1 || index === node.length);
      if (!appends && !(index >= 0 && index < node.length)) {
        throw new StepConfigError(
          `${field} "${key}": "${where}" is a list of ${node.length} items, so "${seg}" must be an index from 0 to ${
            node.length - 1
          } (or -1 to append)`,
        );
      }
      out.push(appends ? -1 : index);
      node = appends ? undefined : node[index];
    } else if (node !== null && typeof node === 'object') {
      out.push(seg);
      node = Object.prototype.hasOwnProperty.call(node, seg) ? (node as Record<string, unknown>)[seg] : undefined;
    } else if (node === undefined) {
      out.push(seg);
    } else {
      throw new StepConfigError(`${field} "${key}": "${where}" is a ${kind(node)}, not an object or a list`);
    }
  });
  return out;
}

function setValue(text: string, jsonPath: JSONPath, value: unknown, formatting: FormattingOptions): string {
  const edits = modify(text, jsonPath, value, {});
  const updated = applyEdits(text, edits);
  if (edits.length !== 1) return updated;
  // format only the inserted text: jsonc-parser's own formatting would also reflow its neighbours
  const range = { offset: edits[0].offset, length: edits[0].content.length };
  return applyEdits(updated, format(updated, range, formatting));
}

/** Sets values in a JSON file by key path, leaving the rest of the text as it was. */
export const jsonUpdate: StepDefinition<z.infer<typeof schema>> = {
  name: 'json-update',
  description: 'Set values in a JSON file by key path, keeping its formatting.',
  schema,
  async run(ctx, config) {
    const { file, text } = await readConfigFile(ctx.workDir, config.path, 'path', { writes: true });
    const empty = text.trim() === '';
    let out = empty ? '{}\n' : text;
    parseJson(out, config.path, { comments: true });
    const formatting = detectFormatting(out);
    config.updates.forEach((u, i) => {
      out = setValue(out, toJsonPath(parseJsonc(out), u.key, `updates[${i}].key`), u.value, formatting);
    });
    // an empty file has no formatting to keep
    if (empty) out = `${applyEdits(out, format(out, undefined, formatting)).trimEnd()}${formatting.eol}`;
    await writeConfigFile(file, out, 'path', config.path);
    const shown = pathInRepository(ctx.workDir, file, config.path);
    const lines = config.updates.map(u => `- ${u.key}: ${JSON.stringify(u.value)}`);
    return {
      status: 'Succeeded',
      message: `updated ${shown}: ${config.updates.map(u => u.key).join(', ')}`,
      outputs: { commitMessage: `Updated ${shown}\n\n${lines.join('\n')}` },
    };
  },
};
