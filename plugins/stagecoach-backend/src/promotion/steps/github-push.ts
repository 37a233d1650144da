import { z } from 'zod';
import { GitAuth, GitError, runGit, runGitBytes } from '../../integrations/git/GitCli';
import { connectGithubGitData, GithubGitData, TreeChange } from '../../integrations/scm/githubGitData';
import { generatedBranch } from './git-push';
import { authFor, checkRemote, explainAuthFailure, openWorkTree, refNameSchema, runGitAs, workTreePathSchema } from './gitWorkTree';
import { reportingScmErrors } from './pullRequestSupport';
import { StepContext, StepDefinition, StepResult } from './types';

/** The tree of no files, which every Git repository (GitHub's too) knows without storing it. */
const EMPTY_TREE = '4b825dc642cb6eb9a060e54bf8d69288fbee4904';

const schema = z
  .object({
    path: workTreePathSchema,
    targetBranch: refNameSchema('branch')
      .optional()
      .transform(v => v || undefined),
    /** Push to a branch of this promotion's own (`stagecoach/promotion/<id>`), e.g. for a pull request. */
    generateTargetBranch: z.boolean().optional(),
    force: z.boolean().default(false),
    maxAttempts: z.number().int().min(1).max(1000).default(10),
    insecureSkipTLSVerify: z.boolean().default(false),
  })
  .strict()
  .superRefine((c, issue) => {
    if (c.targetBranch && c.generateTargetBranch) {
      issue.addIssue({ code: 'custom', path: ['generateTargetBranch'], message: 'set at most one of targetBranch and generateTargetBranch' });
    }
  });

type Config = z.infer<typeof schema>;

interface Place {
  dir: string;
  origin: string;
  branch: string;
  auth?: GitAuth;
  api: GithubGitData;
}

/**
 * Pushes the commits of a working tree through GitHub's API instead of git: each local
 * commit is created again on GitHub (its files as blobs, its tree, the commit without an
 * author, so that GitHub signs it and marks it verified), then the branch is moved to the
 * last one. When the branch moved meanwhile, the local commits are rebased onto it and
 * created again, up to maxAttempts times.
 */
export const githubPush: StepDefinition<Config> = {
  name: 'github-push',
  description: "Push a working tree's commits through GitHub's API, so that GitHub marks them as verified.",
  schema,
  async run(ctx, config) {
    const { dir, opts } = openWorkTree(ctx, config.path);
    const origin = (await runGit(['remote', 'get-url', 'origin'], opts)).trim();
    const current = (await runGit(['rev-parse', '--abbrev-ref', 'HEAD'], opts).catch(() => '')).trim();
    if (!current) return { status: 'Failed', message: `nothing to push: ${config.path} has no commits` };
    const branch = config.targetBranch ?? (config.generateTargetBranch ? generatedBranch(ctx.promotionId) : current);
    if (branch === 'HEAD') {
      return { status: 'Failed', message: `${config.path} is not on a branch (a tag or commit was checked out): set targetBranch` };
    }
    await checkRemote(ctx, origin, `the origin of ${config.path}`);
    const auth = await authFor(ctx, origin);
    return reportingScmErrors(async () => {
      const api = await connectGithubGitData({
        repoURL: origin,
        credentials: ctx.credentials,
        egress: ctx.egress,
        signal: ctx.signal,
        insecureSkipTLSVerify: config.insecureSkipTLSVerify,
      });
      try {
        return await pushWithRetries(ctx, config, { dir, origin, branch, auth, api }, current);
      } catch (e) {
        throw explainAuthFailure(e, origin, auth);
      }
    });
  },
};

type Git = (args: string[]) => Promise<string>;

/** Whether the local repository has this commit. */
const hasCommit = (git: Git, sha: string) => git(['cat-file', '-e', `${sha}^{commit}`]).then(() => true, () => false);

