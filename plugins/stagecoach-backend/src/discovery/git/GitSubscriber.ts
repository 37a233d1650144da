import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { GitCommit } from '@stagecoach/plugin-stagecoach-common';
import type { GitSubscription } from './schema';
import { explainAuthFailure } from '../../integrations/git/authFailure';
import { GitAuth, GitError, GitRunOptions, listRemoteRefs, remoteBranchHead, RemoteBranchHead, runGit } from '../../integrations/git/GitCli';
import { checkGitRemote } from '../../integrations/git/gitEgress';
import { DEFAULT_EGRESS_POLICY, EgressPolicy } from '../../integrations/http/egress';
import { redactSecrets } from '../../util/secrets';
import { normalizeGitURL } from '../../util/gitUrl';
import { orderTags, selectTags, TagCandidate } from './selectTags';
import { PathFilter, pathFilter } from './pathFilters';
import { CommitFacts, metadataFilter, olderThanSince, TagFacts } from './metadataFilter';
import { Discovery, Probe, Subscriber, SubscriptionContext } from '../types';

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

/** How git reaches the subscription's repository: with TLS checks off for it alone when insecureSkipTLSVerify. */
function remoteOptions(sub: GitSubscription, auth?: GitAuth): GitRunOptions {
  return {
    ...(sub.insecureSkipTLSVerify ? { config: [[`http.${sub.repoURL}.sslVerify`, 'false']] } : {}),
    ...(auth ? { auth } : {}),
  };
}

/** The project's credentials for the subscription's repository (its own Secret, then the backend's), as git runs take them. */
async function authFor(sub: GitSubscription, context: SubscriptionContext | undefined): Promise<GitAuth | undefined> {
  const credentials = await context?.credentials('git', sub.repoURL);
  return credentials ? { url: sub.repoURL, credentials } : undefined;
}

/** What a commit of a branch is kept for: its changed paths (path filters), its metadata (since, expressionFilter). */
interface CommitTest {
  /** Whether `git log` must list each commit's changed files. */
  paths: boolean;
  keep(c: LoggedCommit): boolean;
  /** History is read no further than a commit for which this is true. */
  stop(c: LoggedCommit): boolean;
}

