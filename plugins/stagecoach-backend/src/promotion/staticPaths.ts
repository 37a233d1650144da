import path from 'node:path';
import { hasExpression } from '../expressions/expressions';

/**
 * The config fields of the built-in steps that name files or folders in the promotion's work
 * directory: a field, or `field[]` for each entry of a list (`checkout[].path`: the `path` of
 * each checkout). Steps that take no path, and modules' steps, are not listed.
 */
const PATH_FIELDS: Readonly<Record<string, readonly string[]>> = {
  copy: ['inPath', 'outPath'],
  delete: ['path', 'paths[]'],
  'file-write': ['path'],
  'git-clear': ['path'],
  'git-clone': ['checkout[].path'],
  'git-commit': ['path'],
  'git-push': ['path'],
  'git-tag': ['path'],
  'github-push': ['path'],
  'helm-template': ['path', 'outPath', 'valuesFiles[]'],
  'helm-update-chart': ['path'],
  'helm-update-image': ['path'],
  http: ['bodyFromFile'],
  'http-download': ['outPath'],
  'json-parse': ['path'],
  'json-update': ['path'],
  'kustomize-build': ['path', 'outPath'],
  'kustomize-set-image': ['path'],
  'oci-download': ['outPath'],
  tar: ['inPath', 'outPath'],
  'toml-parse': ['path'],
  'toml-update': ['path'],
  untar: ['inPath', 'outPath'],
  'yaml-merge': ['inFiles[]', 'outFile'],
  'yaml-parse': ['path'],
  'yaml-update': ['path'],
};

export interface StaticPathProblem {
  path: (string | number)[];
  message: string;
}

/** Why a path written in a manifest cannot be in the work directory, or undefined. */
function problemOf(given: string): string | undefined {
  if (path.posix.isAbsolute(given) || path.win32.isAbsolute(given)) {
    return `"${given}" is an absolute path: a step's paths are relative to the promotion's work directory`;
  }
  const normal = path.posix.normalize(given.replace(/\\/g, '/'));
  if (normal === '..' || normal.startsWith('../')) {
    return `"${given}" leaves the promotion's work directory`;
  }
  return undefined;
}

/** Every value of a field spec (`a`, `a[]`, `a[].b`) in the config, with its path from the config. */
function valuesAt(config: unknown, spec: string): { at: (string | number)[]; value: unknown }[] {
  let found: { at: (string | number)[]; value: unknown }[] = [{ at: [], value: config }];
  for (const part of spec.split('.')) {
    const list = part.endsWith('[]');
    const key = list ? part.slice(0, -2) : part;
    found = found.flatMap(({ at, value }) => {
      if (!value || typeof value !== 'object' || Array.isArray(value)) return [];
      const v = (value as Record<string, unknown>)[key];
      if (!list) return [{ at: [...at, key], value: v }];
      return Array.isArray(v) ? v.map((item, i) => ({ at: [...at, key, i], value: item })) : [];
    });
  }
  return found;
}

/**
 * Paths in a step's config that would lead out of the work directory whatever the promotion:
 * absolute ones and ones that climb above it (`../../etc`). Only literal text is judged; a
 * value with an expression is checked when the step runs (as every path is, symbolic links
 * included: promotion/workDir.ts).
 */
export function staticPathProblems(uses: string, config: Record<string, unknown>): StaticPathProblem[] {
  const problems: StaticPathProblem[] = [];
  for (const spec of PATH_FIELDS[uses] ?? []) {
    for (const { at, value } of valuesAt(config, spec)) {
      if (typeof value !== 'string' || hasExpression(value)) continue;
      const message = problemOf(value);
      if (message) problems.push({ path: ['config', ...at], message });
    }
  }
  return problems;
}
