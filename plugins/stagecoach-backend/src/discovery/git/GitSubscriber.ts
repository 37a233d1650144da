import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { GitCommit } from '@stagecoach/plugin-stagecoach-common';
import type { GitSubscription } from './schema';
import { GitError, listRemoteRefs, remoteBranchHead, RemoteBranchHead, runGit } from '../../integrations/git/GitCli';
import { checkGitRemote } from '../../integrations/git/gitEgress';
import { DEFAULT_EGRESS_POLICY, EgressPolicy } from '../../integrations/http/egress';
import { redactSecrets } from '../../util/secrets';
import { normalizeGitURL } from '../../util/gitUrl';
import { orderTags, selectTags, TagCandidate } from './selectTags';
import { PathFilter, pathFilter } from './pathFilters';
import { Discovery, Probe, Subscriber } from '../types';

/**
 * With path filters, at most this many commits are examined per discovery: of a branch's
 * first-parent history (NewestFromBranch), or tagged commits (tag strategies). When fewer
 * than discoveryLimit of them match, the ones that do are what the subscription selects.
 */
export const MAX_EXAMINED_COMMITS = 10_000;

/** NewestFromBranch with path filters reads history in batches: this many commits first, doubling up to 1,000. */
const FIRST_BATCH = 100;
const MAX_BATCH = 1_000;

type Strategy = NonNullable<GitSubscription['commitSelectionStrategy']>;

function strategyOf(sub: GitSubscription): Strategy {
  return sub.commitSelectionStrategy ?? 'NewestFromBranch';
}

/** One commit as `git log` reports it. */
interface LoggedCommit {
  id: string;
  parents: string[];
  author: string;
  committer: string;
  committedAt: string;
  subject: string;
  /** Files it changed (against its first parent), when asked for. */
  paths: string[];
}

const LOG_FORMAT = ['%H', '%P', '%an <%ae>', '%cn <%ce>', '%cI', '%s'].join('%x1f');

/**
 * Discovers commits for a git subscription.
 *  - NewestFromBranch (the default): the probe is one `git ls-remote` of the branch (of the
 *    remote's HEAD without `branch`); discovery fetches that branch into a blob-less bare
 *    mirror under the cache directory and reads its first-parent history with `git log`,
 *    newest first.
 *  - SemVer, Lexical, NewestTag: the probe is `git ls-remote --tags`. NewestTag (for tag
 *    dates) and path filters (for the tagged commits' changes) fetch the tags into the mirror.
 * Path filters need only trees, which a blob-less mirror has: no file content is fetched.
 * Every repoURL passes the egress policy (app-config `stagecoach.egress`) before git reaches it.
 */
export class GitSubscriber implements Subscriber<GitSubscription, GitCommit> {
  private readonly locks = new Map<string, Promise<unknown>>();

  private readonly egress: EgressPolicy;

  constructor(
    private readonly cacheDir: string,
    /** Where repoURLs may lead; default production's (loopback, link-local and cloud metadata denied). */
    options: { egress?: EgressPolicy } = {},
  ) {
    this.egress = options.egress ?? DEFAULT_EGRESS_POLICY;
  }

  /**
   * Cheap, tells whether anything moved: NewestFromBranch, the branch's tip; the tag
   * strategies, the digest of the remote's tags.
   */
  async probe(sub: GitSubscription): Promise<Probe> {
    await checkGitRemote(this.egress, sub.repoURL);
    if (strategyOf(sub) === 'NewestFromBranch') {
      const head = await remoteBranchHead(sub.repoURL, sub.branch);
      if (sub.branch && !head.commit) throw branchNotFound(sub.branch, sub.repoURL);
      const hash = createHash('sha256')
        .update(`branch ${head.ref} ${head.commit ?? '(none)'}`)
        .digest('hex');
      return { hash, state: head };
    }
    const refs = await listRemoteRefs(sub.repoURL, 'tags');
    const hash = createHash('sha256')
      .update(refs.map(r => `${r.name} ${r.commit}`).sort().join('\n'))
      .digest('hex');
    const tags: TagCandidate[] = refs.map(r => ({ tag: r.name, commit: r.commit }));
    return { hash, state: tags };
  }

