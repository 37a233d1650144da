import { z } from 'zod';
import { GitError, runGit } from '../../integrations/git/GitCli';
import { resolveInWorkDir } from '../workDir';
import { StepDefinition } from './types';

const schema = z
  .object({
    path: z.string().min(1),
    targetBranch: z.string().min(1).optional(),
    maxAttempts: z.number().int().min(1).max(50).default(10),
  })
  .strict();

/**
 * Pushes the working tree's commits to the remote branch. When the remote moved meanwhile
 * (another stage pushed to the same branch), it rebases onto it and tries again.
 */
export const gitPush: StepDefinition<z.infer<typeof schema>> = {
  name: 'git-push',
  description: 'Push the commits of a working tree, rebasing and retrying when the remote branch moved.',
  schema,
  async run(ctx, config) {
    const dir = resolveInWorkDir(ctx.workDir, config.path);
    const branch =
      config.targetBranch ?? (await runGit(['rev-parse', '--abbrev-ref', 'HEAD'], { cwd: dir })).trim();
    if (branch === 'HEAD') {
      return {
        status: 'Failed',
        message: `${config.path} is not on a branch (a tag or commit was checked out): set targetBranch`,
      };
    }
    for (let attempt = 1; ; attempt++) {
      try {
        await runGit(['push', '-q', 'origin', `HEAD:refs/heads/${branch}`], { cwd: dir });
        break;
      } catch (e) {
        const rejected = e instanceof GitError && /rejected|non-fast-forward|fetch first/i.test(e.stderr);
        if (!rejected || attempt >= config.maxAttempts) throw e;
        ctx.logger.info(`git-push: ${branch} moved on the remote, rebasing (attempt ${attempt})`);
        await runGit(['fetch', '-q', 'origin', branch], { cwd: dir });
        await runGit(['rebase', '-q', 'FETCH_HEAD'], { cwd: dir, identity: ctx.gitIdentity });
      }
    }
    const commit = (await runGit(['rev-parse', 'HEAD'], { cwd: dir })).trim();
    return { status: 'Succeeded', message: `pushed ${commit.slice(0, 7)} to ${branch}`, outputs: { branch, commit } };
  },
};
