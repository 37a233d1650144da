import { existsSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import {
  GitAuth,
  GitIdentity,
  GitRunOptions,
  isAuthFailure,
  isMissingIdentity,
  runGit,
} from '../../integrations/git/GitCli';
import { resolveInWorkDir, StepConfigError } from '../workDir';
import type { StepContext } from './types';

/** Kargo's `author`: who commits (and tags) in a working tree. */
export const authorSchema = z
  .object({
    name: z.string().min(1, 'must not be empty'),
    email: z.string().email('must be an email address'),
    signingKey: z
      .unknown()
      .refine(v => v === undefined, 'signing commits is not supported: remove signingKey')
      .optional(),
  })
  .strict();

export type Author = z.infer<typeof authorSchema>;

export function identityOf(author: Author | undefined): GitIdentity | undefined {
  return author ? { name: author.name, email: author.email } : undefined;
}

/** A step's `path` of a working tree in the work directory. */
export const workTreePathSchema = z.string().min(1, 'must not be empty');

/** The configured path of a working tree, which must be one (a folder with `.git`). */
export function workTreeDir(ctx: StepContext, relative: string, field = 'path'): string {
  const dir = resolveInWorkDir(ctx.workDir, relative, field);
  if (!existsSync(path.join(dir, '.git'))) {
    throw new StepConfigError(`${field} "${relative}" is not a Git working tree (check it out with git-clone first)`);
  }
  return dir;
}

/** A working tree a step runs git in: its folder, and the options for git there (the step's abort signal). */
export function openWorkTree(ctx: StepContext, relative: string): { dir: string; opts: { cwd: string; signal: AbortSignal } } {
  const dir = workTreeDir(ctx, relative);
  return { dir, opts: { cwd: dir, signal: ctx.signal } };
}

/** The full SHA of the commit checked out. */
export async function headCommit(opts: GitRunOptions): Promise<string> {
  return (await runGit(['rev-parse', 'HEAD'], opts)).trim();
}

/** The credentials configured for a repository URL, in the form runGit takes them. */
export async function authFor(ctx: StepContext, url: string): Promise<GitAuth | undefined> {
  const credentials = await ctx.credentials.git(url);
  return credentials ? { url, credentials } : undefined;
}

/**
 * Runs a git command that records an identity (commit, annotated tag, rebase): `explicit`
 * when the step names an author, else the repository's own (git-clone's `author`, or the
 * promotion's identity, which git-clone writes into the clone), else the promotion's.
 */
export async function runGitAs(
  ctx: StepContext,
  args: string[],
  options: GitRunOptions & { explicit?: GitIdentity },
): Promise<string> {
  const { explicit, ...rest } = options;
  if (explicit) return runGit(args, { ...rest, identity: explicit });
  try {
    return await runGit(args, { ...rest, identity: 'repository' });
  } catch (e) {
    if (!isMissingIdentity(e)) throw e;
    return runGit(args, { ...rest, identity: ctx.gitIdentity });
  }
}

/**
 * Rewrites a git error that is about credentials into one a user can act on; other errors
 * pass through. Neither form carries a secret.
 */
export function explainAuthFailure(e: unknown, url: string, auth: GitAuth | undefined): unknown {
  if (!isAuthFailure(e)) return e;
  return new Error(
    auth
      ? `${url} refused the configured credentials: check the token and its permissions in the integrations config`
      : `${url} requires credentials and none are configured for it: add an integration for its host to app-config.yaml`,
  );
}

/** A name usable as a folder: the step's alias may hold `::` (steps of a PromotionTask). */
export function safeName(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]+/g, '_');
}