  async discover(sub: GitSubscription, probe: Probe): Promise<Discovery<GitCommit>> {
    const filter = pathFilter(sub);
    if (strategyOf(sub) === 'NewestFromBranch') {
      return this.newestFromBranch(sub, probe.state as RemoteBranchHead, filter);
    }
    let selected: TagCandidate[];
    if (filter || strategyOf(sub) === 'NewestTag') {
      selected = await this.withMirror(sub.repoURL, async dir => {
        const tags = await syncTags(dir, sub.repoURL);
        if (!filter) return selectTags(tags, sub);
        return tagsChangingPaths(dir, orderTags(tags, sub), filter, sub.discoveryLimit ?? 20);
      });
    } else {
      selected = selectTags(probe.state as TagCandidate[], sub);
    }
    const commits: GitCommit[] = selected.map(c => ({ repoURL: sub.repoURL, id: c.commit, tag: c.tag }));
    return { latest: commits[0], listed: commits.map(c => ({ ...c })) };
  }

  private async newestFromBranch(
    sub: GitSubscription,
    head: RemoteBranchHead,
    filter: PathFilter | undefined,
  ): Promise<Discovery<GitCommit>> {
    if (!head.commit) return { latest: undefined, listed: [] }; // an empty repository
    const limit = sub.discoveryLimit ?? 20;
    const found = await this.withMirror(sub.repoURL, async dir => {
      // one ref per branch, named by a digest so that branches such as a and a/b never collide
      const local = `refs/stagecoach/branches/${createHash('sha1').update(head.ref).digest('hex')}`;
      try {
        await runGit(
          ['fetch', '-q', '--force', '--no-tags', '--filter=blob:none', sub.repoURL, `+${head.ref}:${local}`],
          { cwd: dir },
        );
      } catch (e) {
        if (e instanceof GitError && /couldn't find remote ref/i.test(e.stderr)) {
          throw branchNotFound(head.branch ?? head.ref, sub.repoURL);
        }
        throw e;
      }
      return filter ? scanHistory(dir, local, filter, limit) : gitLog(dir, false, ['--first-parent', '-n', String(limit), local]);
    });
    const commits: GitCommit[] = found.map(c => ({
      repoURL: sub.repoURL,
      id: c.id,
      ...(head.branch ? { branch: head.branch } : {}),
      message: c.subject,
      author: c.author,
      committer: c.committer,
      committedAt: c.committedAt,
    }));
    return { latest: commits[0], listed: commits.map(c => ({ ...c })) };
  }

  /** Runs fn on the repository's mirror (created on first use), one caller at a time. */
  private async withMirror<T>(repoURL: string, fn: (dir: string) => Promise<T>): Promise<T> {
    const key = createHash('sha1').update(normalizeGitURL(repoURL)).digest('hex');
    const dir = path.join(this.cacheDir, 'git', key);
    return this.exclusive(key, async () => {
      // checked again before fetching: the name may resolve elsewhere since the probe
      await checkGitRemote(this.egress, repoURL);
      await fs.mkdir(dir, { recursive: true });
      await runGit(['init', '-q', '--bare'], { cwd: dir });
      return fn(dir);
    });
  }

  private async exclusive<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.locks.get(key) ?? Promise.resolve();
    const next = prev.then(fn, fn);
    this.locks.set(key, next.catch(() => undefined));
    return next;
  }
}

function branchNotFound(branch: string, repoURL: string): Error {
  return new Error(`branch "${branch}" not found in ${redactSecrets(repoURL)}`);
}

