import { ConfigReader } from '@backstage/config';
import { scmCredentialsFromConfig } from '../../integrations/scm/fromIntegrations';
import { FakeGithub, startFakeGithub } from '../../__testUtils__/githubApi';
import { FakeGitlab, startFakeGitlab } from '../../__testUtils__/gitlabApi';
import { startLoopbackApi } from '../../__testUtils__/loopbackApi';
import { LOOPBACK_ALLOWED } from '../../__testUtils__/loopbackHttp';
import { runStep, tempWorkDir } from '../../__testUtils__/stepHarness';
import { validateStepConfig } from '.';
import { gitOpenPr } from './git-open-pr';
import { gitWaitForPr } from './git-wait-for-pr';

const REPO = 'acme/gitops';

describe('git-wait-for-pr against a loopback server speaking GitHub\'s REST API', () => {
  let gh: FakeGithub;
  let work: Awaited<ReturnType<typeof tempWorkDir>>;
  let repoURL: string;
  let credentials: ReturnType<typeof scmCredentialsFromConfig>;
  let prUrl: string;

  beforeEach(async () => {
    gh = await startFakeGithub();
    work = await tempWorkDir();
    repoURL = `${gh.origin}/${REPO}`;
    credentials = scmCredentialsFromConfig(
      new ConfigReader({ integrations: { github: [{ host: gh.host, apiBaseUrl: gh.apiBaseUrl, token: gh.token }] }, stagecoach: { git: { allowInsecureCredentials: [gh.host] } } }),
    );
    gh.setBranch(REPO, 'main');
    gh.setBranch(REPO, 'stagecoach/dev', 'Promote to dev');
    const opened = await runStep(
      gitOpenPr,
      { repoURL, sourceBranch: 'stagecoach/dev', targetBranch: 'main' },
      { workDir: work.dir, egress: LOOPBACK_ALLOWED, credentials },
    );
    prUrl = (opened.outputs!.pr as { url: string }).url;
  });

  afterEach(async () => {
    await gh.close();
    await work.cleanup();
  });

  const wait = (config: Record<string, unknown>, ctx: Record<string, unknown> = {}) =>
    runStep(gitWaitForPr, { repoURL, ...config }, { workDir: work.dir, egress: LOOPBACK_ALLOWED, credentials, ...ctx });

  it('reports Running while the pull request is open, to look again after 30 s', async () => {
    const result = await wait({ prNumber: 1 });
    expect(result).toEqual({
      status: 'Running',
      message: `waiting for pull request #1 to be merged: ${prUrl}`,
      outputs: { pr: { id: 1, url: prUrl, open: true, merged: false } },
      retryAfterMs: 30_000,
    });
  });

  it('looks again after Kargo\'s pollInterval when one is set', async () => {
    expect((await wait({ prNumber: 1, pollInterval: '2m' })).retryAfterMs).toBe(120_000);
  });

  it('succeeds with the merge commit once someone merged it', async () => {
    await wait({ prNumber: 1 });
    const mergeCommit = await gh.mergeByHand(REPO, 1);
    const result = await wait({ prNumber: 1 });
    expect(result).toEqual({
      status: 'Succeeded',
      message: `pull request #1 was merged as ${mergeCommit.slice(0, 7)}: ${prUrl}`,
      outputs: { pr: { id: 1, url: prUrl, open: false, merged: true }, commit: mergeCommit },
    });
    expect(gh.branchSha(REPO, 'main')).toBe(mergeCommit);
  });

  it('fails with a clear message when it was closed without being merged', async () => {
    gh.closeByHand(REPO, 1);
    const result = await wait({ prNumber: 1 });
    expect(result.status).toBe('Failed');
    expect(result.message).toBe(`pull request #1 was closed without being merged: ${prUrl}`);
    expect(result.outputs).toEqual({ pr: { id: 1, url: prUrl, open: false, merged: false } });
  });

  it('takes the number from an older git-open-pr\'s prNumber output (prNumberFromStep)', async () => {
    await gh.mergeByHand(REPO, 1);
    const result = await wait({ prNumberFromStep: 'open-pr' }, { outputs: { 'open-pr': { prNumber: 1 } } });
    expect(result.status).toBe('Succeeded');
  });

  it('takes the number from pr.id when prNumberFromStep names a current git-open-pr', async () => {
    const result = await wait({ prNumberFromStep: 'open-pr' }, { outputs: { 'open-pr': { pr: { id: 1, url: prUrl } } } });
    expect(result.status).toBe('Running');
  });

  it('accepts the number as a string, as an expression may produce it', async () => {
    expect((await wait({ prNumber: '1' })).status).toBe('Running');
  });

  it('fails naming the repository when there is no such pull request', async () => {
    const result = await wait({ prNumber: 42 });
    expect(result.status).toBe('Failed');
    expect(result.message).toBe(
      `GitHub: could not read pull request #42 of acme/gitops: HTTP 404 (GitHub says: Not Found); check repoURL (and the number), and that the credentials of integrations.github for ${gh.host} can see the repository`,
    );
  });

  it('throws (so the step\'s retry policy applies) when GitHub has a server error', async () => {
    const failing = await startLoopbackApi(() => ({ status: 502, body: { message: 'Server Error' } }));
    try {
      const toFailing = scmCredentialsFromConfig(
        new ConfigReader({ integrations: { github: [{ host: gh.host, apiBaseUrl: failing.origin, token: gh.token }] }, stagecoach: { git: { allowInsecureCredentials: [gh.host, failing.host] } } }),
      );
      await expect(wait({ prNumber: 1 }, { credentials: toFailing })).rejects.toThrow(
        `GitHub: could not read pull request #1 of acme/gitops: HTTP 502 (GitHub says: Server Error); ${failing.host} had a problem; the step will try again`,
      );
    } finally {
      await failing.close();
    }
  });
});

