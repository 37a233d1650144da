import { gitClone } from './git-clone';
import { gitCommit } from './git-commit';
import { gitPush } from './git-push';
import { githubPush } from './github-push';
import { gitClear } from './git-clear';
import { gitTag } from './git-tag';
import { yamlUpdate } from './yaml-update';
import { copy } from './copy';
import { deleteStep } from './delete';
import { fileWrite } from './file-write';
import { jsonUpdate } from './json-update';
import { jsonParse } from './json-parse';
import { yamlParse } from './yaml-parse';
import { yamlMerge } from './yaml-merge';
import { tar } from './tar';
import { untar } from './untar';
import { tomlParse } from './toml-parse';
import { tomlUpdate } from './toml-update';
import { composeOutput } from './compose-output';
import { setMetadata } from './set-metadata';
import { setFreightAlias } from './set-freight-alias';
import { fail } from './fail';
import { httpRequest } from './http';
import { httpDownload } from './http-download';
import { ociDownload } from './oci-download';
import { ociPush } from './oci-push';
import { kustomizeSetImage } from './kustomize-set-image';
import { kustomizeBuild } from './kustomize-build';
import { helmUpdateChart } from './helm-update-chart';
import { helmTemplate } from './helm-template';
import { helmUpdateImage } from './helm-update-image';
import { gitOpenPr } from './git-open-pr';
import { gitWaitForPr } from './git-wait-for-pr';
import { gitMergePr } from './git-merge-pr';
import { argocdUpdate } from './argocd-update';
import { argocdWait } from './argocd-wait';
import { StepDefinition } from './types';
import { kargoEnterpriseStepProblem } from './kargoEnterpriseSteps';
import { hasExpression } from '../../expressions/expressions';
import { describeIssue } from '../../manifests/describeIssue';

export type { StepContext, StepDefinition, StepResult } from './types';
export { moduleStep, PromotionStepRegistry } from './moduleSteps';

/** Every built-in step, by the name a manifest `uses`. */
export const builtinSteps: ReadonlyMap<string, StepDefinition> = new Map(
  (
    [
      // Git
      gitClone,
      gitCommit,
      gitPush,
      githubPush,
      gitClear,
      gitTag,
      // pull requests
      gitOpenPr,
      gitWaitForPr,
      gitMergePr,
      // files and structured data
      copy, deleteStep, fileWrite, jsonUpdate, jsonParse, yamlParse, yamlMerge,
      yamlUpdate,
      tar, untar, tomlParse, tomlUpdate,
      // Helm and Kustomize
      kustomizeSetImage, kustomizeBuild, helmUpdateChart, helmTemplate, helmUpdateImage,
      // HTTP
      httpRequest, httpDownload,
      // OCI registries
      ociDownload, ociPush,
      // Argo CD
      argocdUpdate, argocdWait,
      // flow control and metadata
      composeOutput, setMetadata, setFreightAlias, fail,
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
  steps: ReadonlyMap<string, StepDefinition> = builtinSteps,
): { path: (string | number)[]; message: string }[] {
  const step = steps.get(uses);
  if (!step) {
    const enterprise = kargoEnterpriseStepProblem(uses);
    if (enterprise) return [{ path: ['uses'], message: enterprise }];
    return [{ path: ['uses'], message: `unknown step "${uses}" (known: ${[...steps.keys()].join(', ')})` }];
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
