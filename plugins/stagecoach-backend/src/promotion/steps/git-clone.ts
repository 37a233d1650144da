import fs from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { GitAuth, GitError, GitIdentity, runGit } from '../../integrations/git/GitCli';
import { confinedPath, StepConfigError } from '../workDir';
import { checkOrigin, freightCommit, fromOriginSchema } from './freightArtifacts';
import { authFor, authorSchema, checkRemote, explainAuthFailure, identityOf, refNameSchema, safeName } from './gitWorkTree';
import { StepContext, StepDefinition } from './types';

/** Kargo writes "" for "not set" (an expression that evaluated to nothing). */
const optionalName = z
  .string()
  .optional()
  .transform(v => v || undefined);

/** A branch or tag name; "" for not set, as above. */
const optionalRef = (what: 'branch' | 'tag') =>
  refNameSchema(what)
    .optional()
    .transform(v => v || undefined);

const checkoutSchema = z
  .object({
    as: optionalName,
    branch: optionalRef('branch'),
    tag: optionalRef('tag'),
    commit: z
      .string()
      .regex(/^([0-9a-fA-F]{7,64})?$/, 'must be a commit SHA')
      .optional()
      .transform(v => v?.toLowerCase() || undefined),
    create: z.boolean().optional(),
    path: z.string().min(1, 'must not be empty'),
    sparse: z.array(z.string().min(1, 'must not be empty')).min(1, 'needs at least one directory').optional(),
    /** Kargo v1.0–v1.2: check out the freight's commit of repoURL (today's spelling: commit: ${{ commitFrom(repoURL).ID }}). */
    fromFreight: z.boolean().optional(),
    /** With fromFreight: the warehouse whose freight holds that commit. */
    fromOrigin: fromOriginSchema.optional(),
  })
  .strict()
  .superRefine((c, issue) => {
    if ([c.branch, c.tag, c.commit, c.fromFreight].filter(Boolean).length > 1) {
      issue.addIssue({ code: 'custom', message: 'set at most one of branch, tag, commit and fromFreight' });
    }
    if (c.fromOrigin && !c.fromFreight) {
      issue.addIssue({ code: 'custom', path: ['fromOrigin'], message: 'fromOrigin says whose freight fromFreight reads: set fromFreight: true, or remove fromOrigin' });
    }
    if (c.create && (c.tag || c.commit || c.fromFreight)) {
      issue.addIssue({ code: 'custom', path: ['create'], message: 'only a branch can be created: remove tag, commit or fromFreight' });
    }
  });

/**
 * An SSH URL (`git@host:owner/repo.git`, `ssh://...`), as Kargo takes with an SSH key: the
 * message says what to write instead, since Stagecoach speaks Git over HTTPS only.
 */
function sshUrlProblem(url: string): string | undefined {
  const scp = /^[\w.-]+@([\w.-]+):(?!\/\/)(.+)$/.exec(url);
  const ssh = /^ssh:\/\/(?:[^@/]+@)?([^/:]+)(?::\d+)?\/(.+)$/.exec(url);
  const m = scp ?? ssh;
  if (!m) return undefined;
  return (
    `SSH URLs are not supported (Stagecoach speaks Git over HTTPS only): use the repository's HTTPS URL, ` +
    `e.g. https://${m[1]}/${m[2].replace(/^\/+/, '')}, with credentials for ${m[1]} in Backstage's integrations config`
  );
}