async function pushWithRetries(ctx: StepContext, config: Config, p: Place, current: string): Promise<StepResult> {
  const git = (args: string[]) => runGit(args, { cwd: p.dir, signal: ctx.signal });
  for (let attempt = 1; ; attempt++) {
    const remoteHead = await p.api.branchHead(p.branch);
    if (remoteHead && !(await hasCommit(git, remoteHead))) await fetchBranch(ctx, p);
    const before = (await git(['rev-parse', 'HEAD'])).trim();
    // each attempt first brings what GitHub has under the local commits (unless force)
    if (remoteHead && !config.force && remoteHead !== before && !(await isAncestor(git, remoteHead, before))) {
      if (await isAncestor(git, before, remoteHead)) return alreadyThere(p, remoteHead);
      ctx.logger.info(`github-push: ${p.branch} moved on GitHub, rebasing (attempt ${attempt})`);
      const conflict = await rebaseOnto(ctx, p, remoteHead);
      if (conflict) return { status: 'Failed', message: conflict };
    }
    if (remoteHead === (await git(['rev-parse', 'HEAD'])).trim()) return alreadyThere(p, remoteHead!);
    const replayed = await replay(ctx, p, await knownToGithub(ctx, p, remoteHead));
    const outcome = remoteHead
      ? await p.api.updateBranch(p.branch, replayed.head, config.force)
      : await p.api.createBranch(p.branch, replayed.head);
    if (outcome === 'done') {
      const synced = p.branch === current ? await syncLocal(ctx, p, replayed.head) : true;
      return {
        status: 'Succeeded',
        message: [
          `pushed ${replayed.count} commit${replayed.count === 1 ? '' : 's'} to ${p.branch} of ${p.api.repository} through GitHub's API`,
          ` as ${replayed.head.slice(0, 7)}${attempt > 1 ? ` (attempt ${attempt})` : ''}`,
          synced ? '' : `; the working tree still has the local commits (fetching ${p.branch} failed)`,
        ].join(''),
        outputs: { branch: p.branch, commit: replayed.head, ...(replayed.url ? { commitURL: replayed.url } : {}) },
      };
    }
    if (attempt >= config.maxAttempts) {
      return {
        status: 'Failed',
        message: `${p.branch} of ${p.api.repository} kept moving on GitHub: gave up after ${attempt} attempts (maxAttempts); nothing was pushed`,
      };
    }
    ctx.logger.info(`github-push: ${p.branch} moved on GitHub while pushing (attempt ${attempt}), trying again`);
  }
}

function alreadyThere(p: Place, commit: string): StepResult {
  return {
    status: 'Succeeded',
    message: `${p.branch} of ${p.api.repository} already has ${commit.slice(0, 7)}: nothing pushed`,
    outputs: { branch: p.branch, commit },
  };
}



async function isAncestor(git: Git, ancestor: string, of: string): Promise<boolean> {
  try {
    await git(['merge-base', '--is-ancestor', ancestor, of]);
    return true;
  } catch (e) {
    if (e instanceof GitError && e.exitCode === 1) return false;
    throw e;
  }
}

async function fetchBranch(ctx: StepContext, p: Place): Promise<string> {
  await runGit(['fetch', '-q', '--', 'origin', `refs/heads/${p.branch}`], {
    cwd: p.dir,
    auth: p.auth,
    signal: ctx.signal,
    timeoutMs: 600_000,
  });
  return (await runGit(['rev-parse', 'FETCH_HEAD'], { cwd: p.dir, signal: ctx.signal })).trim();
}

/** Puts the local commits on top of the branch's new head; a message when they conflict. */
async function rebaseOnto(ctx: StepContext, p: Place, onto: string): Promise<string | undefined> {
  const opts = { cwd: p.dir, signal: ctx.signal };
  try {
    await runGitAs(ctx, ['rebase', '-q', '--no-keep-empty', onto], opts);
    return undefined;
  } catch (e) {
    await runGit(['rebase', '--abort'], opts).catch(() => undefined);
    const text = e instanceof GitError ? `${e.stdout}\n${e.stderr}` : '';
    if (!/conflict|could not apply/i.test(text)) throw e;
    const files = [...text.matchAll(/Merge conflict in (.+)$/gm)].map(m => m[1].trim());
    return (
      `${p.branch} of ${p.api.repository} changed ${files.length ? files.join(', ') : 'the same files'} in a way ` +
      "that conflicts with this promotion's commits: nothing was pushed"
    );
  }
}

/**
 * The commits GitHub has that the local history may build on: the heads of its branches
 * (those this clone has), read with `git ls-remote`, and the branch's head.
 */
async function knownToGithub(ctx: StepContext, p: Place, remoteHead: string | undefined): Promise<string[]> {
  const git = (args: string[]) => runGit(args, { cwd: p.dir, signal: ctx.signal });
  const listed = await runGit(['ls-remote', '--heads', '--', 'origin'], { cwd: p.dir, auth: p.auth, signal: ctx.signal, timeoutMs: 600_000 });
  const heads = new Set(listed.split('\n').map(l => l.split('\t')[0]).filter(s => /^[0-9a-f]{40,64}$/.test(s)));
  if (remoteHead) heads.add(remoteHead);
  const known: string[] = [];
  for (const sha of heads) if (await hasCommit(git, sha)) known.push(sha);
  return known;
}

interface Replayed {
  head: string;
  count: number;
  url?: string;
}

/**
 * Creates on GitHub every commit of HEAD that GitHub does not have, oldest first, each on
 * its parents' new counterparts. A tree GitHub builds must be the local commit's tree, to
 * the hash: the files pushed are exactly the files committed.
 */
