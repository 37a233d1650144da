import { Document, isMap, isScalar, isSeq, Node, Pair, visit, YAMLMap, YAMLSeq } from 'yaml';
import { z } from 'zod';
import { pathInRepository } from '../workDir';
import { confinedPath } from '../workDir';
import { MissingPathError, readConfigFile, writeConfigFile } from './files';
import { parseYamlDocument, yamlValue } from './structuredData';
import { StepDefinition } from './types';

const schema = z
  .object({
    inFiles: z.array(z.string().min(1)).min(1, 'needs at least one file'),
    outFile: z.string().min(1),
    ignoreMissingFiles: z.boolean().default(false),
  })
  .strict();

/**
 * Fields that identify the items of a list of objects (Kustomize's list, which Kargo's merge
 * uses): such lists merge item by item; other lists are replaced whole.
 */
const ITEM_KEYS = ['mountPath', 'devicePath', 'ip', 'type', 'topologyKey', 'name', 'containerPort'];

function keyOf(pair: Pair): unknown {
  return isScalar(pair.key) ? pair.key.value : pair.key;
}

function isNull(node: unknown): boolean {
  return node === null || (isScalar(node) && node.value === null);
}

function itemKey(seqs: YAMLSeq[]): string | undefined {
  const items = seqs.flatMap(s => s.items);
  if (items.length === 0 || !items.every(isMap)) return undefined;
  return ITEM_KEYS.find(k => items.every(i => isScalar((i as YAMLMap).get(k, true))));
}

function mergeSeqs(target: YAMLSeq, patch: YAMLSeq): YAMLSeq {
  const key = itemKey([target, patch]);
  if (!key) return patch;
  const idOf = (item: unknown) => ((item as YAMLMap).get(key, true) as { value: unknown }).value;
  for (const item of patch.items) {
    const at = target.items.findIndex(t => idOf(t) === idOf(item));
    if (at < 0) target.items.push(item);
    else target.items[at] = merge(target.items[at], item);
  }
  return target;
}

/** Merges `patch` into `target`: objects field by field, `null` removes a field, the rest is replaced. */
function merge(target: unknown, patch: unknown): unknown {
  if (isSeq(target) && isSeq(patch)) return mergeSeqs(target, patch);
  if (!isMap(target) || !isMap(patch)) return patch;
  for (const pair of patch.items) {
    const key = keyOf(pair);
    if (isNull(pair.value)) {
      target.delete(key);
      continue;
    }
    const existing = target.items.find(p => keyOf(p) === key);
    if (existing) existing.value = merge(existing.value, pair.value);
    else target.items.push(pair); // the whole pair, so its comments come along
  }
  return target;
}

/** Anchors and aliases do not survive moving nodes between documents: such a file is merged by value. */
function withoutAliases(doc: Document, shown: string): Document {
  let aliased = false;
  visit(doc, {
    Alias() {
      aliased = true;
      return visit.BREAK;
    },
  });
  return aliased ? new Document(yamlValue(doc, shown), { aliasDuplicateObjects: false }) : doc;
}

function commitMessage(read: string[], outFile: string): string | undefined {
  if (read.length === 0) return undefined;
  if (read.length === 1) return `Wrote ${read[0]} to ${outFile}`;
  return [`Merged ${read.length} YAML files to ${outFile}`, ...read.map(f => `- ${f}`)].join('\n');
}

/** Merges YAML files in order, later ones winning, into one file. */
export const yamlMerge: StepDefinition<z.infer<typeof schema>> = {
  name: 'yaml-merge',
  description: 'Deep-merge YAML files in order (later files win) into one file.',
  schema,
  async run(ctx, config) {
    const outFile = await confinedPath(ctx.workDir, config.outFile, 'outFile', { writes: true });
    let merged: Document | undefined;
    const read: string[] = [];
    for (const [i, given] of config.inFiles.entries()) {
      const field = `inFiles[${i}]`;
      const loaded = await readConfigFile(ctx.workDir, given, field).catch(e => {
        if (config.ignoreMissingFiles && e instanceof MissingPathError) return undefined;
        throw e;
      });
      if (!loaded) continue;
      read.push(given);
      const parsed = parseYamlDocument(loaded.text, given);
      if (!parsed || parsed.contents === null) continue; // an empty file adds nothing
      const doc = withoutAliases(parsed, given);
      if (!merged) merged = doc;
      else merged.contents = merge(merged.contents, doc.contents) as Node;
    }
    const text = merged ? merged.toString({ flowCollectionPadding: false }) : '';
    await writeConfigFile(outFile, text, 'outFile', config.outFile);
    const shown = pathInRepository(ctx.workDir, outFile, config.outFile);
    const message = commitMessage(read, shown);
    return {
      status: 'Succeeded',
      message: read.length ? `merged ${read.join(', ')} into ${shown}` : `no input files: wrote an empty ${shown}`,
      ...(message ? { outputs: { commitMessage: message } } : {}),
    };
  },
};
