import { ConfigReader } from '@backstage/config';
import { scmCredentialsFromConfig } from '../../integrations/scm/fromIntegrations';
import { FakeGithub, startFakeGithub } from '../../__testUtils__/githubApi';
import { FakeGitlab, startFakeGitlab } from '../../__testUtils__/gitlabApi';
import { LOOPBACK_ALLOWED } from '../../__testUtils__/loopbackHttp';
import { runStep, tempWorkDir } from '../../__testUtils__/stepHarness';
import { validateStepConfig } from '.';
import { gitMergePr } from './git-merge-pr';
import { gitOpenPr } from './git-open-pr';

const REPO = 'acme/gitops';

describe('git-merge-pr against a loopback server speaking GitHub\'s REST API', () => {
  let gh: FakeGithub;
  let work: Awaited<ReturnType<typeof tempWorkDir>>;
  let repoURL: string;
  let credentials: ReturnType<typeof scmCredentialsFromConfig>;

  beforeEach(async () => {
    gh = await startFakeGithub();
    work = await tempWorkDir();
    repoURL = `${gh.origin}/${REPO}`;
    credentials = scmCredentialsFromConfig(
      new ConfigReader({ integrations: { github: [{ host: gh.host, apiBaseUrl: gh.apiBaseUrl, token: gh.token }] }, stagecoach: { git: { allowInsecureCredentials: [gh.host] } } }),
    );
    gh.setBranch(REPO, 'main');
    gh.setBranch(REPO, 'stagecoach/dev', 'Promote to dev');
    await runStep(gitOpenPr, { repoURL, sourceBranch: 'stagecoach/dev', targetBranch: 'main' }, { workDir: work.dir, egress: LOOPBACK_ALLOWED, credentials });
  });

  afterEach(async () => {
    await gh.close();
    await work.cleanup();
  });

  const merge = (config: Record<string, unknown> = {}) =>
    runStep(gitMergePr, { repoURL, prNumber: 1, ...config }, { workDir: work.dir, egress: LOOPBACK_ALLOWED, credentials });

  it('merges the pull request and outputs the merge commit, now the tip of the target branch', async () => {
    const result = await merge();
    const tip = gh.branchSha(REPO, 'main');
    expect(result).toEqual({
      status: 'Succeeded',
      message: `merged pull request #1 as ${tip!.slice(0, 7)}`,
      outputs: { pr: { id: 1, url: `${gh.origin}/${REPO}/pull/1`, open: false, merged: true }, commit: tip },
    });
    expect(gh.pulls(REPO)[0].state).toBe('closed');
    const put = gh.requests.find(r => r.method === 'PUT')!;
    // the head it looked at, so commits pushed meanwhile are not merged unseen
    expect(put.body).toEqual({ merge_method: 'merge', sha: gh.pulls(REPO)[0].headSha });
  });

  it('passes mergeMethod on', async () => {
    await merge({ mergeMethod: 'squash' });
    expect(gh.requests.find(r => r.method === 'PUT')!.body.merge_method).toBe('squash');
  });

  it('succeeds with the same commit when run again after the merge (a retried promotion)', async () => {
    const first = await merge();
    const second = await merge();
    expect(second.status).toBe('Succeeded');
    expect(second.outputs).toEqual(first.outputs);
    expect(gh.requests.filter(r => r.method === 'PUT')).toHaveLength(1);
  });

  it('fails, suggesting wait, while a required review is missing', async () => {
    gh.pulls(REPO)[0].mergeBlockedBy = 'At least 1 approving review is required by reviewers with write access.';
    const result = await merge();
    expect(result).toEqual({
      status: 'Failed',
      message:
        'pull request #1 cannot be merged: GitHub refused the merge for now: At least 1 approving review is required by reviewers with write access.; set wait: true to wait until it can be',
    });
  });

  it('with wait: true reports Running until it can be merged, then merges', async () => {
    const pull = gh.pulls(REPO)[0];
    pull.mergeable = null;
    pull.mergeableState = 'unknown';
    const computing = await merge({ wait: true });
    expect(computing).toEqual({
      status: 'Running',
      message: 'pull request #1 cannot be merged yet: GitHub is still working out whether it can be merged',
      retryAfterMs: 10_000,
    });

    pull.mergeable = true;
    pull.mergeableState = 'blocked';
    pull.mergeBlockedBy = 'Required status check "ci" is expected.';
    const blocked = await merge({ wait: true, pollInterval: '30s' });
    expect(blocked).toMatchObject({ status: 'Running', retryAfterMs: 30_000 });

    pull.mergeBlockedBy = undefined;
    expect((await merge({ wait: true })).status).toBe('Succeeded');
  });

  it('fails at once, even with wait, when the pull request has conflicts', async () => {
    gh.pulls(REPO)[0].mergeableState = 'dirty';
    gh.pulls(REPO)[0].mergeable = false;
    const result = await merge({ wait: true });
    expect(result).toEqual({ status: 'Failed', message: 'pull request #1 cannot be merged: it has merge conflicts' });
  });

  it('fails when the pull request was closed without being merged', async () => {
    gh.closeByHand(REPO, 1);
    expect(await merge({ wait: true })).toEqual({
      status: 'Failed',
      message: 'pull request #1 cannot be merged: it was closed without being merged',
    });
  });

  it('fails naming mergeMethod when the repository does not allow it', async () => {
    gh.allowMergeMethods(REPO, ['squash']);
    const result = await merge({ wait: true });
    expect(result).toEqual({
      status: 'Failed',
      message:
        'GitHub: could not merge pull request #1 of acme/gitops: HTTP 405 (GitHub says: Merge commits are not allowed on this repository.); check mergeMethod against what the repository allows',
    });
  });

  it('refuses a merge method GitHub does not have, naming the ones it has', async () => {
    await expect(merge({ mergeMethod: 'fast-forward' })).rejects.toThrow(
      'mergeMethod "fast-forward" is not a GitHub merge method (merge, squash, rebase)',
    );
  });
});

