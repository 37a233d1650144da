import { z } from 'zod';
import { GitAuth, GitError, isMissingIdentity, runGit } from '../../integrations/git/GitCli';
import type { ScmProviderKind } from '../../integrations/scm/ScmCredentials';
import { authFor, checkRemote, explainAuthFailure, openWorkTree, refNameSchema, workTreePathSchema } from './gitWorkTree';
import { StepContext, StepDefinition, StepResult } from './types';

const providers = ['azure', 'bitbucket', 'gitea', 'github', 'gitlab'] as const;
type Provider = (typeof providers)[number];

/** A branch or tag name; Kargo writes "" for "not set". */
const optionalRef = (what: 'branch' | 'tag') =>
  refNameSchema(what)
    .optional()
    .transform(v => v || undefined);

const schema = z
  .object({
    path: workTreePathSchema,
    targetBranch: optionalRef('branch'),
    /** Push to a branch of this promotion's own (`stagecoach/promotion/<id>`), e.g. for a pull request. */
    generateTargetBranch: z.boolean().optional(),
    tag: optionalRef('tag'),
    /** Overwrite the remote branch (rendered manifests that do not depend on what was there). */
    force: z.boolean().default(false),
    maxAttempts: z.number().int().min(1).max(1000).default(10),
    /** Only used to build `commitURL`; guessed from the host otherwise. */
    provider: z.enum(providers).optional(),
  })
  .strict()
  .superRefine((c, issue) => {
    const targets = [c.targetBranch && 'targetBranch', c.generateTargetBranch && 'generateTargetBranch', c.tag && 'tag'];
    const set = targets.filter((t): t is string => Boolean(t));
    if (set.length > 1) {
      issue.addIssue({ code: 'custom', path: [set[1]], message: 'set at most one of targetBranch, generateTargetBranch and tag' });
    }
    if (c.tag && c.force) {
      issue.addIssue({ code: 'custom', path: ['force'], message: 'a tag is never force-pushed: remove force or tag' });
    }
  });

type Config = z.infer<typeof schema>;

/** Where the push goes: a branch, or a tag. */
interface Target {
  kind: 'branch' | 'tag';
  name: string;
  /** `<src>:<dst>` for git push. */
  refspec: string;
}

/** The remote's answer to one push: whether our commit was new to it. */
type PushOutcome = { pushed: boolean } | { rejected: true };

/**
 * Pushes a working tree's commits to a branch (or a tag) of its `origin`. When the remote
 * branch moved meanwhile (another stage pushed to it), it fetches, rebases onto it and tries
 * again. A remote that already has the commit, or the same change, is left as it is: a
 * promotion that runs again never pushes its change twice.
 */
export const gitPush: StepDefinition<Config> = {
  name: 'git-push',
  description: 'Push the commits of a working tree, rebasing and retrying when the remote branch moved.',
  schema,
  async run(ctx, config) {
    const { dir, opts } = openWorkTree(ctx, config.path);
    const [originOut, headOut] = await Promise.all([
      runGit(['remote', 'get-url', 'origin'], opts),
      runGit(['rev-parse', 'HEAD', '--abbrev-ref', 'HEAD'], opts).catch((e: unknown) => {
        if (e instanceof GitError && /ambiguous argument 'HEAD'|unknown revision/i.test(e.stderr)) return '';
        throw e;
      }),
    ]);
    const origin = originOut.trim();
    const [head, currentBranch] = headOut.trim().split('\n');
    if (!currentBranch) return { status: 'Failed', message: `nothing to push: ${config.path} has no commits` };
    const target = targetOf(ctx, config, currentBranch);
    if (!target) {
      return {
        status: 'Failed',
        message: `${config.path} is not on a branch (a tag or commit was checked out): set targetBranch`,
      };
    }
    // the clone's origin: git-clone's repoURL, checked again here (a name may resolve elsewhere by now)
    await checkRemote(ctx, origin, `the origin of ${config.path}`);
    const auth = await authFor(ctx, origin);
    try {
      return await pushWithRetries(ctx, config, { dir, origin, target, auth, head });
    } catch (e) {
      throw explainAuthFailure(e, origin, auth);
    }
  },
};

