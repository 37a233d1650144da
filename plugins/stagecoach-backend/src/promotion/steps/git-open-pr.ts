import { z } from 'zod';
import { openPullRequest } from '../../integrations/scm';
import { StepConfigError } from '../workDir';
import {
  connect,
  connectionFields,
  oneOfFieldAndFromStep,
  outputOfStep,
  prName,
  prOutput,
  reportingScmErrors,
} from './pullRequestSupport';
import type { StepContext, StepDefinition } from './types';

const branch = z.string().min(1);

const schema = oneOfFieldAndFromStep(
  z
    .object({
      ...connectionFields,
      sourceBranch: branch.optional(),
      /** Older manifests: the `branch` output of an earlier step (git-push). */
      sourceBranchFromStep: z.string().min(1).optional(),
      targetBranch: branch,
      title: z.string().min(1).optional(),
      description: z.string().min(1).optional(),
      labels: z.array(z.string().min(1)).default([]),
      /** Deprecated by Kargo and ignored there too: target branches must exist. */
      createTargetBranch: z.boolean().optional(),
    })
    .strict(),
  'sourceBranch',
  'sourceBranchFromStep',
);

/**
 * Opens a pull request from a branch the promotion pushed into the target branch, so people
 * (or git-merge-pr) can merge it. Running it again finds the pull request it opened before.
 */
export const gitOpenPr: StepDefinition<z.infer<typeof schema>> = {
  name: 'git-open-pr',
  description: 'Open a pull request (or find the one already open) from a pushed branch into a target branch.',
  schema,
  async run(ctx, config) {
    const sourceBranch = config.sourceBranch ?? branchFromStep(ctx, config.sourceBranchFromStep!);
    if (sourceBranch === config.targetBranch) {
      throw new StepConfigError(`sourceBranch and targetBranch are both "${sourceBranch}": a pull request needs two branches`);
    }
    if (config.createTargetBranch !== undefined) {
      ctx.logger.warn('git-open-pr: createTargetBranch is deprecated and ignored; the target branch must exist');
    }
    return reportingScmErrors(async () => {
      const provider = await connect(ctx, config);
      if (config.labels.length && !provider.supportsLabels) {
        ctx.logger.warn(`git-open-pr: ${provider.label} pull requests have no labels; labels ignored`);
      }
      const { pr, created } = await openPullRequest(provider, {
        sourceBranch,
        targetBranch: config.targetBranch,
        title: config.title,
        description: config.description,
        labels: config.labels,
      });
      const name = prName(provider, pr.number);
      let message: string;
      if (created) message = `opened ${name} from ${sourceBranch} into ${config.targetBranch}: ${pr.url}`;
      else if (pr.merged) message = `${name} from ${sourceBranch} was already merged: ${pr.url}`;
      else message = `${name} from ${sourceBranch} into ${config.targetBranch} was already open: ${pr.url}`;
      // prNumber: what git-open-pr output before Kargo 1.3, which older git-wait-for-pr configs read
      return { status: 'Succeeded', message, outputs: { pr: prOutput(pr), prNumber: pr.number } };
    });
  },
};

function branchFromStep(ctx: StepContext, alias: string): string {
  const value = outputOfStep(ctx, 'sourceBranchFromStep', alias, [['branch']]);
  if (typeof value !== 'string') {
    throw new StepConfigError(`sourceBranchFromStep: the branch output of step "${alias}" is not a branch name`);
  }
  return value;
}
