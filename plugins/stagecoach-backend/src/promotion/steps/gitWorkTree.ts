import { lstatSync, readFileSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import {
  GitAuth,
  GitIdentity,
  GitRunOptions,
  isMissingIdentity,
  runGit,
} from '../../integrations/git/GitCli';
import { explainAuthFailure } from '../../integrations/git/authFailure';
import { checkGitRemote } from '../../integrations/git/gitEgress';
import { EgressRefusedError } from '../../integrations/http/egress';
import { isInside, resolveInWorkDir, StepConfigError } from '../workDir';
import type { StepContext } from './types';

/** Kargo's `author`: who commits (and tags) in a working tree. */
export const authorSchema = z
  .object({
    name: z.string().min(1, 'must not be empty'),
    email: z.string().email('must be an email address'),
    signingKey: z
      .unknown()
      .refine(v => v === undefined, 'signing commits with a key is not supported: remove signingKey (for commits that GitHub shows as verified, push them with github-push, which has GitHub sign them)')
      .optional(),
  })
  .strict();

export type Author = z.infer<typeof authorSchema>;

export function identityOf(author: Author | undefined): GitIdentity | undefined {
  return author ? { name: author.name, email: author.email } : undefined;
}

/** A step's `path` of a working tree in the work directory. */
export const workTreePathSchema = z.string().min(1, 'must not be empty');

/**
 * A branch or tag name from step config: what `git check-ref-format` accepts, and never
 * something git could read as an option (a leading `-`) or a refspec (`:`), so that it can
 * go on git's command line as it is.
 */
export const refNameSchema = (what: 'branch' | 'tag') =>
  z
    .string()
    .refine(v => !v.startsWith('-'), 'must not start with "-" (git would read it as an option)')
    .refine(v => v === '' || isValidRefName(v), `is not a valid Git ${what} name`);

/** git's rules for a ref name (git-check-ref-format(1)), for a branch or tag name without `refs/...`. */
export function isValidRefName(name: string): boolean {
  if (!name || name === '@' || name.startsWith('/') || name.endsWith('/') || name.endsWith('.')) return false;
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x20\x7f~^:?*[\\]|\.\.|@\{|\/\//.test(name)) return false;
  return name.split('/').every(part => !part.startsWith('.') && !part.endsWith('.lock'));
}

/**
 * The configured path of a working tree, which must be one that git-clone checked out: its
 * `.git` is a file naming a repository in the clone store. Anything else (a `.git` folder
 * or file made some other way, a link leading elsewhere) is refused, so git never runs with
 * a repository (config, hooks) that a step could have written.
 */
export function workTreeDir(ctx: StepContext, relative: string, field = 'path'): string {
  const dir = resolveInWorkDir(ctx.workDir, relative, field);
  const notOne = () =>
    new StepConfigError(`${field} "${relative}" is not a Git working tree (check it out with git-clone first)`);
  let gitFile: string;
  try {
    if (!isInside(realpathSync(ctx.workDir), realpathSync(dir)) || !lstatSync(path.join(dir, '.git')).isFile()) {
      throw notOne();
    }
    gitFile = readFileSync(path.join(dir, '.git'), 'utf8');
  } catch (e) {
    if (e instanceof StepConfigError) throw e;
    throw notOne();
  }
  const gitDir = /^gitdir: (.+)$/m.exec(gitFile)?.[1]?.trim();
  const inStore = (() => {
    try {
      return gitDir !== undefined && isInside(realpathSync(ctx.cloneStore), realpathSync(path.resolve(dir, gitDir)));
    } catch {
      return false;
    }
  })();
  if (!inStore) throw notOne();
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

/**
 * Checks a remote against the step's egress policy before git reaches it. A refusal fails
 * the step at once, naming the field and the rule: retrying cannot change the answer.
 */
export async function checkRemote(ctx: Pick<StepContext, 'egress'>, url: string, field: string): Promise<void> {
  try {
    await checkGitRemote(ctx.egress, url);
  } catch (e) {
    if (e instanceof EgressRefusedError) throw new StepConfigError(`${field}: ${e.message}`);
    throw e;
  }
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

/** Rewrites a git error about credentials into one a user can act on (integrations/git/authFailure.ts). */
export { explainAuthFailure };

/** A name usable as a folder: the step's alias may hold `::` (steps of a PromotionTask). */
export function safeName(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]+/g, '_');
}
