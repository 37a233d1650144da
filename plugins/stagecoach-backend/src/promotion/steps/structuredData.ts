import { parse as parseJsonc, ParseError, printParseErrorCode } from 'jsonc-parser';
import { Document, parseAllDocuments } from 'yaml';
import { z } from 'zod';
import { evaluate } from '../../expressions/expressions';
import { StepConfigError } from '../workDir';

/** Parsing and querying the JSON and YAML files that the structured-data steps read. */

function lineAndColumn(text: string, offset: number): string {
  const lines = text.slice(0, offset).split('\n');
  return `line ${lines.length}, column ${lines[lines.length - 1].length + 1}`;
}

/** The first syntax problem of a JSON text, as "value expected at line 3, column 7". */
export function describeJsonError(text: string, error: ParseError): string {
  const words = printParseErrorCode(error.error)
    .replace(/([a-z])([A-Z])/g, '$1 $2')
    .toLowerCase();
  return `${words} at ${lineAndColumn(text, error.offset)}`;
}

/**
 * Parses a JSON file's text. `comments` also accepts the comments and trailing commas of
 * JSONC files (tsconfig.json, devcontainer.json) for a step that keeps them when it writes.
 */
export function parseJson(text: string, shown: string, options: { comments?: boolean } = {}): unknown {
  const errors: ParseError[] = [];
  parseJsonc(text, errors, { disallowComments: !options.comments, allowTrailingComma: !!options.comments });
  if (errors.length) throw new StepConfigError(`"${shown}" is not valid JSON: ${describeJsonError(text, errors[0])}`);
  // JSON.parse for the value itself: it keeps a "__proto__" key as plain data
  return options.comments ? parseJsonc(text) : JSON.parse(text);
}

/** The one YAML document in a file, or undefined for a file with none (empty, or only comments). */
export function parseYamlDocument(text: string, shown: string): Document | undefined {
  const docs = parseAllDocuments(text);
  const list = Array.isArray(docs) ? docs : [];
  if (list.length > 1) {
    throw new StepConfigError(`"${shown}" holds ${list.length} YAML documents; this step reads a file with one`);
  }
  const doc = list[0];
  if (!doc) return undefined;
  if (doc.errors.length) {
    // the first line names the problem and its position; the rest quotes the file
    throw new StepConfigError(`"${shown}" is not valid YAML: ${doc.errors[0].message.split('\n')[0].replace(/:$/, '')}`);
  }
  return doc;
}

/** A YAML document's plain value (null for an empty file). */
export function yamlValue(doc: Document | undefined, shown: string): unknown {
  if (!doc) return null;
  try {
    return doc.toJS({ maxAliasCount: 1000 });
  } catch (e) {
    throw new StepConfigError(`"${shown}" cannot be read: ${(e as Error).message}`);
  }
}

export const outputRulesSchema = z
  .array(
    z
      .object({
        name: z.string().min(1),
        fromExpression: z.string().min(1),
      })
      .strict(),
  )
  .min(1, 'needs at least one output');

export type OutputRules = z.infer<typeof outputRulesSchema>;

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/**
 * Evaluates each rule's expression over a parsed document: its top-level fields are names
 * of their own (`image.tag`), and `outputs` is the whole document, as Kargo's docs describe.
 */
export function extractOutputs(document: unknown, rules: OutputRules): Record<string, unknown> {
  const values = Object.fromEntries([
    ['outputs', document],
    ...(isPlainObject(document) ? Object.entries(document) : []),
  ]);
  const result: [string, unknown][] = [];
  for (const rule of rules) {
    let value: unknown;
    try {
      value = evaluate(rule.fromExpression, { values, functions: {} });
    } catch (e) {
      throw new StepConfigError(`output "${rule.name}": ${(e as Error).message}`);
    }
    result.push([rule.name, value === undefined ? null : value]);
  }
  return Object.fromEntries(result);
}
