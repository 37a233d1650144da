import { gitClone } from './git-clone';
import { gitCommit } from './git-commit';
import { gitPush } from './git-push';
import { yamlUpdate } from './yaml-update';
import { StepDefinition } from './types';
import { hasExpression } from '../expressions';
import { describeIssue } from '../../manifests/describeIssue';

export type { StepContext, StepDefinition, StepResult } from './types';

/** Every built-in step, by the name a manifest `uses`. */
export const builtinSteps: ReadonlyMap<string, StepDefinition> = new Map(
  (
    [
      // Git
      gitClone,
      gitCommit,
      gitPush,
      // pull requests
      // files and structured data
      yamlUpdate,
      // Helm and Kustomize
      // HTTP
      // flow control and metadata
    ] as StepDefinition[]
  ).map(s => [s.name, s]),
);

function valueAt(value: unknown, path: (string | number)[]): unknown {
  let cur = value;
  for (const seg of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[seg as string];
  }
  return cur;
}

/**
 * Validates a step's raw configuration when manifests are applied. Values that are
 * `${{ }}` expressions are only known when the promotion runs, so problems at (or under)
 * them are left for then.
 */
export function validateStepConfig(
  uses: string,
  config: Record<string, unknown>,
): { path: (string | number)[]; message: string }[] {
  const step = builtinSteps.get(uses);
  if (!step) {
    return [{ path: ['uses'], message: `unknown step "${uses}" (known: ${[...builtinSteps.keys()].join(', ')})` }];
  }
  const parsed = step.schema.safeParse(config);
  if (parsed.success) return [];
  return parsed.error.issues
    .filter(issue => {
      for (let i = issue.path.length; i >= 0; i--) {
        if (hasExpression(valueAt(config, issue.path.slice(0, i)))) return false;
      }
      return true;
    })
    .map(issue => ({
      path: ['config', ...issue.path],
      message: describeIssue(issue),
    }));
}