describe('git-merge-pr against a loopback server speaking GitLab\'s REST API', () => {
  let gl: FakeGitlab;
  let work: Awaited<ReturnType<typeof tempWorkDir>>;
  const PROJECT = 'platform/gitops';

  beforeEach(async () => {
    gl = await startFakeGitlab();
    work = await tempWorkDir();
    gl.setBranch(PROJECT, 'main');
    gl.setBranch(PROJECT, 'stagecoach/prod');
  });

  afterEach(async () => {
    await gl.close();
    await work.cleanup();
  });

  it('squash-merges when asked and outputs the merge commit; waits while the pipeline runs', async () => {
    const credentials = scmCredentialsFromConfig(
      new ConfigReader({ integrations: { gitlab: [{ host: gl.host, apiBaseUrl: gl.apiBaseUrl, token: gl.token }] }, stagecoach: { git: { allowInsecureCredentials: [gl.host] } } }),
    );
    const repoURL = `${gl.origin}/${PROJECT}`;
    const ctx = { workDir: work.dir, egress: LOOPBACK_ALLOWED, credentials };
    await runStep(gitOpenPr, { repoURL, sourceBranch: 'stagecoach/prod', targetBranch: 'main' }, ctx);

    gl.mergeRequests(PROJECT)[0].detailedMergeStatus = 'ci_still_running';
    const running = await runStep(gitMergePr, { repoURL, prNumber: 1, wait: true }, ctx);
    expect(running).toMatchObject({ status: 'Running', message: 'merge request !1 cannot be merged yet: its pipeline is still running' });

    gl.mergeRequests(PROJECT)[0].detailedMergeStatus = 'mergeable';
    const merged = await runStep(gitMergePr, { repoURL, prNumber: 1, mergeMethod: 'squash' }, ctx);
    const mr = gl.mergeRequests(PROJECT)[0];
    expect(mr.squashCommit).toBeDefined();
    expect(merged).toMatchObject({ status: 'Succeeded', outputs: { commit: mr.mergeCommit } });
    expect(gl.branchSha(PROJECT, 'main')).toBe(mr.mergeCommit);
    expect(gl.requests.find(r => r.path.endsWith('/merge'))!.body).toEqual({ sha: mr.sha, squash: true });
  });
});

describe('git-merge-pr configuration', () => {
  it('accepts Kargo\'s fields', () => {
    expect(
      validateStepConfig('git-merge-pr', {
        repoURL: 'https://gitlab.com/acme/gitops',
        prNumber: 7,
        provider: 'gitlab',
        mergeMethod: 'squash',
        wait: true,
        pollInterval: '15s',
        insecureSkipTLSVerify: false,
      }),
    ).toEqual([]);
  });

  it('needs prNumber', () => {
    expect(validateStepConfig('git-merge-pr', { repoURL: 'https://gitlab.com/acme/gitops' })).toEqual([
      { path: ['config', 'prNumber'], message: 'is required' },
    ]);
  });
});