const schema = z
  .object({
    repoURL: z.string().superRefine((url, issue) => {
      if (/^https?:\/\//.test(url)) return;
      issue.addIssue({ code: z.ZodIssueCode.custom, message: sshUrlProblem(url) ?? 'must be an http(s) URL of a Git repository' });
    }),
    checkout: z.array(checkoutSchema).min(1, 'needs at least one checkout'),
    author: authorSchema.optional(),
    insecureSkipTLSVerify: z.boolean().optional(),
    blobless: z.boolean().optional(),
    recurseSubmodules: z.boolean().optional(),
  })
  .strict()
  .superRefine((config, issue) => {
    const seen = new Set<string>();
    config.checkout.forEach((c, i) => {
      const key = c.as ?? c.path;
      if (seen.has(key)) {
        issue.addIssue({ code: 'custom', path: ['checkout', i], message: `"${key}" is used by another checkout (path or as)` });
      }
      seen.add(key);
    });
  });

type Config = z.infer<typeof schema>;
type Checkout = Config['checkout'][number];

/** The refs a clone holds that the checkouts name, as `for-each-ref` lists them. */
interface RefTable {
  /** refname -> commit (tags peeled). */
  commits: Map<string, string>;
  /** The branch the remote's HEAD names, when asked for. */
  defaultBranch?: string;
}

/** A failure the user must fix in the repository or the config; the step fails at once. */
class CheckoutProblem extends Error {}

/**
 * Clones a repository once (bare, in the clone store beside the work directory, which no
 * step can write to) and checks
 * out one or more branches, tags or commits, each into its own folder: git worktrees sharing
 * that clone. A missing branch with `create: true` starts as an orphan branch holding one
 * empty commit, pushed by git-push with the rest.
 *
 * The git commands are few on purpose: one clone, one `for-each-ref` to resolve every
 * checkout, one `worktree add` per checkout.
 */
export const gitClone: StepDefinition<Config> = {
  name: 'git-clone',
  description: 'Clone a Git repository and check out branches, tags or commits into folders of the work directory.',
  schema,
  async run(ctx, given) {
    const config = { ...given, checkout: given.checkout.map((c, i) => withFreightCommit(ctx, c, given.repoURL, `checkout[${i}]`)) };
    const targets: string[] = [];
    for (const [i, c] of config.checkout.entries()) {
      targets.push(await confinedPath(ctx.workDir, c.path, `checkout[${i}].path`, { writes: true }));
    }
    const repoDir = path.join(ctx.cloneStore, safeName(ctx.alias));
    await checkRemote(ctx, config.repoURL, 'repoURL');
    await prepareFolders(repoDir, targets, config.checkout);
    const auth = await authFor(ctx, config.repoURL);
    const identity = identityOf(config.author) ?? ctx.gitIdentity;
    try {
      await clone(ctx, config, repoDir, identity, auth);
      const refs = await readRefs(repoDir, config.checkout, ctx.signal);
      const commits: Record<string, string> = {};
      const done: string[] = [];
      for (let i = 0; i < config.checkout.length; i++) {
        const c = config.checkout[i];
        const one = { repoDir, target: targets[i], refs, identity, auth, signal: ctx.signal, repoURL: config.repoURL };
        const { commit, what } = await checkOut(c, one);
        if (config.recurseSubmodules) await updateSubmodules(ctx, one);
        commits[c.as ?? c.path] = commit;
        done.push(`${c.path} at ${what} (${commit.slice(0, 7)})`);
      }
      return { status: 'Succeeded', message: `cloned ${config.repoURL}: ${done.join(', ')}`, outputs: { commits } };
    } catch (e) {
      if (e instanceof CheckoutProblem) return { status: 'Failed', message: e.message };
      throw explainAuthFailure(e, config.repoURL, auth);
    }
  },
};

/** A checkout with fromFreight checks out the commit of the freight being promoted. */
function withFreightCommit(ctx: StepContext, c: Checkout, repoURL: string, field: string): Checkout {
  if (!c.fromFreight) return c;
  checkOrigin(ctx.freight, c.fromOrigin, field);
  return { ...c, commit: freightCommit(ctx.freight, repoURL, `${field}.fromFreight`).id };
}

/**
 * Makes room for the clone and its worktrees. A step retried in the same work directory
 * finds its own earlier clone and worktrees: they are removed. Anything else in a target
 * folder is the user's, and is refused.
 */
async function prepareFolders(repoDir: string, targets: string[], checkouts: Checkout[]) {
  for (let i = 0; i < targets.length; i++) {
    const entries = await fs.readdir(targets[i]).catch(() => [] as string[]);
    if (entries.length === 0) continue;
    const gitFile = await fs.readFile(path.join(targets[i], '.git'), 'utf8').catch(() => '');
    if (!gitFile.includes(`${repoDir}${path.sep}worktrees${path.sep}`)) {
      throw new StepConfigError(`checkout[${i}].path "${checkouts[i].path}" already exists and is not empty`);
    }
    await fs.rm(targets[i], { recursive: true, force: true });
  }
  await fs.rm(repoDir, { recursive: true, force: true });
  await fs.mkdir(path.dirname(repoDir), { recursive: true });
}

/**
 * A bare clone: every remote branch becomes a local branch that a worktree can check out
 * directly. The identity (and the TLS choice) go into the clone's config, so that later
 * git-commit, git-tag and git-push steps use them too.
 */
async function clone(ctx: StepContext, config: Config, repoDir: string, identity: GitIdentity, auth?: GitAuth) {
  const settings = [`user.name=${identity.name}`, `user.email=${identity.email}`];
  if (config.insecureSkipTLSVerify) settings.push(`http.${config.repoURL}.sslVerify=false`);
  await runGit(
    [
      'clone',
      '-q',
      '--bare',
      ...(config.blobless ? ['--filter=blob:none'] : []),
      ...settings.flatMap(s => ['-c', s]),
      '--',
      config.repoURL,
      repoDir,
    ],
    { auth, signal: ctx.signal, timeoutMs: 600_000 },
  );
}

/** One `for-each-ref` for every branch and tag the checkouts name (and the default branch). */
async function readRefs(repoDir: string, checkouts: Checkout[], signal: AbortSignal): Promise<RefTable> {
  const patterns = new Set<string>();
  for (const c of checkouts) {
    if (c.branch) patterns.add(`refs/heads/${c.branch}`);
    else if (c.tag) patterns.add(`refs/tags/${c.tag}`);
    else if (!c.commit) patterns.add('refs/heads/');
  }
  const table: RefTable = { commits: new Map() };
  if (!patterns.size) return table;
  const out = await runGit(
    ['for-each-ref', '--format=%(HEAD)%09%(refname)%09%(objectname)%09%(*objectname)', ...patterns],
    { cwd: repoDir, signal },
  );
  for (const line of out.split('\n')) {
    const [head, ref, commit, peeled] = line.split('\t');
    if (!ref) continue;
    table.commits.set(ref, peeled || commit);
    if (head === '*' && ref.startsWith('refs/heads/')) table.defaultBranch = ref.slice('refs/heads/'.length);
  }
  return table;
}

interface CheckoutPlace {
  repoDir: string;
  target: string;
  refs: RefTable;
  identity: GitIdentity;
  auth?: GitAuth;
  signal: AbortSignal;
  repoURL: string;
}

async function checkOut(c: Checkout, p: CheckoutPlace): Promise<{ commit: string; what: string }> {
  if (c.tag) {
    const commit = p.refs.commits.get(`refs/tags/${c.tag}`);
    if (!commit) throw new CheckoutProblem(`tag "${c.tag}" does not exist in ${p.repoURL}`);
    await addWorktree(p, c, ['--detach', '--', p.target, `refs/tags/${c.tag}`]);
    return { commit, what: `tag ${c.tag}` };
  }
  if (c.commit) return checkOutCommit(c, c.commit, p);
  const branch = c.branch ?? p.refs.defaultBranch;
  if (!branch) {
    throw new CheckoutProblem(
      `${p.repoURL} has no default branch (it is empty): name the branch to create with checkout.branch and create: true`,
    );
  }
  const commit = p.refs.commits.get(`refs/heads/${branch}`);
  if (commit) {
    await addWorktree(p, c, ['--', p.target, branch]);
    return { commit, what: `branch ${branch}` };
  }
  if (!c.create) {
    throw new CheckoutProblem(
      `branch "${branch}" does not exist in ${p.repoURL}: set create: true on its checkout to start it as a new, empty branch`,
    );
  }
  return { commit: await createOrphan(p, branch), what: `new branch ${branch}` };
}

async function checkOutCommit(c: Checkout, sha: string, p: CheckoutPlace): Promise<{ commit: string; what: string }> {
  try {
    await addWorktree(p, c, ['--detach', '--', p.target, `${sha}^{commit}`]);
  } catch (e) {
    if (e instanceof GitError && /invalid reference|not a valid|unknown revision/i.test(e.stderr)) {
      throw new CheckoutProblem(`commit ${sha} is not in ${p.repoURL}`);
    }
    throw e;
  }
  const commit = /^[0-9a-f]{40}$|^[0-9a-f]{64}$/.test(sha)
    ? sha
    : (await runGit(['rev-parse', 'HEAD'], { cwd: p.target, signal: p.signal })).trim();
  return { commit, what: `commit ${sha.slice(0, 12)}` };
}

/** `git worktree add`, sparse when asked: then the files appear only after the sparse patterns are set. */
async function addWorktree(p: CheckoutPlace, c: Checkout, args: string[]) {
  const opts = { cwd: p.repoDir, auth: p.auth, signal: p.signal, timeoutMs: 600_000 };
  if (!c.sparse) {
    await runGit(['worktree', 'add', '-q', ...args], opts);
    return;
  }
  await runGit(['worktree', 'add', '-q', '--no-checkout', ...args], opts);
  const inTree = { ...opts, cwd: p.target };
  await runGit(['sparse-checkout', 'set', '--cone', '--', ...c.sparse], inTree);
  await runGit(['checkout', '-q'], inTree);
}

/**
 * A branch that does not exist yet, with no history of the default branch: one empty commit
 * (made without a working tree, so it works in an empty repository too) that the worktree
 * then checks out as the new branch.
 */
async function createOrphan(p: CheckoutPlace, branch: string): Promise<string> {
  const opts = { cwd: p.repoDir, identity: p.identity, signal: p.signal };
  const emptyTree = (await runGit(['hash-object', '-t', 'tree', '-w', '/dev/null'], opts)).trim();
  const commit = (
    await runGit(['commit-tree', emptyTree, '-m', `Start branch ${branch}`], opts)
  ).trim();
  await runGit(['worktree', 'add', '-q', '-b', branch, '--', p.target, commit], opts);
  return commit;
}

/** How deep submodules may nest. */
const MAX_SUBMODULE_DEPTH = 8;

/**
 * Submodules take the repository's credentials when they live on the same host, the way
 * a user who can read the repository is expected to read its submodules. Their URLs come
 * from the repository (`.gitmodules`), so each passes the egress policy before git fetches
 * it: one level at a time, `submodule init` (which resolves relative URLs) before the check.
 */
async function updateSubmodules(ctx: StepContext, p: CheckoutPlace, dir = p.target, depth = 0): Promise<void> {
  if (depth > MAX_SUBMODULE_DEPTH) {
    throw new CheckoutProblem(`submodules of ${p.repoURL} nest more than ${MAX_SUBMODULE_DEPTH} levels deep`);
  }
  const auth = p.auth && { ...p.auth, url: `${new URL(p.repoURL).origin}/` };
  const opts = { cwd: dir, signal: p.signal };
  await runGit(['submodule', '--quiet', 'init'], opts);
  const urls = await configEntries(['--get-regexp', '^submodule\\..*\\.url$'], opts);
  const paths = await configEntries(['--file', '.gitmodules', '--get-regexp', '^submodule\\..*\\.path$'], opts);
  for (const [key, url] of urls) {
    await checkRemote(ctx, url, `the submodule ${key.slice('submodule.'.length, -'.url'.length)} of ${p.repoURL}`);
  }
  if (urls.length === 0) return;
  await runGit(['submodule', 'update', '-q'], { ...opts, auth, timeoutMs: 600_000 });
  for (const [, relative] of paths) {
    const sub = path.resolve(dir, relative);
    // only a submodule git checked out: a working tree of its own, inside this one
    const gitFile = await fs.lstat(path.join(sub, '.git')).catch(() => undefined);
    if (path.relative(dir, sub).startsWith('..') || !gitFile?.isFile()) continue;
    await updateSubmodules(ctx, p, sub, depth + 1);
  }
}

/** `git config --get-regexp` as [key, value] pairs; none when nothing matches (git's exit code 1). */
async function configEntries(args: string[], opts: { cwd: string; signal: AbortSignal }): Promise<[string, string][]> {
  let out: string;
  try {
    out = await runGit(['config', ...args], opts);
  } catch (e) {
    if (e instanceof GitError && e.exitCode === 1) return [];
    throw e;
  }
  return out
    .split('\n')
    .filter(Boolean)
    .map(line => {
      const space = line.indexOf(' ');
      return space === -1 ? [line, ''] : [line.slice(0, space), line.slice(space + 1)];
    });
}
