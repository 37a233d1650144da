import { z } from 'zod';
import { GitError, runGit } from '../../integrations/git/GitCli';
import { StepConfigError } from '../workDir';
import { authorSchema, headCommit, identityOf, openWorkTree, runGitAs, workTreePathSchema } from './gitWorkTree';
import { StepContext, StepDefinition, StepResult } from './types';

const schema = z
  .object({
    path: workTreePathSchema,
    message: z.string().min(1, 'must not be empty').optional(),
    /** Older manifests: the message is made of these earlier steps' `commitMessage` outputs. */
    messageFromSteps: z.array(z.string().min(1, 'must not be empty')).min(1, 'needs at least one step alias').optional(),
    /** Deprecated in Kargo in favour of git-clone's `author`; still honoured. */
    author: authorSchema.optional(),
  })
  .strict()
  .superRefine((c, issue) => {
    if (c.message === undefined && c.messageFromSteps === undefined) {
      issue.addIssue({ code: 'custom', path: ['message'], message: 'is required (or, in older manifests, messageFromSteps)' });
    }
    if (c.message !== undefined && c.messageFromSteps !== undefined) {
      issue.addIssue({ code: 'custom', path: ['messageFromSteps'], message: 'set either message or messageFromSteps, not both' });
    }
  });

type Config = z.infer<typeof schema>;

/**
 * Commits every change (new, changed and deleted files) in a working tree. With nothing to
 * commit it succeeds with the current HEAD, so promoting the same freight twice makes no
 * empty commit.
 */
export const gitCommit: StepDefinition<Config> = {
  name: 'git-commit',
  description: 'Commit all changes in a working tree of the work directory.',
  schema,
  async run(ctx, config) {
    const { dir, opts } = openWorkTree(ctx, config.path);
    const message = config.message ?? messageFromSteps(ctx, config.messageFromSteps ?? []);
    await runGit(['add', '-A'], opts);
    let summary: string;
    try {
      // core.abbrev=no: the summary line names the full SHA of the new commit
      summary = await runGitAs(ctx, ['-c', 'core.abbrev=no', 'commit', '--no-verify', '-m', message], {
        ...opts,
        explicit: identityOf(config.author),
      });
    } catch (e) {
      if (e instanceof GitError && e.exitCode === 1 && /nothing( added)? to commit/.test(e.stdout)) {
        return nothingToCommit(config.path, dir, ctx.signal);
      }
      throw e;
    }
    const commit = /^\[[^\]]*?\b([0-9a-f]{40}|[0-9a-f]{64})\]/.exec(summary)?.[1] ?? (await headCommit(opts));
    return { status: 'Succeeded', message: `committed ${commit.slice(0, 7)}`, outputs: { commit } };
  },
};

async function nothingToCommit(given: string, dir: string, signal: AbortSignal): Promise<StepResult> {
  const head = await runGit(['rev-parse', '-q', '--verify', 'HEAD'], { cwd: dir, signal }).catch(() => '');
  if (!head.trim()) return { status: 'Succeeded', message: `nothing to commit, and ${given} has no commits yet` };
  return {
    status: 'Succeeded',
    message: `nothing to commit: ${given} already had these changes (HEAD ${head.trim().slice(0, 7)})`,
    outputs: { commit: head.trim() },
  };
}

/**
 * The `commitMessage` outputs of the named steps: one is the message as it is, several are
 * listed under a summary line.
 */
function messageFromSteps(ctx: StepContext, aliases: string[]): string {
  const parts: string[] = [];
  for (const alias of aliases) {
    const outputs = ctx.outputs[alias];
    if (!outputs) {
      throw new StepConfigError(`messageFromSteps: no earlier step has the alias "${alias}"`);
    }
    const part = outputs.commitMessage;
    if (typeof part === 'string' && part.trim()) parts.push(part.trim());
  }
  if (!parts.length) {
    throw new StepConfigError(
      `messageFromSteps: none of the steps ${aliases.map(a => `"${a}"`).join(', ')} has a commitMessage output`,
    );
  }
  if (parts.length === 1) return parts[0];
  return `Stagecoach applied ${parts.length} changes\n\n${parts.join('\n\n')}`;
}