/** Fetches the remote's tags into the mirror (commits and trees, no blobs) and lists the ones on commits. */
async function syncTags(dir: string, repoURL: string): Promise<TagCandidate[]> {
  await runGit(['fetch', '-q', '--prune', '--force', '--filter=blob:none', repoURL, '+refs/tags/*:refs/tags/*'], {
    cwd: dir,
  });
  const out = await runGit(
    [
      'for-each-ref',
      '--format=%(refname:short)\t%(objectname)\t%(objecttype)\t%(*objectname)\t%(*objecttype)\t%(creatordate:iso-strict)',
      'refs/tags',
    ],
    { cwd: dir },
  );
  return out
    .split('\n')
    .filter(Boolean)
    .map(line => line.split('\t'))
    .filter(([, , type, , peeledType]) => (peeledType || type) === 'commit') // not a tag of a tree or a blob
    .map(([tag, obj, , peeled, , date]) => ({ tag, commit: peeled || obj, createdAt: new Date(date).toISOString() }));
}

/**
 * `git log` of the mirror, newest first. With `paths`, each commit's changed files against
 * its first parent (all its files for a root commit), without rename detection: a moved
 * file counts at both its old and its new path. Only trees are read, never blobs.
 */
async function gitLog(dir: string, paths: boolean, args: string[]): Promise<LoggedCommit[]> {
  const out = await runGit(
    [
      'log',
      '-z',
      `--format=%x1e${LOG_FORMAT}`,
      ...(paths ? ['--name-only', '--no-renames', '--diff-merges=first-parent'] : []),
      ...args,
      '--',
    ],
    { cwd: dir },
  );
  return out
    .split('\x1e')
    .slice(1)
    .map(record => {
      const end = record.indexOf('\0');
      const header = end === -1 ? record : record.slice(0, end);
      const [id, parents, author, committer, date, ...subject] = header.split('\x1f');
      const files = end === -1 ? '' : record.slice(end + 1).replace(/^\n/, '');
      return {
        id,
        parents: parents ? parents.split(' ') : [],
        author,
        committer,
        committedAt: new Date(date).toISOString(),
        subject: subject.join('\x1f'),
        paths: files.split('\0').filter(Boolean),
      };
    });
}

/**
 * The newest `limit` commits of a branch's first-parent history that change a path the
 * filter selects. History is read in batches (so a busy path costs one small `git log`),
 * and never more than MAX_EXAMINED_COMMITS commits.
 */
async function scanHistory(dir: string, tip: string, filter: PathFilter, limit: number): Promise<LoggedCommit[]> {
  const found: LoggedCommit[] = [];
  let from = tip;
  let examined = 0;
  let batch = Math.max(FIRST_BATCH, limit);
  while (found.length < limit && examined < MAX_EXAMINED_COMMITS) {
    const n = Math.min(batch, MAX_EXAMINED_COMMITS - examined);
    const commits = await gitLog(dir, true, ['--first-parent', '-n', String(n), from]);
    examined += commits.length;
    for (const c of commits) {
      if (filter.matches(c.paths)) found.push(c);
      if (found.length === limit) break;
    }
    const last = commits[commits.length - 1];
    if (commits.length < n || !last?.parents[0]) break; // the start of history
    from = last.parents[0];
    batch = Math.min(batch * 2, MAX_BATCH);
  }
  return found;
}

/**
 * The best `limit` of the ordered tags whose commit changes a path the filter selects, as
 * Kargo does: the tagged commit's own changes (against its first parent) count, not
 * everything since the previous tag.
 */
async function tagsChangingPaths(
  dir: string,
  ordered: TagCandidate[],
  filter: PathFilter,
  limit: number,
): Promise<TagCandidate[]> {
  const matches = new Map<string, boolean>();
  const selected: TagCandidate[] = [];
  const examined = ordered.slice(0, MAX_EXAMINED_COMMITS);
  for (let i = 0; i < examined.length && selected.length < limit; i += FIRST_BATCH) {
    const batch = examined.slice(i, i + FIRST_BATCH);
    const unknown = [...new Set(batch.map(t => t.commit))].filter(c => !matches.has(c));
    if (unknown.length) {
      for (const c of await gitLog(dir, true, ['--no-walk=unsorted', ...unknown])) {
        matches.set(c.id, filter.matches(c.paths));
      }
    }
    for (const t of batch) {
      if (selected.length < limit && matches.get(t.commit)) selected.push(t);
    }
  }
  return selected;
}
