import { z } from 'zod';
import { StepConfigError } from '../workDir';
import {
  connect,
  connectionFields,
  mergeCommitNote,
  mergedOutputs,
  oneOfFieldAndFromStep,
  outputOfStep,
  pollIntervalMs,
  pollIntervalSchema,
  prName,
  prNumberSchema,
  reportingScmErrors,
} from './pullRequestSupport';
import type { StepContext, StepDefinition } from './types';

const DEFAULT_POLL_MS = 30_000;

const schema = oneOfFieldAndFromStep(
  z
    .object({
      ...connectionFields,
      prNumber: prNumberSchema.optional(),
      /** Older manifests: the `prNumber` output of an earlier git-open-pr. */
      prNumberFromStep: z.string().min(1).optional(),
      pollInterval: pollIntervalSchema.optional(),
    })
    .strict(),
  'prNumber',
  'prNumberFromStep',
);

/**
 * Waits until a pull request is merged (Succeeded, with the merge commit) or closed without
 * being merged (Failed). While it is open the step reports Running and is looked at again
 * after `pollInterval`, without holding a worker.
 */
export const gitWaitForPr: StepDefinition<z.infer<typeof schema>> = {
  name: 'git-wait-for-pr',
  description: 'Wait for a pull request to be merged; fail if it is closed without being merged.',
  schema,
  async run(ctx, config) {
    const number = config.prNumber ?? numberFromStep(ctx, config.prNumberFromStep!);
    const retryAfterMs = pollIntervalMs(config.pollInterval, DEFAULT_POLL_MS);
    return reportingScmErrors(async () => {
      const provider = await connect(ctx, config);
      const pr = await provider.getPullRequest(number);
      const name = prName(provider, number);
      const outputs = mergedOutputs(pr);
      if (pr.open) {
        return { status: 'Running', message: `waiting for ${name} to be merged: ${pr.url}`, outputs, retryAfterMs };
      }
      if (!pr.merged) {
        return { status: 'Failed', message: `${name} was closed without being merged: ${pr.url}`, outputs };
      }
      return { status: 'Succeeded', message: `${name} was merged${mergeCommitNote(pr)}: ${pr.url}`, outputs };
    });
  },
};

function numberFromStep(ctx: StepContext, alias: string): number {
  // pr.id is what git-open-pr outputs now; prNumber what it output before
  const value = outputOfStep(ctx, 'prNumberFromStep', alias, [['prNumber'], ['pr', 'id']]);
  const number = typeof value === 'string' ? Number(value) : value;
  if (typeof number !== 'number' || !Number.isInteger(number) || number < 1) {
    throw new StepConfigError(`prNumberFromStep: the output of step "${alias}" is not a pull request number`);
  }
  return number;
}
