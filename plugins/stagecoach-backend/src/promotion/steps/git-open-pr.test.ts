import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ConfigReader } from '@backstage/config';
import { scmCredentialsFromConfig } from '../../integrations/scm/fromIntegrations';
import { FakeGithub, startFakeGithub } from '../../__testUtils__/githubApi';
import { FakeGitlab, startFakeGitlab } from '../../__testUtils__/gitlabApi';
import { selfSignedCertificate } from '../../__testUtils__/registryProxy';
import { EgressPolicy } from '../../integrations/http/egress';
import { startLoopbackApi } from '../../__testUtils__/loopbackApi';
import { LOOPBACK_ALLOWED } from '../../__testUtils__/loopbackHttp';
import { runStep, tempWorkDir } from '../../__testUtils__/stepHarness';
import { validateStepConfig } from '.';
import { gitOpenPr } from './git-open-pr';

const REPO = 'acme/gitops';

function githubCredentials(gh: FakeGithub, token = gh.token) {
  return scmCredentialsFromConfig(
    new ConfigReader({ integrations: { github: [{ host: gh.host, apiBaseUrl: gh.apiBaseUrl, token }] }, stagecoach: { git: { allowInsecureCredentials: [gh.host] } } }),
  );
}

describe('git-open-pr against a loopback server speaking GitHub\'s REST API', () => {
  let gh: FakeGithub;
  let work: Awaited<ReturnType<typeof tempWorkDir>>;
  let repoURL: string;

  beforeEach(async () => {
    // GitHub Enterprise Server layout: the API under /api/v3
    gh = await startFakeGithub({ prefix: '/api/v3' });
    work = await tempWorkDir();
    repoURL = `${gh.origin}/${REPO}.git`;
    gh.setBranch(REPO, 'main', 'initial environments');
    gh.setBranch(REPO, 'stagecoach/dev', 'Promote brave-otter to dev\n\nimage demo/app:1.2.0');
  });

  afterEach(async () => {
    await gh.close();
    await work.cleanup();
  });

  const run = (config: Record<string, unknown>, ctx: Record<string, unknown> = {}) =>
    runStep(gitOpenPr, { repoURL, ...config }, { workDir: work.dir, egress: LOOPBACK_ALLOWED, credentials: githubCredentials(gh), ...ctx });

  it('opens a pull request titled after the source branch\'s newest commit, with the labels, using the configured token', async () => {
    const result = await run({ sourceBranch: 'stagecoach/dev', targetBranch: 'main', labels: ['promotion', 'dev'] });

    expect(result.status).toBe('Succeeded');
    const [pull] = gh.pulls(REPO);
    expect(pull).toMatchObject({
      title: 'Promote brave-otter to dev',
      body: 'image demo/app:1.2.0',
      head: 'stagecoach/dev',
      base: 'main',
      state: 'open',
      labels: ['promotion', 'dev'],
    });
    expect(result.outputs).toEqual({ pr: { id: pull.number, url: `${gh.origin}/${REPO}/pull/${pull.number}` }, prNumber: pull.number });
    expect(result.message).toBe(`opened pull request #${pull.number} from stagecoach/dev into main: ${gh.origin}/${REPO}/pull/${pull.number}`);
    expect(gh.requests.every(r => r.headers.authorization === `Bearer ${gh.token}`)).toBe(true);
    expect(gh.requests.every(r => r.path.startsWith('/api/v3/repos/acme/gitops/'))).toBe(true);
  });

  it('uses title and description as given', async () => {
    await run({ sourceBranch: 'stagecoach/dev', targetBranch: 'main', title: 'Deploy to dev', description: 'Automated by Stagecoach' });
    expect(gh.pulls(REPO)[0]).toMatchObject({ title: 'Deploy to dev', body: 'Automated by Stagecoach' });
  });

  it('is idempotent: a second run (a retried promotion) finds the same open pull request', async () => {
    const first = await run({ sourceBranch: 'stagecoach/dev', targetBranch: 'main' });
    gh.setBranch(REPO, 'stagecoach/dev', 'a retry pushed again');
    const second = await run({ sourceBranch: 'stagecoach/dev', targetBranch: 'main', labels: ['late'] });

    expect(second.status).toBe('Succeeded');
    expect(second.outputs).toEqual(first.outputs);
    expect(gh.pulls(REPO)).toHaveLength(1);
    // labels a retry asks for reach the existing pull request
    expect(gh.pulls(REPO)[0].labels).toEqual(['late']);
    expect(second.message).toMatch(/^pull request #1 from stagecoach\/dev into main was already open: /);
  });

  it('finds the pull request an earlier run opened and someone merged, instead of opening another', async () => {
    const first = await run({ sourceBranch: 'stagecoach/dev', targetBranch: 'main' });
    await gh.mergeByHand(REPO, 1);
    const again = await run({ sourceBranch: 'stagecoach/dev', targetBranch: 'main' });

    expect(again.status).toBe('Succeeded');
    expect(again.outputs).toEqual(first.outputs);
    expect(gh.pulls(REPO)).toHaveLength(1);
    expect(again.message).toMatch(/^pull request #1 from stagecoach\/dev was already merged/);
  });

  it('reads the source branch from an earlier step\'s branch output (sourceBranchFromStep)', async () => {
    const result = await run(
      { sourceBranchFromStep: 'push', targetBranch: 'main' },
      { outputs: { push: { branch: 'stagecoach/dev', commit: 'abc' } } },
    );
    expect(result.status).toBe('Succeeded');
    expect(gh.pulls(REPO)[0].head).toBe('stagecoach/dev');
  });

  it('names sourceBranchFromStep when the step it names did not run', async () => {
    await expect(run({ sourceBranchFromStep: 'push', targetBranch: 'main' }, { outputs: { clone: {} } })).rejects.toThrow(
      'sourceBranchFromStep: no step with alias "push" ran before this one (earlier steps: clone)',
    );
  });

  it('fails with a message naming sourceBranch when the branch was never pushed', async () => {
    await expect(run({ sourceBranch: 'stagecoach/nope', targetBranch: 'main' })).rejects.toThrow(
      'GitHub: sourceBranch "stagecoach/nope" does not exist in acme/gitops; push it first (git-push) or correct sourceBranch',
    );
    expect(gh.pulls(REPO)).toHaveLength(0);
  });

  it('fails when the source branch has nothing new, quoting GitHub', async () => {
    gh.branchFrom(REPO, 'main-copy', 'main');
    const result = await run({ sourceBranch: 'main-copy', targetBranch: 'main' });
    expect(result.status).toBe('Failed');
    expect(result.message).toBe(
      'GitHub: could not open a pull request from main-copy into main in acme/gitops: HTTP 422 (GitHub says: Validation Failed; No commits between main and main-copy); main-copy has nothing that main lacks: push the changes first',
    );
  });

  it('fails on HTTP 401 with a message naming the integration, never the token', async () => {
    const wrong = 'ghp_wrongTokenThatMustNotLeak987';
    const result = await run(
      { sourceBranch: 'stagecoach/dev', targetBranch: 'main' },
      { credentials: githubCredentials(gh, wrong) },
    );
    expect(result.status).toBe('Failed');
    expect(result.message).toBe(
      `GitHub: could not list pull requests of acme/gitops: HTTP 401 (GitHub says: Bad credentials); check integrations.github token (or apps) for ${gh.host}`,
    );
    expect(result.message).not.toContain(wrong);
    expect(gh.requests[0].headers.authorization).toBe(`Bearer ${wrong}`);
  });

  it('says what to configure when no credentials are configured for the host', async () => {
    const anonymous = scmCredentialsFromConfig(
      new ConfigReader({ integrations: { github: [{ host: gh.host, apiBaseUrl: gh.apiBaseUrl }] } }),
    );
    const result = await run({ sourceBranch: 'stagecoach/dev', targetBranch: 'main' }, { credentials: anonymous });
    expect(result.message).toBe(
      `GitHub: could not list pull requests of acme/gitops: HTTP 401 (GitHub says: Requires authentication); no credentials are configured for ${gh.host}: set integrations.github token (or apps)`,
    );
  });

  it('fails with the repository named when it does not exist', async () => {
    const result = await run({ repoURL: `${gh.origin}/acme/missing`, sourceBranch: 'stagecoach/dev', targetBranch: 'main' });
    expect(result.status).toBe('Failed');
    expect(result.message).toBe(
      `GitHub: could not list pull requests of acme/missing: HTTP 404 (GitHub says: Not Found); check repoURL (and the number), and that the credentials of integrations.github for ${gh.host} can see the repository`,
    );
  });
});

describe('git-open-pr against a loopback server speaking GitLab\'s REST API', () => {
  let gl: FakeGitlab;
  let work: Awaited<ReturnType<typeof tempWorkDir>>;
  const PROJECT = 'platform/deploy/gitops';

  beforeEach(async () => {
    gl = await startFakeGitlab();
    work = await tempWorkDir();
    gl.setBranch(PROJECT, 'main', 'initial');
    gl.setBranch(PROJECT, 'stagecoach/prod', 'Promote brave-otter to prod');
  });

  afterEach(async () => {
    await gl.close();
    await work.cleanup();
  });

  const credentials = () =>
    scmCredentialsFromConfig(
      new ConfigReader({ integrations: { gitlab: [{ host: gl.host, apiBaseUrl: gl.apiBaseUrl, token: gl.token }] }, stagecoach: { git: { allowInsecureCredentials: [gl.host] } } }),
    );
  const run = (config: Record<string, unknown>) =>
    runStep(
      gitOpenPr,
      { repoURL: `${gl.origin}/${PROJECT}.git`, sourceBranch: 'stagecoach/prod', targetBranch: 'main', ...config },
      { workDir: work.dir, egress: LOOPBACK_ALLOWED, credentials: credentials() },
    );

  it('opens a merge request in a project inside subgroups, labelled, and finds it again on a second run', async () => {
    const first = await run({ labels: ['promotion'] });
    const second = await run({ labels: ['promotion'] });

    expect(first.status).toBe('Succeeded');
    expect(gl.mergeRequests(PROJECT)).toHaveLength(1);
    expect(gl.mergeRequests(PROJECT)[0]).toMatchObject({
      title: 'Promote brave-otter to prod',
      source: 'stagecoach/prod',
      target: 'main',
      labels: ['promotion'],
    });
    const url = `${gl.origin}/${PROJECT}/-/merge_requests/1`;
    expect(first.outputs).toEqual({ pr: { id: 1, url }, prNumber: 1 });
    expect(first.message).toBe(`opened merge request !1 from stagecoach/prod into main: ${url}`);
    expect(second.outputs).toEqual(first.outputs);
    expect(gl.requests.every(r => r.path.startsWith('/api/v4/projects/platform%2Fdeploy%2Fgitops/'))).toBe(true);
    expect(gl.requests.every(r => r.headers.authorization === `Bearer ${gl.token}`)).toBe(true);
  });

  it('fails on HTTP 401 naming integrations.gitlab, without the token', async () => {
    const bad = scmCredentialsFromConfig(
      new ConfigReader({ integrations: { gitlab: [{ host: gl.host, apiBaseUrl: gl.apiBaseUrl, token: 'glpat-doNotLeakThis' }] }, stagecoach: { git: { allowInsecureCredentials: [gl.host] } } }),
    );
    const result = await runStep(
      gitOpenPr,
      { repoURL: `${gl.origin}/${PROJECT}`, sourceBranch: 'stagecoach/prod', targetBranch: 'main' },
      { workDir: work.dir, egress: LOOPBACK_ALLOWED, credentials: bad },
    );
    expect(result.status).toBe('Failed');
    expect(result.message).toBe(
      `GitLab: could not list merge requests of platform/deploy/gitops: HTTP 401 (GitLab says: 401 Unauthorized); check integrations.gitlab token for ${gl.host}`,
    );
    expect(result.message).not.toContain('glpat-doNotLeakThis');
  });
});

describe('git-open-pr over HTTPS with a self-signed certificate (loopback GitHub REST API)', () => {
  it('refuses the certificate unless insecureSkipTLSVerify is set', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'stagecoach-tls-'));
    const gh = await startFakeGithub({ tls: selfSignedCertificate(dir) });
    const work = await tempWorkDir();
    try {
      gh.setBranch(REPO, 'main');
      gh.setBranch(REPO, 'stagecoach/dev');
      const config = { repoURL: `${gh.origin}/${REPO}`, sourceBranch: 'stagecoach/dev', targetBranch: 'main' };
      const ctx = { workDir: work.dir, egress: LOOPBACK_ALLOWED, credentials: githubCredentials(gh) };

      const strict = await runStep(gitOpenPr, config, ctx);
      expect(strict.status).toBe('Failed');
      expect(strict.message).toMatch(
        /^GitHub: could not list pull requests of acme\/gitops: the TLS certificate of https:\/\/127\.0\.0\.1:\d+ could not be verified \(\w+\); for a host with a self-signed certificate set insecureSkipTLSVerify: true$/,
      );

      const insecure = await runStep(gitOpenPr, { ...config, insecureSkipTLSVerify: true }, ctx);
      expect(insecure.status).toBe('Succeeded');
      expect(gh.pulls(REPO)).toHaveLength(1);
    } finally {
      await gh.close();
      await work.cleanup();
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});

describe('git-open-pr configuration', () => {
  const base = { repoURL: 'https://github.com/acme/gitops', targetBranch: 'main' };

  it('accepts Kargo\'s fields, including the deprecated createTargetBranch', () => {
    expect(
      validateStepConfig('git-open-pr', {
        ...base,
        sourceBranch: 'x',
        createTargetBranch: true,
        provider: 'github',
        insecureSkipTLSVerify: false,
        title: 't',
        description: 'd',
        labels: ['a'],
      }),
    ).toEqual([]);
  });

  it('refuses Azure DevOps with a clear message', () => {
    expect(validateStepConfig('git-open-pr', { ...base, sourceBranch: 'x', provider: 'azure' })).toEqual([
      {
        path: ['config', 'provider'],
        message: 'azure (Azure DevOps) pull requests are not supported yet; use github, gitlab, gitea or bitbucket',
      },
    ]);
  });

  it('needs exactly one of sourceBranch and sourceBranchFromStep, and refuses unknown fields', () => {
    expect(validateStepConfig('git-open-pr', base)).toEqual([
      { path: ['config', 'sourceBranch'], message: 'set one of sourceBranch and sourceBranchFromStep' },
    ]);
    expect(validateStepConfig('git-open-pr', { ...base, sourceBranch: 'x', sourceBranchFromStep: 'push' })).toEqual([
      { path: ['config', 'sourceBranch'], message: 'set one of sourceBranch and sourceBranchFromStep' },
    ]);
    expect(validateStepConfig('git-open-pr', { ...base, sourceBranch: 'x', reviewers: ['me'] })).toEqual([
      { path: ['config'], message: 'unknown field "reviewers"' },
    ]);
  });

  it('refuses a pull request from a branch into itself', async () => {
    const work = await tempWorkDir();
    try {
      await expect(runStep(gitOpenPr, { ...base, sourceBranch: 'main' }, { workDir: work.dir })).rejects.toThrow(
        'sourceBranch and targetBranch are both "main": a pull request needs two branches',
      );
    } finally {
      await work.cleanup();
    }
  });

  it('asks for provider when the host is unknown and nothing is configured for it', async () => {
    const work = await tempWorkDir();
    try {
      await expect(
        runStep(gitOpenPr, { repoURL: 'https://git.example.com/acme/gitops', sourceBranch: 'x', targetBranch: 'main' }, { workDir: work.dir }),
      ).rejects.toThrow(
        'cannot tell which Git provider serves git.example.com: set provider (github, gitlab, gitea or bitbucket), or configure git.example.com under integrations',
      );
    } finally {
      await work.cleanup();
    }
  });
});

describe('git-open-pr and the egress policy (loopback servers)', () => {
  let work: Awaited<ReturnType<typeof tempWorkDir>>;
  beforeEach(async () => {
    work = await tempWorkDir();
  });
  afterEach(async () => {
    await work.cleanup();
  });
  const open = (repoURL: string, ctx: Record<string, unknown> = {}) =>
    runStep(gitOpenPr, { repoURL, provider: 'github', sourceBranch: 'stagecoach/dev', targetBranch: 'main' }, { workDir: work.dir, ...ctx });

  it('refuses a repoURL at the cloud metadata address before any request, naming the rule', async () => {
    await expect(open('https://169.254.169.254/a/b', { egress: LOOPBACK_ALLOWED })).rejects.toThrow(
      /^GitHub: could not list pull requests of a\/b: request to https:\/\/169\.254\.169\.254\/api\/v3\/repos\/a\/b\/pulls\?\S+ refused by the egress policy: 169\.254\.169\.254 is in the denied range 169\.254\.169\.254\/32 \(cloud metadata\) — see stagecoach\.egress$/,
    );
  });

  it('sends nothing to a loopback API under the default policy', async () => {
    const gh = await startFakeGithub();
    try {
      await expect(open(`${gh.origin}/${REPO}`, { credentials: githubCredentials(gh) })).rejects.toThrow(
        `refused by the egress policy: 127.0.0.1 is in the denied range 127.0.0.0/8 (loopback)`,
      );
      expect(gh.requests).toEqual([]);
    } finally {
      await gh.close();
    }
  });

  it('checks the address it connects to: a host name that resolves to the metadata address is refused', async () => {
    const resolvesToMetadata = new EgressPolicy({ allowLoopback: true, resolve: async () => [{ address: '169.254.169.254', family: 4 }] });
    await expect(open('http://git.internal.test:8080/a/b', { egress: resolvesToMetadata })).rejects.toThrow(
      'refused by the egress policy: git.internal.test resolves to 169.254.169.254, which is in the denied range 169.254.169.254/32 (cloud metadata)',
    );
  });

  it('refuses a redirect to the metadata address at that hop, after the API\'s own answer', async () => {
    const api = await startLoopbackApi(() => ({ status: 307, headers: { Location: 'http://169.254.169.254/latest/meta-data/' } }));
    try {
      await expect(open(`${api.origin}/${REPO}`, { egress: LOOPBACK_ALLOWED })).rejects.toThrow(
        `request to http://169.254.169.254/latest/meta-data/ (redirected from ${api.origin}/api/v3/repos/acme/gitops/pulls?`,
      );
      expect(api.requests).toHaveLength(1);
    } finally {
      await api.close();
    }
  });
});
