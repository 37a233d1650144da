import { Document, isCollection, isPair, parseAllDocuments } from 'yaml';
import type { ManifestProblem } from '@stagecoach/plugin-stagecoach-common';

/**
 * Reading a multi-document YAML set within limits, so a hostile body is a list of problems
 * (a 400) and never an exhausted backend or a 500:
 *  - at most MAX_MANIFEST_BYTES of text;
 *  - collections nested at most MAX_NESTING_DEPTH deep (a Kargo manifest needs about 15);
 *  - aliases (`*name`) resolved at most MAX_ALIAS_COUNT times per document, the `yaml`
 *    package's `maxAliasCount`: an "alias bomb" (a billion laughs) stops there;
 *  - at least one document: a body of only comments, blank lines or `---` says nothing, and
 *    applying it would leave the project without warehouses and stages.
 */

/** The largest manifest set read: 1 MiB, the REST API's body limit. */
export const MAX_MANIFEST_BYTES = 1024 * 1024;
/** How deep mappings and lists may nest. */
export const MAX_NESTING_DEPTH = 64;
/** Aliases one document may resolve (yaml's maxAliasCount). */
export const MAX_ALIAS_COUNT = 100;

/** A document of the set: its position (from 1) and its value, or undefined for an empty one. */
export interface YamlDocument {
  index: number;
  value: unknown;
}

const problem = (document: number, message: string): ManifestProblem => ({ document, path: '', message });

/** The deepest nesting of mappings and lists in a document (aliases count as leaves), walked without recursion. */
function nestingDepth(doc: Document): number {
  let deepest = 0;
  const stack: Array<{ node: unknown; depth: number }> = [{ node: doc.contents, depth: 0 }];
  while (stack.length > 0) {
    const { node, depth } = stack.pop()!;
    if (isPair(node)) {
      stack.push({ node: node.key, depth }, { node: node.value, depth });
    } else if (isCollection(node)) {
      const d = depth + 1;
      if (d > deepest) deepest = d;
      if (d > MAX_NESTING_DEPTH) return d;
      for (const item of node.items) stack.push({ node: item, depth: d });
    }
    // scalars and aliases are leaves: toJS resolves aliases, and maxAliasCount bounds them
  }
  return deepest;
}

const DEPTH_MESSAGE = `is nested deeper than the limit of ${MAX_NESTING_DEPTH} levels of mappings and lists`;

/**
 * The documents of a YAML set, or the problems that stop it from being read: YAML errors,
 * the limits above. Never throws for what the text holds.
 */
export function readYamlDocuments(text: string): { documents: YamlDocument[]; problems: ManifestProblem[] } {
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > MAX_MANIFEST_BYTES) {
    return {
      documents: [],
      problems: [problem(1, `the manifests are ${bytes} bytes: at most ${MAX_MANIFEST_BYTES} bytes (1 MiB) are read at once`)],
    };
  }
  const problems: ManifestProblem[] = [];
  const documents: YamlDocument[] = [];
  const parsed = parseAllDocuments(text, { prettyErrors: true });
  const list = Array.isArray(parsed) ? parsed : [parsed];
  list.forEach((doc, position) => {
    const index = position + 1; // documents are counted from 1, as people count them
    if (doc.errors.length > 0) {
      for (const e of doc.errors) {
        // the parser's own stack ran out: nesting far past the limit
        const message = e.code === 'RESOURCE_EXHAUSTION' ? DEPTH_MESSAGE : `invalid YAML: ${e.message.split('\n')[0]}`;
        problems.push(problem(index, message));
      }
      return;
    }
    if (nestingDepth(doc) > MAX_NESTING_DEPTH) {
      problems.push(problem(index, DEPTH_MESSAGE));
      return;
    }
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
    } catch (e) {
      const message = (e as Error).message;
      problems.push(
        problem(
          index,
          /excessive alias count/i.test(message)
            ? `its aliases (*name) expand beyond the limit: a document may resolve at most ${MAX_ALIAS_COUNT} aliases (maxAliasCount ${MAX_ALIAS_COUNT})`
            : `invalid YAML: ${message.split('\n')[0]}`,
        ),
      );
      return;
    }
    documents.push({ index, value: value ?? undefined });
  });
  if (problems.length === 0 && documents.every(d => d.value === undefined)) {
    problems.push(
      problem(
        1,
        'the manifests hold no documents (only comments, blank lines or "---"): send the project\'s Warehouses, Stages and other documents; nothing was applied',
      ),
    );
  }
  return { documents, problems };
}