async function replay(ctx: StepContext, p: Place, known: string[]): Promise<Replayed> {
  const git = (args: string[]) => runGit(args, { cwd: p.dir, signal: ctx.signal });
  const list = await git(['rev-list', '--reverse', '--topo-order', 'HEAD', ...(known.length ? ['--not', ...known] : [])]);
  const commits = list.split('\n').filter(Boolean);
  const head = (await git(['rev-parse', 'HEAD'])).trim();
  if (commits.length === 0) return { head, count: 0 }; // GitHub has HEAD already (another branch's head)
  const created = new Map<string, string>();
  const uploaded = new Map<string, string>();
  let url: string | undefined;
  for (const commit of commits) {
    const [, ...parents] = (await git(['rev-list', '--parents', '-n', '1', commit])).trim().split(' ');
    const tree = (await git(['rev-parse', `${commit}^{tree}`])).trim();
    const newTree = await replayTree(ctx, p, commit, parents[0], tree, uploaded);
    if (newTree !== tree) {
      throw new Error(`GitHub built tree ${newTree} for commit ${commit.slice(0, 7)}, whose tree is ${tree}: nothing was pushed`);
    }
    const [name, email, body] = (await git(['show', '-s', '--format=%an%x00%ae%x00%B', commit])).split('\0');
    const made = await p.api.createCommit({
      message: withCoAuthor(body.replace(/\n+$/, ''), name, email, ctx),
      tree,
      parents: parents.map(sha => created.get(sha) ?? sha),
    });
    created.set(commit, made.sha);
    url = made.url;
  }
  return { head: created.get(head)!, count: commits.length, url };
}

/**
 * The commit's author goes into a `Co-authored-by` trailer: the commit itself has none, so
 * that GitHub attributes it to the identity pushing and signs it. The promotion's own
 * identity is left out (it is the identity pushing).
 */
function withCoAuthor(message: string, name: string, email: string, ctx: StepContext): string {
  if (!email || email === ctx.gitIdentity.email) return message;
  const trailer = `Co-authored-by: ${name} <${email}>`;
  if (message.includes(trailer)) return message;
  return /\n[A-Za-z-]+: .+$/.test(message) ? `${message}\n${trailer}` : `${message}\n\n${trailer}`;
}

/** The commit's tree on GitHub: its parent's tree with what changed (files uploaded once each). */
async function replayTree(
  ctx: StepContext,
  p: Place,
  commit: string,
  parent: string | undefined,
  tree: string,
  uploaded: Map<string, string>,
): Promise<string> {
  const git = (args: string[]) => runGit(args, { cwd: p.dir, signal: ctx.signal });
  if (tree === EMPTY_TREE) return tree;
  const changes: TreeChange[] = [];
  let base: string | undefined;
  const upload = async (mode: string, sha: string, file: string) => {
    if (mode === '160000') return changes.push({ path: file, mode, type: 'commit', sha });
    let blob = uploaded.get(sha);
    if (!blob) {
      blob = await p.api.createBlob(await runGitBytes(['cat-file', 'blob', sha], { cwd: p.dir, signal: ctx.signal }));
      uploaded.set(sha, blob);
    }
    return changes.push({ path: file, mode, type: 'blob', sha: blob });
  };
  if (parent) {
    base = (await git(['rev-parse', `${parent}^{tree}`])).trim();
    if (base === tree) return tree;
    // ":<old mode> <new mode> <old sha> <new sha> <status>\0<path>\0" per changed file
    const fields = (await git(['diff-tree', '-r', '-z', '--no-renames', '--no-commit-id', parent, commit])).split('\0');
    for (let i = 0; i + 1 < fields.length; i += 2) {
      const [oldMode, newMode, , newSha, status] = fields[i].slice(1).split(' ');
      const file = fields[i + 1];
      if (status === 'D') changes.push({ path: file, mode: oldMode, type: oldMode === '160000' ? 'commit' : 'blob', sha: null });
      else await upload(newMode, newSha, file);
    }
  } else {
    // "<mode> <type> <sha>\t<path>\0" per file
    for (const entry of (await git(['ls-tree', '-r', '-z', commit])).split('\0').filter(Boolean)) {
      const [meta, file] = [entry.slice(0, entry.indexOf('\t')), entry.slice(entry.indexOf('\t') + 1)];
      const [mode, , sha] = meta.split(' ');
      await upload(mode, sha, file);
    }
  }
  return p.api.createTree(base, changes);
}

/**
 * The replayed commits have new hashes: the local branch moves to them (the files are the
 * same), so that later steps see what GitHub has. False when the fetch failed.
 */
async function syncLocal(ctx: StepContext, p: Place, pushed: string): Promise<boolean> {
  try {
    if ((await fetchBranch(ctx, p)) !== pushed) return false;
    await runGit(['reset', '-q', '--soft', pushed], { cwd: p.dir, signal: ctx.signal });
    return true;
  } catch (e) {
    ctx.logger.warn(`github-push: could not bring ${p.dir} up to date with ${p.branch}: ${(e as Error).message}`);
    return false;
  }
}
