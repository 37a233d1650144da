import { z } from 'zod';
import type { GitCommit } from '@stagecoach/plugin-stagecoach-common';
import { ExpressionError, ExprFunction } from '../../expressions/expressions';
import { compactRepoURL } from '../../util/compactRepoURL';
import { normalizeGitURL } from '../../util/gitUrl';
import { gitRepositoryKey } from '../../util/repositoryKeys';
import { redactSecrets } from '../../util/secrets';
import { nothingMatches } from '../describeNoMatch';
import { requestText } from '../requestFields';
import type { SubscriptionKind } from '../SubscriptionKind';
import { GitSubscriber } from './GitSubscriber';
import { GitSubscription, gitSubscriptionSchema } from './schema';

declare module '../../store/freightIdentity' {
  interface FreightArtifacts {
    /** The freight's commits, one per git subscription of its warehouse. */
    commits: GitCommit[];
  }
}

/** A commit asked for by a request that assembles freight by hand. */
const requestedCommitSchema = z
  .object({
    repoURL: requestText('the repository URL'),
    id: z
      .string()
      .regex(
        /^[0-9a-fA-F]{7,64}$/,
        'must be a commit SHA, or at least its first 7 characters',
      )
      .optional(),
    tag: requestText('a tag name').optional(),
  })
  .strict()
  .refine(c => c.id !== undefined || c.tag !== undefined, {
    message: "needs the commit's id, its tag, or both",
  });

type RequestedCommit = z.infer<typeof requestedCommitSchema>;

/** Git repositories: commits of a branch, or tagged commits. */
export const gitKind: SubscriptionKind<
  GitSubscription,
  GitCommit,
  RequestedCommit
> = {
  name: 'git',
  schema: gitSubscriptionSchema,
  field: 'commits',

  subscriber: deps => new GitSubscriber(deps.cacheDir, { egress: deps.egress }),

  describe: sub => sub.repoURL,

  describeNoMatch(sub) {
    const repo = redactSecrets(sub.repoURL);
    const paths = !!(sub.includePaths?.length || sub.excludePaths?.length);
    const strategy = sub.commitSelectionStrategy ?? 'NewestFromBranch';
    if (strategy === 'NewestFromBranch') {
      const branch = sub.branch
        ? `branch "${sub.branch}"`
        : 'the default branch';
      return paths
        ? `nothing in ${repo} matches the subscription (no recent commit on ${branch} changes a file that includePaths/excludePaths select)`
        : `${repo} has no commits`;
    }
    if (strategy === 'NewestTag' && !paths) return `${repo} has no tags`;
    return nothingMatches(sub.repoURL, [
      sub.semverConstraint && `constraint "${sub.semverConstraint}"`,
      paths && 'includePaths/excludePaths',
    ]);
  },

  reference: c =>
    `${normalizeGitURL(c.repoURL)}${c.tag ? `:${c.tag}` : ''}:${c.id}`,

  // Kargo's names are its Go fields (`commitFrom(x).ID`)
  artifactFields: {
    repoURL: 'RepoURL',
    id: 'ID',
    branch: 'Branch',
    tag: 'Tag',
    message: 'Message',
    author: 'Author',
    committer: 'Committer',
    committedAt: 'CommittedAt',
  },

  expressionFunctions(commits, owner) {
    const commitFrom: ExprFunction = repoURL => {
      if (typeof repoURL !== 'string')
        throw new ExpressionError('commitFrom(repoURL) needs a repository URL');
      const want = normalizeGitURL(repoURL);
      const found = commits.find(c => normalizeGitURL(c.repoURL) === want);
      if (!found) {
        throw new ExpressionError(
          `${owner} has no commit from ${repoURL} (it has: ${
            commits.map(c => c.repoURL).join(', ') || 'no commits'
          })`,
        );
      }
      return found;
    };
    return { commitFrom };
  },

  label: c => ({
    // people name a commit by its tag, else by its short SHA
    label: `${compactRepoURL(c.repoURL)}@${c.tag || c.id.slice(0, 7)}`,
    detail: `Git ${c.repoURL} at ${c.id}${c.tag ? ` (tag ${c.tag})` : ''}${
      c.branch ? ` on ${c.branch}` : ''
    }`,
  }),

  listedLabel: e =>
    e.tag ? `${String(e.tag)} (${String(e.id).slice(0, 7)})` : String(e.id),

  matchesChange(change, sub) {
    if (change.kind !== 'git') return false;
    const wanted = gitRepositoryKey(sub.repoURL);
    return (change.repoURLs ?? []).some(u => gitRepositoryKey(u) === wanted);
  },

  manual: {
    requestSchema: requestedCommitSchema,
    requestShape: '[{"repoURL", "tag" or "id"}]',
    describe: c =>
      `${c.tag ? `tag "${c.tag}"` : `commit ${c.id}`}${
        c.tag && c.id ? ` at commit ${c.id}` : ''
      } of ${c.repoURL}`,
    source: c => c.repoURL,
    belongs: (c, sub) =>
      normalizeGitURL(sub.repoURL) === normalizeGitURL(c.repoURL),
    match(c, listed) {
      const id = c.id?.toLowerCase();
      const entries = listed.filter(
        e =>
          (!id || String(e.id).toLowerCase().startsWith(id)) &&
          (!c.tag || e.tag === c.tag),
      );
      const tags = [...new Set(entries.map(e => String(e.tag)))];
      if (!c.tag && tags.length > 1) {
        return {
          entries,
          ambiguous: `is discovered under several tags (${tags.join(
            ', ',
          )}): name the tag too`,
        };
      }
      return { entries };
    },
    isComplete: e => typeof e.id === 'string',
  },
};