function targetOf(ctx: StepContext, config: Config, currentBranch: string): Target | undefined {
  if (config.tag) return { kind: 'tag', name: config.tag, refspec: `refs/tags/${config.tag}:refs/tags/${config.tag}` };
  const name = config.targetBranch ?? (config.generateTargetBranch ? generatedBranch(ctx.promotionId) : currentBranch);
  if (name === 'HEAD') return undefined;
  return { kind: 'branch', name, refspec: `HEAD:refs/heads/${name}` };
}

/** The promotion's own branch; the same promotion run again gets the same branch. */
export function generatedBranch(promotionId: string): string {
  const safe = promotionId
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .replace(/\.{2,}/g, '.')
    .replace(/^[.-]+|[.]+$|\.lock$/g, '');
  return `stagecoach/promotion/${safe}`;
}

interface PushPlace {
  dir: string;
  origin: string;
  target: Target;
  auth?: GitAuth;
  /** HEAD's commit before any rebase: what a push without a rebase published. */
  head: string;
}

async function pushWithRetries(ctx: StepContext, config: Config, p: PushPlace): Promise<StepResult> {
  for (let attempt = 1; ; attempt++) {
    const outcome = await pushOnce(ctx, config, p);
    if (!('rejected' in outcome)) return succeeded(ctx, config, p, outcome.pushed, attempt > 1);
    if (p.target.kind === 'tag') return tagRejected(ctx, p);
    if (attempt >= config.maxAttempts) {
      return {
        status: 'Failed',
        message: `${p.target.name} on ${p.origin} kept moving: gave up after ${attempt} attempts (maxAttempts)`,
      };
    }
    ctx.logger.info(`git-push: ${p.target.name} moved on the remote, rebasing (attempt ${attempt})`);
    const conflict = await rebaseOntoRemote(ctx, p);
    if (conflict) return { status: 'Failed', message: conflict };
  }
}

/** One `git push --porcelain`: its per-ref line says whether anything was new to the remote. */
async function pushOnce(ctx: StepContext, config: Config, p: PushPlace): Promise<PushOutcome> {
  try {
    const out = await runGit(['push', '--porcelain', ...(config.force ? ['--force'] : []), '--', 'origin', p.target.refspec], {
      cwd: p.dir,
      auth: p.auth,
      signal: ctx.signal,
      timeoutMs: 600_000,
    });
    const line = out.split('\n').find(l => l.includes(`\t${p.target.refspec}\t`)) ?? '';
    return { pushed: !line.startsWith('=') };
  } catch (e) {
    const text = e instanceof GitError ? `${e.stdout}\n${e.stderr}` : '';
    if (/\[rejected\]|\[remote rejected\].*(cannot lock|failed to update)|non-fast-forward|fetch first|stale info/i.test(text)) {
      return { rejected: true };
    }
    throw e;
  }
}

/**
 * Brings the remote's new commits under ours. Commits whose change the remote already has
 * (the same promotion pushed before) disappear in the rebase, and so do the empty commits
 * that start new branches. Returns a message when the changes conflict.
 */
async function rebaseOntoRemote(ctx: StepContext, p: PushPlace): Promise<string | undefined> {
  const opts = { cwd: p.dir, auth: p.auth, signal: ctx.signal };
  await runGit(['fetch', '-q', '--', 'origin', `refs/heads/${p.target.name}`], { ...opts, timeoutMs: 600_000 });
  const rebase = ['rebase', '-q', '--no-keep-empty', 'FETCH_HEAD'];
  try {
    await runGit(rebase, { ...opts, identity: 'repository' });
    return undefined;
  } catch (e) {
    await runGit(['rebase', '--abort'], opts).catch(() => undefined);
    if (isMissingIdentity(e)) {
      return runGit(rebase, { ...opts, identity: ctx.gitIdentity }).then(
        () => undefined,
        async again => {
          await runGit(['rebase', '--abort'], opts).catch(() => undefined);
          return conflictMessage(again, p);
        },
      );
    }
    return conflictMessage(e, p);
  }
}

