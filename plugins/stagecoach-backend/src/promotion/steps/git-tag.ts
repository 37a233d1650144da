import { z } from 'zod';
import { GitError, runGit } from '../../integrations/git/GitCli';
import { StepConfigError } from '../workDir';
import { headCommit, openWorkTree, refNameSchema, runGitAs, workTreePathSchema } from './gitWorkTree';
import { StepDefinition } from './types';

const schema = z
  .object({
    path: workTreePathSchema,
    tag: refNameSchema('tag').refine(t => t !== '', 'must not be empty'),
    /** With a message the tag is annotated (it records who tagged, when and why). */
    message: z.string().min(1, 'must not be empty').optional(),
    /** Moves an existing tag of that name to this commit. */
    force: z.boolean().default(false),
  })
  .strict();

type Config = z.infer<typeof schema>;

/** Tags the working tree's HEAD; git-push with `tag` publishes it. */
export const gitTag: StepDefinition<Config> = {
  name: 'git-tag',
  description: 'Tag the current commit of a working tree (annotated when a message is given).',
  schema,
  async run(ctx, config) {
    const { dir, opts } = openWorkTree(ctx, config.path);
    const args = ['tag', ...(config.force ? ['-f'] : []), ...(config.message ? ['-a', '-m', config.message] : []), '--', config.tag];
    try {
      await runGitAs(ctx, args, opts);
    } catch (e) {
      if (!(e instanceof GitError)) throw e;
      if (/not a valid tag name/i.test(e.stderr)) {
        throw new StepConfigError(`tag "${config.tag}" is not a valid Git tag name`);
      }
      if (/Failed to resolve 'HEAD'|not a valid object name.*HEAD/i.test(e.stderr)) {
        return { status: 'Failed', message: `nothing to tag: ${config.path} has no commits` };
      }
      if (!/already exists/i.test(e.stderr)) throw e;
      return sameTagAgain(dir, config, ctx.signal);
    }
    const commit = await headCommit(opts);
    return {
      status: 'Succeeded',
      message: `tagged ${commit.slice(0, 7)} as ${config.tag}`,
      outputs: { tag: config.tag, commit },
    };
  },
};

/**
 * The tag exists already. On this very commit that is a step run again after a retry: fine.
 * Elsewhere it is a conflict only `force` resolves.
 */
async function sameTagAgain(dir: string, config: Config, signal: AbortSignal) {
  const [tagged, head] = (
    await runGit(['rev-parse', `refs/tags/${config.tag}^{commit}`, 'HEAD'], { cwd: dir, signal })
  )
    .trim()
    .split('\n');
  if (tagged === head) {
    return {
      status: 'Succeeded' as const,
      message: `${config.tag} already tags ${head.slice(0, 7)}`,
      outputs: { tag: config.tag, commit: head },
    };
  }
  return {
    status: 'Failed' as const,
    message: `tag ${config.tag} already exists on commit ${tagged.slice(0, 7)}, not on HEAD (${head.slice(0, 7)}): set force: true to move it`,
  };
}