function commitTest(sub: GitSubscription, filter: PathFilter | undefined): CommitTest | undefined {
  const meta = metadataFilter<CommitFacts>(sub);
  if (!filter && !meta) return undefined;
  return {
    paths: !!filter,
    keep: c =>
      (!filter || filter.matches(c.paths)) &&
      (!meta ||
        meta({ id: c.id, commitDate: c.committedAt, author: c.author, committer: c.committer, subject: c.subject })),
    stop: c => olderThanSince(sub, c.committedAt),
  };
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
  async probe(sub: GitSubscription, context?: SubscriptionContext): Promise<Probe> {
    await checkGitRemote(this.egress, sub.repoURL);
    const auth = await authFor(sub, context);
    try {
      return await this.probeWith(sub, auth);
    } catch (e) {
      // which credentials the host refused (a project Secret by name), or where they come from
      throw explainAuthFailure(e, sub.repoURL, auth);
    }
  }

  private async probeWith(sub: GitSubscription, auth: GitAuth | undefined): Promise<Probe> {
    if (strategyOf(sub) === 'NewestFromBranch') {
      const head = await remoteBranchHead(sub.repoURL, sub.branch, remoteOptions(sub, auth));
      if (sub.branch && !head.commit) throw branchNotFound(sub.branch, sub.repoURL);
      const hash = createHash('sha256')
        .update(`branch ${head.ref} ${head.commit ?? '(none)'}`)
        .digest('hex');
      return { hash, state: head };
    }
    const refs = await listRemoteRefs(sub.repoURL, 'tags', remoteOptions(sub, auth));
    const hash = createHash('sha256')
      .update(refs.map(r => `${r.name} ${r.commit}`).sort().join('\n'))
      .digest('hex');
    const tags: TagCandidate[] = refs.map(r => ({ tag: r.name, commit: r.commit }));
    return { hash, state: tags };
  }

  async discover(sub: GitSubscription, probe: Probe, context?: SubscriptionContext): Promise<Discovery<GitCommit>> {
    const auth = await authFor(sub, context);
    // what a project's credentials fetched goes in a mirror of its own: another project cannot read it
    const owner = auth && context ? context.project : undefined;
    try {
      return await this.discoverWith(sub, probe, auth, owner);
    } catch (e) {
      throw explainAuthFailure(e, sub.repoURL, auth);
    }
  }

  private async discoverWith(
    sub: GitSubscription,
    probe: Probe,
    auth: GitAuth | undefined,
    owner: string | undefined,
  ): Promise<Discovery<GitCommit>> {
    const filter = pathFilter(sub);
    if (strategyOf(sub) === 'NewestFromBranch') {
      return this.newestFromBranch(sub, probe.state as RemoteBranchHead, commitTest(sub, filter), auth, owner);
    }
    const meta = metadataFilter<TagFacts>(sub);
    let selected: TagCandidate[];
    if (filter || meta || strategyOf(sub) === 'NewestTag') {
      selected = await this.withMirror(sub.repoURL, owner, async dir => {
        const tags = await syncTags(dir, sub.repoURL, remoteOptions(sub, auth));
        if (!filter && !meta) return selectTags(tags, sub);
        // as Kargo: since and expressionFilter after the tag regexes and semverConstraint
        const ordered = orderTags(tags, sub).filter(t => !meta || meta(t.facts!));
        if (!filter) return ordered.slice(0, sub.discoveryLimit ?? 20);
        return tagsChangingPaths(dir, ordered, filter, sub.discoveryLimit ?? 20);
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
    test: CommitTest | undefined,
    auth: GitAuth | undefined,
    owner: string | undefined,
  ): Promise<Discovery<GitCommit>> {
    if (!head.commit) return { latest: undefined, listed: [] }; // an empty repository
    const limit = sub.discoveryLimit ?? 20;
    const found = await this.withMirror(sub.repoURL, owner, async dir => {
      // one ref per branch, named by a digest so that branches such as a and a/b never collide
      const local = `refs/stagecoach/branches/${createHash('sha1').update(head.ref).digest('hex')}`;
      try {
        await runGit(
          ['fetch', '-q', '--force', '--no-tags', '--filter=blob:none', sub.repoURL, `+${head.ref}:${local}`],
          { cwd: dir, ...remoteOptions(sub, auth) },
        );
      } catch (e) {
        if (e instanceof GitError && /couldn't find remote ref/i.test(e.stderr)) {
          throw branchNotFound(head.branch ?? head.ref, sub.repoURL);
        }
        throw e;
      }
      return test ? scanHistory(dir, local, test, limit) : gitLog(dir, false, ['--first-parent', '-n', String(limit), local]);
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
  private async withMirror<T>(repoURL: string, owner: string | undefined, fn: (dir: string) => Promise<T>): Promise<T> {
    const key = createHash('sha1')
      .update(owner ? `${normalizeGitURL(repoURL)}\0${owner}` : normalizeGitURL(repoURL))
      .digest('hex');
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

/**
 * What for-each-ref reports of each tag: the tag object's fields, then its commit's (`*`: the
 * commit an annotated tag points to; unprefixed: the commit a lightweight tag names).
 */
const TAG_FIELDS = [
  'refname:short',
  'objectname',
  'objecttype',
  '*objectname',
  '*objecttype',
  'creatordate:iso-strict',
  'taggername',
  'taggeremail',
  'contents:subject',
  'authorname',
  'authoremail',
  'committername',
  'committeremail',
  '*authorname',
  '*authoremail',
  '*committername',
  '*committeremail',
  '*contents:subject',
];

/**
 * Fetches the remote's tags into the mirror (commits and trees, no blobs) and lists the ones
 * on commits, with what expressionFilter sees of them.
 */
async function syncTags(dir: string, repoURL: string, options: GitRunOptions): Promise<TagCandidate[]> {
  await runGit(['fetch', '-q', '--prune', '--force', '--filter=blob:none', repoURL, '+refs/tags/*:refs/tags/*'], {
    cwd: dir,
    ...options,
  });
  // fields apart by 0x1f, records by 0x1e: a subject may hold any other character
  const out = await runGit(['for-each-ref', `--format=${TAG_FIELDS.map(f => `%(${f})`).join('%1f')}%1e`, 'refs/tags'], {
    cwd: dir,
  });
  const person = (name: string, email: string) => (name || email ? `${name} ${email}`.trim() : '');
  return out
    .split('\x1e')
    .map(record => record.replace(/^\n/, ''))
    .filter(Boolean)
    .map(record => record.split('\x1f'))
    .filter(([, , type, , peeledType]) => (peeledType || type) === 'commit') // not a tag of a tree or a blob
    .map(f => {
      const [tag, obj, type, peeled, , date, taggerName, taggerEmail, subject] = f;
      const annotated = type === 'tag';
      const [authorName, authorEmail, committerName, committerEmail, commitSubject] = annotated
        ? f.slice(13, 18)
        : [f[9], f[10], f[11], f[12], subject];
      const createdAt = new Date(date).toISOString();
      const commit = peeled || obj;
      return {
        tag,
        commit,
        createdAt,
        facts: {
          tag,
          id: commit,
          creatorDate: createdAt,
          author: person(authorName, authorEmail),
          committer: person(committerName, committerEmail),
          subject: commitSubject,
          tagger: annotated ? person(taggerName, taggerEmail) : '',
          annotation: annotated ? subject : '',
        },
      };
    });
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
 * The newest `limit` commits of a branch's first-parent history that the test keeps (they
 * change a path the filters select; they pass since and expressionFilter). History is read
 * in batches (so a busy path costs one small `git log`), never past a commit older than
 * since, and never more than MAX_EXAMINED_COMMITS commits.
 */
async function scanHistory(dir: string, tip: string, test: CommitTest, limit: number): Promise<LoggedCommit[]> {
  const found: LoggedCommit[] = [];
  let from = tip;
  let examined = 0;
  let batch = Math.max(FIRST_BATCH, limit);
  while (found.length < limit && examined < MAX_EXAMINED_COMMITS) {
    const n = Math.min(batch, MAX_EXAMINED_COMMITS - examined);
    const commits = await gitLog(dir, test.paths, ['--first-parent', '-n', String(n), from]);
    examined += commits.length;
    for (const c of commits) {
      if (test.stop(c)) return found;
      if (test.keep(c)) found.push(c);
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