function conflictMessage(e: unknown, p: PushPlace): string {
  if (!(e instanceof GitError) || !/conflict|could not apply/i.test(`${e.stdout}\n${e.stderr}`)) throw e;
  const files = [...`${e.stdout}\n${e.stderr}`.matchAll(/Merge conflict in (.+)$/gm)].map(m => m[1].trim());
  return `${p.target.name} on ${p.origin} changed ${
    files.length ? files.join(', ') : 'the same files'
  } in a way that conflicts with this promotion's commit: nothing was pushed`;
}

/** A tag that exists on the remote is fine when it names our commit (this push ran before). */
async function tagRejected(ctx: StepContext, p: PushPlace): Promise<StepResult> {
  const tag = `refs/tags/${p.target.name}`;
  const opts = { cwd: p.dir, auth: p.auth, signal: ctx.signal };
  const [remote, local] = await Promise.all([
    runGit(['ls-remote', '--', 'origin', tag, `${tag}^{}`], opts),
    runGit(['rev-parse', `${tag}^{commit}`], opts),
  ]);
  const lines = remote.trim().split('\n').map(l => l.split('\t'));
  const remoteCommit = (lines.find(([, ref]) => ref === `${tag}^{}`) ?? lines.find(([, ref]) => ref === tag))?.[0];
  const commit = local.trim();
  if (remoteCommit === commit) {
    return {
      status: 'Succeeded',
      message: `tag ${p.target.name} already names ${commit.slice(0, 7)} on the remote: nothing pushed`,
      outputs: { tag: p.target.name, commit },
    };
  }
  return {
    status: 'Failed',
    message: `tag ${p.target.name} already exists on ${p.origin} at ${remoteCommit?.slice(0, 7) ?? 'another commit'}: tags are never overwritten`,
  };
}

async function succeeded(
  ctx: StepContext,
  config: Config,
  p: PushPlace,
  pushed: boolean,
  rebased: boolean,
): Promise<StepResult> {
  const rev = p.target.kind === 'tag' ? `refs/tags/${p.target.name}^{commit}` : 'HEAD';
  const commit =
    p.target.kind === 'branch' && !rebased
      ? p.head
      : (await runGit(['rev-parse', rev], { cwd: p.dir, signal: ctx.signal })).trim();
  const url = await commitURL(ctx, p.origin, commit, config.provider);
  const outputs: Record<string, unknown> = { [p.target.kind]: p.target.name, commit, ...(url ? { commitURL: url } : {}) };
  const where = `${p.target.kind} ${p.target.name}`;
  return {
    status: 'Succeeded',
    message: pushed ? `pushed ${commit.slice(0, 7)} to ${where}` : `${where} already had ${commit.slice(0, 7)}: nothing pushed`,
    outputs,
  };
}

const fromApiKind: Partial<Record<ScmProviderKind, Provider>> = {
  github: 'github',
  gitlab: 'gitlab',
  gitea: 'gitea',
  bitbucketCloud: 'bitbucket',
};

function providerFromHost(host: string): Provider | undefined {
  if (host === 'github.com' || host.includes('github')) return 'github';
  if (host.includes('gitlab')) return 'gitlab';
  if (host === 'bitbucket.org') return 'bitbucket';
  if (host === 'dev.azure.com' || host.endsWith('.visualstudio.com')) return 'azure';
  if (host.includes('gitea') || host === 'codeberg.org') return 'gitea';
  return undefined;
}

async function providerFromIntegrations(ctx: StepContext, origin: string): Promise<Provider | undefined> {
  const api = await ctx.credentials.api(origin).catch(() => undefined);
  return api ? fromApiKind[api.provider] : undefined;
}

/** The commit's web page on hosts whose URL scheme is known; undefined elsewhere. */
async function commitURL(ctx: StepContext, origin: string, commit: string, provider?: Provider) {
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return undefined;
  }
  if (!/^https?:$/.test(url.protocol)) return undefined;
  const kind = provider ?? providerFromHost(url.hostname) ?? (await providerFromIntegrations(ctx, origin));
  const base = `${url.origin}${url.pathname.replace(/\/+$/, '').replace(/\.git$/, '')}`;
  switch (kind) {
    case 'gitlab':
      return `${base}/-/commit/${commit}`;
    case 'bitbucket':
      return `${base}/commits/${commit}`;
    case 'github':
    case 'gitea':
    case 'azure':
      return `${base}/commit/${commit}`;
    default:
      return undefined;
  }
}
