import { z } from 'zod';
import { runGit } from '../../integrations/git/GitCli';
import { resolveInWorkDir } from '../workDir';
import { StepDefinition } from './types';

const schema = z
  .object({
    path: z.string().min(1),
    message: z.string().min(1, 'must not be empty'),
  })
  .strict();

/** Commits every change in a working tree. With nothing to commit it succeeds and commits nothing. */
export const gitCommit: StepDefinition<z.infer<typeof schema>> = {
  name: 'git-commit',
  description: 'Commit all changes in a working tree of the work directory.',
  schema,
  async run(ctx, config) {
    const dir = resolveInWorkDir(ctx.workDir, config.path);
    await runGit(['add', '-A'], { cwd: dir });
    const changed = (await runGit(['status', '--porcelain'], { cwd: dir })).trim();
    if (!changed) {
      const head = (await runGit(['rev-parse', 'HEAD'], { cwd: dir })).trim();
      return { status: 'Succeeded', message: 'nothing to commit: the files already had these values', outputs: { commit: head } };
    }
    await runGit(['commit', '-q', '-m', config.message], { cwd: dir, identity: ctx.gitIdentity });
    const commit = (await runGit(['rev-parse', 'HEAD'], { cwd: dir })).trim();
    return { status: 'Succeeded', message: `committed ${commit.slice(0, 7)}`, outputs: { commit } };
  },
};
