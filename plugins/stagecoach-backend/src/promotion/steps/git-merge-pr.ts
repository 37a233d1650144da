import { z } from 'zod';
import { StepConfigError } from '../workDir';
import {
  connect,
  connectionFields,
  mergeCommitNote,
  mergedOutputs,
  pollIntervalMs,
  pollIntervalSchema,
  prName,
  prNumberSchema,
  reportingScmErrors,
} from './pullRequestSupport';
import { StepDefinition } from './types';

const DEFAULT_POLL_MS = 10_000;

const schema = z
  .object({
    ...connectionFields,
    prNumber: prNumberSchema,
    mergeMethod: z.string().min(1).optional(),
    wait: z.boolean().default(false),
    pollInterval: pollIntervalSchema.optional(),
  })
  .strict();

/**
 * Merges a pull request. One that cannot be merged yet (checks running, approvals missing)
 * fails the step, or with `wait: true` keeps it Running until it can be. One that is
 * already merged (a retried promotion) succeeds with its merge commit.
 */
export const gitMergePr: StepDefinition<z.infer<typeof schema>> = {
  name: 'git-merge-pr',
  description: 'Merge a pull request, optionally waiting until it can be merged.',
  schema,
  async run(ctx, config) {
    return reportingScmErrors(async () => {
      const provider = await connect(ctx, config);
      if (config.mergeMethod && !provider.mergeMethods.includes(config.mergeMethod)) {
        throw new StepConfigError(
          `mergeMethod "${config.mergeMethod}" is not a ${provider.label} merge method (${provider.mergeMethods.join(', ')})`,
        );
      }
      const name = prName(provider, config.prNumber);
      const attempt = await provider.mergePullRequest(config.prNumber, config.mergeMethod);
      if (attempt.merged) {
        const { pr } = attempt;
        return { status: 'Succeeded', message: `merged ${name}${mergeCommitNote(pr)}`, outputs: mergedOutputs(pr) };
      }
      if (config.wait && !attempt.final) {
        return {
          status: 'Running',
          message: `${name} cannot be merged yet: ${attempt.reason}`,
          retryAfterMs: pollIntervalMs(config.pollInterval, DEFAULT_POLL_MS),
        };
      }
      const hint = attempt.final ? '' : '; set wait: true to wait until it can be';
      return { status: 'Failed', message: `${name} cannot be merged: ${attempt.reason}${hint}` };
    });
  },
};