describe('git-wait-for-pr against a loopback server speaking GitLab\'s REST API', () => {
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

  it('waits while the merge request is open, succeeds with the merge commit, fails when closed', async () => {
    const credentials = scmCredentialsFromConfig(
      new ConfigReader({ integrations: { gitlab: [{ host: gl.host, apiBaseUrl: gl.apiBaseUrl, token: gl.token }] }, stagecoach: { git: { allowInsecureCredentials: [gl.host] } } }),
    );
    const repoURL = `${gl.origin}/${PROJECT}.git`;
    const ctx = { workDir: work.dir, egress: LOOPBACK_ALLOWED, credentials };
    await runStep(gitOpenPr, { repoURL, sourceBranch: 'stagecoach/prod', targetBranch: 'main' }, ctx);
    await runStep(gitOpenPr, { repoURL, sourceBranch: 'stagecoach/prod', targetBranch: 'main', title: 'other' }, ctx);
    gl.setBranch(PROJECT, 'stagecoach/other');
    await runStep(gitOpenPr, { repoURL, sourceBranch: 'stagecoach/other', targetBranch: 'main' }, ctx);
    const url = (iid: number) => `${gl.origin}/${PROJECT}/-/merge_requests/${iid}`;

    const running = await runStep(gitWaitForPr, { repoURL, prNumber: 1, pollInterval: '45s' }, ctx);
    expect(running).toMatchObject({ status: 'Running', retryAfterMs: 45_000, message: `waiting for merge request !1 to be merged: ${url(1)}` });

    const commit = gl.mergeByHand(PROJECT, 1);
    const merged = await runStep(gitWaitForPr, { repoURL, prNumber: 1 }, ctx);
    expect(merged).toMatchObject({
      status: 'Succeeded',
      outputs: { pr: { id: 1, url: url(1), open: false, merged: true }, commit },
    });
    expect(gl.branchSha(PROJECT, 'main')).toBe(commit);

    gl.closeByHand(PROJECT, 2);
    const closed = await runStep(gitWaitForPr, { repoURL, prNumber: 2 }, ctx);
    expect(closed).toMatchObject({ status: 'Failed', message: `merge request !2 was closed without being merged: ${url(2)}` });
  });
});

describe('git-wait-for-pr configuration', () => {
  const repoURL = 'https://github.com/acme/gitops';

  it('accepts Kargo\'s fields and the older prNumberFromStep', () => {
    expect(validateStepConfig('git-wait-for-pr', { repoURL, prNumber: 3, provider: 'gitlab', pollInterval: '1m', insecureSkipTLSVerify: true })).toEqual([]);
    expect(validateStepConfig('git-wait-for-pr', { repoURL, prNumberFromStep: 'open-pr' })).toEqual([]);
  });

  it('names the field that is wrong', () => {
    expect(validateStepConfig('git-wait-for-pr', { repoURL })).toEqual([
      { path: ['config', 'prNumber'], message: 'set one of prNumber and prNumberFromStep' },
    ]);
    expect(validateStepConfig('git-wait-for-pr', { repoURL, prNumber: 1, pollInterval: 'soon' })).toEqual([
      { path: ['config', 'pollInterval'], message: 'must be a duration such as "30s", "5m" or "1h"' },
    ]);
    expect(validateStepConfig('git-wait-for-pr', { repoURL, prNumber: 0 })).toEqual([
      { path: ['config', 'prNumber'], message: 'must be a pull request number (1 or more)' },
    ]);
  });

  it('names prNumberFromStep when that step has no number', async () => {
    const work = await tempWorkDir();
    try {
      await expect(
        runStep(gitWaitForPr, { repoURL, prNumberFromStep: 'push' }, { workDir: work.dir, outputs: { push: { branch: 'x' } } }),
      ).rejects.toThrow('prNumberFromStep: step "push" has no prNumber or pr.id output');
    } finally {
      await work.cleanup();
    }
  });
});
