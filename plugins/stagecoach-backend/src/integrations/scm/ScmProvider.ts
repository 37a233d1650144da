import type { ScmProviderKind } from './ScmCredentials';

/** A pull request (a merge request on GitLab), as every provider reports it. */
export interface PullRequest {
  number: number;
  /** The page people open in a browser. */
  url: string;
  open: boolean;
  merged: boolean;
  /** The commit the merge left on the target branch; undefined until merged. */
  mergeCommit?: string;
  /** The tip of the source branch the pull request currently shows. */
  headSha?: string;
  sourceBranch: string;
  targetBranch: string;
  labels: string[];
}

export interface NewPullRequest {
  sourceBranch: string;
  targetBranch: string;
  title: string;
  description?: string;
  labels: string[];
}

/** The outcome of one attempt to merge. */
export type MergeAttempt =
  | { merged: true; pr: PullRequest }
  /** `final`: waiting will not help (conflicts, a merge method the repository refuses). */
  | { merged: false; reason: string; final: boolean };

/** One Git host's pull request API, for one repository. */
export interface ScmProvider {
  readonly kind: ScmProviderKind;
  /** For messages: "GitHub", "GitLab", ... */
  readonly label: string;
  /** For messages: owner/repo, or the GitLab project path. */
  readonly repository: string;
  /** The merge methods `mergeMethod` may name (without one, the host's or repository's default applies). */
  readonly mergeMethods: readonly string[];
  /** The tip of a branch and its newest commit's message; undefined when there is no such branch. */
  branchHead(branch: string): Promise<{ sha: string; message: string } | undefined>;
  /** Pull requests from `source` into `target` in any state, newest first (at least the recent ones). */
  findPullRequests(source: string, target: string): Promise<PullRequest[]>;
  /** Opens one; `exists` when the host refuses because one is already open for these branches. */
  createPullRequest(pr: NewPullRequest): Promise<PullRequest | 'exists'>;
  /** Adds labels to an open pull request (hosts without labels ignore them). */
  addLabels(pr: PullRequest, labels: string[]): Promise<void>;
  /** Whether the host knows labels at all. */
  readonly supportsLabels: boolean;
  getPullRequest(number: number): Promise<PullRequest>;
  /** Merges an open pull request, or says why it cannot be merged now. */
  mergePullRequest(number: number, method?: string): Promise<MergeAttempt>;
}

/**
 * A Git host's API answered with an error, or could not be reached. The message names the
 * provider, the HTTP status and what to do about it; it never carries a credential.
 */
export class ScmApiError extends Error {
  constructor(
    message: string,
    readonly status: number | undefined,
    /** Worth trying again later: the host is down, overloaded or rate limiting. */
    readonly retryable: boolean,
  ) {
    super(message);
    this.name = 'ScmApiError';
  }
}

/** The repository URL or a field of the request is wrong in a way only its author can fix. */
export class ScmConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ScmConfigError';
  }
}

export interface OpenedPullRequest {
  pr: PullRequest;
  /** false: an earlier run (a retried promotion) had already opened it. */
  created: boolean;
}

/**
 * Opens a pull request from `source` into `target`, or finds the one an earlier run of the
 * same promotion opened: an open one for the same branches, or one already merged whose head
 * is the source branch's current tip (the promotion was retried after the merge). Opening
 * twice therefore never makes a second pull request.
 */
export async function openPullRequest(
  provider: ScmProvider,
  request: Omit<NewPullRequest, 'title'> & { title?: string },
): Promise<OpenedPullRequest> {
  const { sourceBranch, targetBranch } = request;
  const existing = await provider.findPullRequests(sourceBranch, targetBranch);
  const open = existing.find(p => p.open);
  if (open) return { pr: await withLabels(provider, open, request.labels), created: false };

  const head = await provider.branchHead(sourceBranch);
  if (!head) {
    throw new ScmConfigError(
      `${provider.label}: sourceBranch "${sourceBranch}" does not exist in ${provider.repository}; push it first (git-push) or correct sourceBranch`,
    );
  }
  const merged = existing.find(p => p.merged && sameCommit(p.headSha, head.sha));
  if (merged) return { pr: merged, created: false };

  const created = await provider.createPullRequest({
    sourceBranch,
    targetBranch,
    ...titleAndDescription(request, head.message, `Merge ${sourceBranch} into ${targetBranch}`),
    labels: request.labels,
  });
  if (created !== 'exists') return { pr: await withLabels(provider, created, request.labels), created: true };
  // another run opened it between our look and our request
  const raced = (await provider.findPullRequests(sourceBranch, targetBranch)).find(p => p.open);
  if (!raced) {
    throw new ScmApiError(
      `${provider.label}: refused to open a pull request from ${sourceBranch} into ${targetBranch} because one exists, but none is open`,
      409,
      true,
    );
  }
  return { pr: await withLabels(provider, raced, request.labels), created: false };
}

/** Bitbucket Cloud reports abbreviated hashes in places: a prefix of 7 or more counts. */
function sameCommit(a: string | undefined, b: string): boolean {
  if (!a || a.length < 7) return false;
  return a.length <= b.length ? b.startsWith(a) : a.startsWith(b);
}

/**
 * What the config leaves out comes from the source branch's newest commit: its subject
 * makes the title and the rest the description (the whole message when a title is set).
 */
function titleAndDescription(
  request: { title?: string; description?: string },
  commitMessage: string,
  fallbackTitle: string,
): { title: string; description?: string } {
  const message = commitMessage.trim();
  if (request.title) return { title: request.title, description: request.description ?? (message || undefined) };
  const [subject, ...body] = message.split('\n');
  return {
    title: subject?.trim() || fallbackTitle,
    description: request.description ?? (body.join('\n').trim() || undefined),
  };
}

async function withLabels(provider: ScmProvider, pr: PullRequest, labels: string[]): Promise<PullRequest> {
  const missing = labels.filter(l => !pr.labels.includes(l));
  if (missing.length === 0 || !provider.supportsLabels) return pr;
  await provider.addLabels(pr, missing);
  return { ...pr, labels: [...pr.labels, ...missing] };
}
