import fs from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { runGit } from '../../integrations/git/GitCli';
import { resolveInWorkDir } from '../workDir';
import { StepDefinition } from './types';

const checkoutSchema = z
  .object({
    branch: z.string().min(1).optional(),
    tag: z.string().min(1).optional(),
    commit: z.string().regex(/^[0-9a-f]{7,64}$/, 'must be a commit SHA').optional(),
    path: z.string().min(1),
  })
  .strict()
  .refine(c => [c.branch, c.tag, c.commit].filter(Boolean).length <= 1, {
    message: 'set at most one of branch, tag and commit',
  });

const schema = z
  .object({
    repoURL: z.string().regex(/^https?:\/\//, 'must be an http(s) URL of a Git repository'),
    checkout: z.array(checkoutSchema).min(1, 'needs at least one checkout'),
  })
  .strict();

/**
 * Clones a repository once and checks out one or more branches, tags or commits, each
 * into its own folder (git worktrees sharing one clone).
 */
export const gitClone: StepDefinition<z.infer<typeof schema>> = {
  name: 'git-clone',
  description: 'Clone a Git repository and check out branches, tags or commits into folders of the work directory.',
  schema,
  async run(ctx, config) {
    const repoDir = path.join(ctx.workDir, '.stagecoach', 'repos', `${ctx.alias}`);
    await fs.mkdir(path.dirname(repoDir), { recursive: true });
    await runGit(['clone', '-q', '--no-checkout', config.repoURL, repoDir]);
    const defaultBranchName = await defaultBranch(repoDir);
    // leave the shared clone on an unborn branch, so every branch can go to a worktree
    await runGit(['symbolic-ref', 'HEAD', 'refs/heads/stagecoach-no-checkout'], { cwd: repoDir });
    const commits: Record<string, string> = {};
    for (const c of config.checkout) {
      const target = resolveInWorkDir(ctx.workDir, c.path, 'checkout.path');
      if (c.tag) {
        await runGit(['worktree', 'add', '-q', '--detach', target, `refs/tags/${c.tag}`], { cwd: repoDir });
      } else if (c.commit) {
        await runGit(['worktree', 'add', '-q', '--detach', target, c.commit], { cwd: repoDir });
      } else {
        const branch = c.branch ?? defaultBranchName;
        await runGit(['worktree', 'add', '-q', '-B', branch, target, `origin/${branch}`], { cwd: repoDir });
        await runGit(['branch', '-q', `--set-upstream-to=origin/${branch}`, branch], { cwd: target });
      }
      commits[c.path] = (await runGit(['rev-parse', 'HEAD'], { cwd: target })).trim();
    }
    return {
      status: 'Succeeded',
      message: `cloned ${config.repoURL} into ${config.checkout.map(c => c.path).join(', ')}`,
      outputs: { commits },
    };
  },
};

async function defaultBranch(repoDir: string): Promise<string> {
  const head = await runGit(['symbolic-ref', '--short', 'refs/remotes/origin/HEAD'], { cwd: repoDir }).catch(
    () => 'origin/main',
  );
  return head.trim().replace(/^origin\//, '');
}
