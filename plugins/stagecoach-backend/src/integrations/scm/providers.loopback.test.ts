import { LOOPBACK_ALLOWED } from '../../__testUtils__/loopbackHttp';
import { fakeSha, LoopbackApi, LoopbackHandler, startLoopbackApi } from '../../__testUtils__/loopbackApi';
import { connectScmProvider, openPullRequest, ScmApiError, StepProviderName } from '.';
import type { ScmApiAccess, ScmCredentials } from './ScmCredentials';

/** Credentials that send every API request to the loopback server. */
function pointingAt(access: ScmApiAccess): ScmCredentials {
  return { git: async () => undefined, api: async () => access };
}

let api: LoopbackApi | undefined;
afterEach(async () => {
  await api?.close();
  api = undefined;
});

async function serve(handler: LoopbackHandler) {
  api = await startLoopbackApi(handler);
  return api;
}

function connect(repoURL: string, access: ScmApiAccess, provider?: StepProviderName) {
  return connectScmProvider({ repoURL, provider, credentials: pointingAt(access), egress: LOOPBACK_ALLOWED });
}

describe('Gitea provider against a loopback server speaking Gitea\'s REST API v1', () => {
  it('opens a labelled pull request, finds it again, and merges it', async () => {
    const featureSha = fakeSha();
    const mergeSha = fakeSha();
    let pull: any;
    const a = await serve(req => {
      if (req.headers.authorization !== 'token gitea-token') return { status: 401, body: { message: 'user does not exist', url: 'x' } };
      const p = req.path.replace('/api/v1/repos/acme/gitops', '');
      if (req.method === 'GET' && p === '/branches/stagecoach%2Fdev') {
        return { status: 200, body: { name: 'stagecoach/dev', commit: { id: featureSha, message: 'Promote to dev\n' } } };
      }
      if (req.method === 'GET' && p === '/pulls') {
        const state = req.query.get('state');
        return { status: 200, body: pull && (pull.state === state) ? [pull] : [] };
      }
      if (req.method === 'POST' && p === '/pulls') {
        pull = {
          id: 99,
          number: 3,
          state: 'open',
          title: req.body.title,
          body: req.body.body,
          html_url: `${a.origin}/acme/gitops/pulls/3`,
          merged: false,
          merge_commit_sha: null,
          mergeable: true,
          labels: [],
          head: { ref: req.body.head, sha: featureSha },
          base: { ref: req.body.base, sha: fakeSha() },
        };
        return { status: 201, body: pull };
      }
      if (req.method === 'GET' && p === '/labels') return { status: 200, body: [{ id: 7, name: 'promotion', color: '#00aabb' }] };
      if (req.method === 'POST' && p === '/issues/3/labels') {
        pull.labels = [{ id: 7, name: 'promotion' }];
        return { status: 200, body: pull.labels };
      }
      if (req.method === 'GET' && p === '/pulls/3') return { status: 200, body: pull };
      if (req.method === 'POST' && p === '/pulls/3/merge') {
        Object.assign(pull, { state: 'closed', merged: true, merge_commit_sha: mergeSha });
        return { status: 200 };
      }
      return { status: 404, body: { message: 'not found' } };
    });
    const access = { provider: 'gitea' as const, apiBaseUrl: `${a.origin}/api/v1`, authorization: 'token gitea-token' };
    const provider = await connect(`${a.origin}/acme/gitops.git`, access);

    const opened = await openPullRequest(provider, { sourceBranch: 'stagecoach/dev', targetBranch: 'main', labels: ['promotion'] });
    expect(opened).toMatchObject({ created: true, pr: { number: 3, url: `${a.origin}/acme/gitops/pulls/3`, labels: ['promotion'] } });
    expect(a.requests.find(r => r.method === 'POST' && r.path.endsWith('/pulls'))!.body).toEqual({
      head: 'stagecoach/dev',
      base: 'main',
      title: 'Promote to dev',
      body: '',
    });
    // label IDs, which every Gitea version takes
    expect(a.requests.find(r => r.path.endsWith('/issues/3/labels'))!.body).toEqual({ labels: [7] });

    const again = await openPullRequest(provider, { sourceBranch: 'stagecoach/dev', targetBranch: 'main', labels: ['promotion'] });
    expect(again).toMatchObject({ created: false, pr: { number: 3 } });

    const merged = await provider.mergePullRequest(3, 'squash');
    expect(merged).toMatchObject({ merged: true, pr: { mergeCommit: mergeSha } });
    expect(a.requests.find(r => r.path.endsWith('/pulls/3/merge'))!.body).toEqual({ Do: 'squash', head_commit_id: featureSha });
    expect(a.requests.every(r => r.path.startsWith('/api/v1/repos/acme/gitops/'))).toBe(true);
  });

  it('names labels that do not exist in the repository', async () => {
    const a = await serve(req => {
      if (req.path.endsWith('/labels') && req.path.startsWith('/api/v1/repos/')) return { status: 200, body: [] };
      // a user, not an organisation: no labels of its own
      if (req.path === '/api/v1/orgs/acme/labels') return { status: 404, body: { message: 'GetOrgByName' } };
      return { status: 404 };
    });
    const provider = await connect(`${a.origin}/acme/gitops`, { provider: 'gitea', apiBaseUrl: `${a.origin}/api/v1` });
    await expect(
      provider.addLabels({ number: 1, url: '', open: true, merged: false, sourceBranch: 'a', targetBranch: 'b', labels: [] }, ['promotion']),
    ).rejects.toThrow('Gitea: labels "promotion" do not exist in acme/gitops; create them there first or correct labels');
  });
});

describe('Bitbucket Cloud provider against a loopback server speaking Bitbucket\'s REST API 2.0', () => {
  it('opens a pull request once, and merges it with a strategy, reporting the full merge commit', async () => {
    const head = fakeSha();
    const mergeSha = fakeSha();
    let pull: any;
    const a = await serve(req => {
      expect(req.headers.authorization).toBe(`Basic ${Buffer.from('bb-bot:app-pass').toString('base64')}`);
      const p = req.path.replace('/2.0/repositories/acme/gitops', '');
      if (req.method === 'GET' && p === '/refs/branches/stagecoach%2Fdev') {
        return { status: 200, body: { name: 'stagecoach/dev', type: 'branch', target: { type: 'commit', hash: head, message: 'Promote\n\nto dev' } } };
      }
      if (req.method === 'GET' && p === '/pullrequests') return { status: 200, body: { pagelen: 50, page: 1, values: pull ? [pull] : [] } };
      if (req.method === 'POST' && p === '/pullrequests') {
        pull = {
          type: 'pullrequest',
          id: 12,
          title: req.body.title,
          description: req.body.description,
          state: 'OPEN',
          links: { html: { href: `https://bitbucket.org/acme/gitops/pull-requests/12` } },
          source: { branch: { name: 'stagecoach/dev' }, commit: { hash: head.slice(0, 12) } },
          destination: { branch: { name: 'main' }, commit: { hash: fakeSha().slice(0, 12) } },
          merge_commit: null,
        };
        return { status: 201, body: pull };
      }
      if (req.method === 'GET' && p === '/pullrequests/12') return { status: 200, body: pull };
      if (req.method === 'POST' && p === '/pullrequests/12/merge') {
        Object.assign(pull, { state: 'MERGED', merge_commit: { hash: mergeSha.slice(0, 12) } });
        return { status: 200, body: pull };
      }
      if (req.method === 'GET' && p === `/commit/${mergeSha.slice(0, 12)}`) return { status: 200, body: { hash: mergeSha, type: 'commit' } };
      return { status: 404, body: { type: 'error', error: { message: 'Resource not found' } } };
    });
    const access = {
      provider: 'bitbucketCloud' as const,
      apiBaseUrl: `${a.origin}/2.0`,
      authorization: `Basic ${Buffer.from('bb-bot:app-pass').toString('base64')}`,
    };
    const provider = await connect('https://bitbucket.org/acme/gitops.git', access, 'bitbucket');

    const first = await openPullRequest(provider, { sourceBranch: 'stagecoach/dev', targetBranch: 'main', labels: [] });
    const second = await openPullRequest(provider, { sourceBranch: 'stagecoach/dev', targetBranch: 'main', labels: [] });
    expect(first).toMatchObject({ created: true, pr: { number: 12, url: 'https://bitbucket.org/acme/gitops/pull-requests/12' } });
    expect(second).toMatchObject({ created: false, pr: { number: 12 } });
    expect(a.requests.filter(r => r.method === 'POST')).toHaveLength(1);
    const list = a.requests.find(r => r.method === 'GET' && r.path.endsWith('/pullrequests'))!;
    expect(list.query.get('q')).toBe('source.branch.name = "stagecoach/dev" AND destination.branch.name = "main"');
    expect(list.query.getAll('state')).toEqual(['OPEN', 'MERGED']);
    expect(a.requests.find(r => r.method === 'POST')!.body).toEqual({
      title: 'Promote',
      description: 'to dev',
      source: { branch: { name: 'stagecoach/dev' } },
      destination: { branch: { name: 'main' } },
      close_source_branch: false,
    });

    const merged = await provider.mergePullRequest(12, 'squash');
    expect(merged).toMatchObject({ merged: true, pr: { mergeCommit: mergeSha } });
    expect(a.requests.find(r => r.path.endsWith('/merge'))!.body).toEqual({ type: 'pullrequest_merge_parameters', merge_strategy: 'squash' });

    // a retried promotion recognises the merged pull request by its (abbreviated) head
    const afterMerge = await openPullRequest(provider, { sourceBranch: 'stagecoach/dev', targetBranch: 'main', labels: [] });
    expect(afterMerge).toMatchObject({ created: false, pr: { number: 12, merged: true } });
  });
});

describe('Bitbucket Server provider against a loopback server speaking Bitbucket Server\'s REST API 1.0', () => {
  it('finds the pull request another run opened a moment earlier (409 DuplicatePullRequestException) and merges it with its version', async () => {
    const head = fakeSha();
    const mergeSha = fakeSha();
    const pull: any = {
      id: 5,
      version: 2,
      title: 'Promote',
      state: 'OPEN',
      fromRef: { id: 'refs/heads/stagecoach/dev', displayId: 'stagecoach/dev', latestCommit: head },
      toRef: { id: 'refs/heads/main', displayId: 'main', latestCommit: fakeSha() },
      links: { self: [{ href: 'https://bitbucket.example.com/projects/PLAT/repos/gitops/pull-requests/5' }] },
    };
    let listed = 0;
    const a = await serve(req => {
      expect(req.headers.authorization).toBe('Bearer bbs-token');
      const p = req.path.replace('/rest/api/1.0/projects/PLAT/repos/gitops', '');
      if (req.method === 'GET' && p === '/pull-requests') {
        // the other run's pull request shows up from the second look on
        return { status: 200, body: { size: 1, limit: 100, isLastPage: true, start: 0, values: listed++ === 0 ? [] : [pull] } };
      }
      if (req.method === 'GET' && p === '/branches') {
        return {
          status: 200,
          body: {
            values: [
              { id: 'refs/heads/stagecoach/dev-old', displayId: 'stagecoach/dev-old', latestCommit: fakeSha() },
              { id: 'refs/heads/stagecoach/dev', displayId: 'stagecoach/dev', latestCommit: head },
            ],
          },
        };
      }
      if (req.method === 'GET' && p === `/commits/${head}`) return { status: 200, body: { id: head, message: 'Promote' } };
      if (req.method === 'POST' && p === '/pull-requests') {
        return {
          status: 409,
          body: {
            errors: [
              {
                context: null,
                message: 'Only one pull request may be open for a given source and target branch',
                exceptionName: 'com.atlassian.bitbucket.pull.DuplicatePullRequestException',
              },
            ],
          },
        };
      }
      if (req.method === 'GET' && p === '/pull-requests/5') return { status: 200, body: pull };
      if (req.method === 'GET' && p === '/pull-requests/5/merge') return { status: 200, body: { canMerge: true, conflicted: false, outcome: 'CLEAN', vetoes: [] } };
      if (req.method === 'POST' && p === '/pull-requests/5/merge') {
        Object.assign(pull, { state: 'MERGED', version: 3, properties: { mergeCommit: { id: mergeSha, displayId: mergeSha.slice(0, 11) } } });
        return { status: 200, body: pull };
      }
      return { status: 404, body: { errors: [{ message: 'not found' }] } };
    });
    const access = { provider: 'bitbucketServer' as const, apiBaseUrl: `${a.origin}/rest/api/1.0`, authorization: 'Bearer bbs-token' };
    const provider = await connect('https://bitbucket.example.com/scm/PLAT/gitops.git', access, 'bitbucket');

    const opened = await openPullRequest(provider, { sourceBranch: 'stagecoach/dev', targetBranch: 'main', labels: [] });
    expect(opened).toMatchObject({
      created: false,
      pr: { number: 5, url: 'https://bitbucket.example.com/projects/PLAT/repos/gitops/pull-requests/5' },
    });
    const create = a.requests.find(r => r.method === 'POST')!;
    expect(create.body).toEqual({
      title: 'Promote',
      description: '',
      fromRef: { id: 'refs/heads/stagecoach/dev', repository: { slug: 'gitops', project: { key: 'PLAT' } } },
      toRef: { id: 'refs/heads/main', repository: { slug: 'gitops', project: { key: 'PLAT' } } },
    });
    expect(a.requests[0].query.get('at')).toBe('refs/heads/main');

    const merged = await provider.mergePullRequest(5, 'squash');
    expect(merged).toMatchObject({ merged: true, pr: { mergeCommit: mergeSha } });
    const mergeCall = a.requests.find(r => r.method === 'POST' && r.path.endsWith('/merge'))!;
    expect(mergeCall.query.get('version')).toBe('2');
    expect(mergeCall.body).toEqual({ strategyId: 'squash' });
  });

  it('reports the vetoes that keep a pull request from being merged', async () => {
    const a = await serve(req => {
      if (req.path.endsWith('/pull-requests/5')) {
        return { status: 200, body: { id: 5, version: 0, state: 'OPEN', fromRef: { displayId: 'x' }, toRef: { displayId: 'main' }, links: { self: [{ href: 'u' }] } } };
      }
      if (req.path.endsWith('/pull-requests/5/merge')) {
        return {
          status: 200,
          body: { canMerge: false, conflicted: false, vetoes: [{ summaryMessage: 'Not all required reviewers have approved yet', detailedMessage: '...' }] },
        };
      }
      return { status: 404 };
    });
    const provider = await connect('https://bitbucket.example.com/scm/PLAT/gitops.git', {
      provider: 'bitbucketServer',
      apiBaseUrl: `${a.origin}/rest/api/1.0`,
    });
    expect(await provider.mergePullRequest(5)).toEqual({
      merged: false,
      reason: 'Not all required reviewers have approved yet',
      final: false,
    });
  });
});

describe('SCM API errors', () => {
  it('never carry the token, even when the host echoes it back', async () => {
    const token = 'ghp_echoedBackByAProxy12345';
    const a = await serve(() => ({ status: 403, body: { message: `token ${token} lacks scope; Authorization: Bearer ${token}` } }));
    const provider = await connect(`${a.origin}/acme/gitops`, {
      provider: 'github',
      apiBaseUrl: a.origin,
      authorization: `Bearer ${token}`,
    });
    const error = await provider.getPullRequest(1).catch(e => e);
    expect(error).toBeInstanceOf(ScmApiError);
    expect(error.message).not.toContain(token);
    expect(error.message).toBe(
      `GitHub: could not read pull request #1 of acme/gitops: HTTP 403 (GitHub says: token *** lacks scope; Authorization: Bearer ***); the credentials of integrations.github for ${a.host} are not allowed to read pull request #1 of acme/gitops: a token needs "Pull requests: write" and "Contents: read" (fine-grained) or the repo scope (classic)`,
    );
    expect(error.retryable).toBe(false);
  });

  it('count a rate limit as worth retrying', async () => {
    const a = await serve(() => ({
      status: 403,
      body: { message: 'API rate limit exceeded for installation ID 1.' },
      headers: { 'x-ratelimit-remaining': '0' },
    }));
    const provider = await connect(`${a.origin}/acme/gitops`, { provider: 'github', apiBaseUrl: a.origin, authorization: 'Bearer x' });
    const error = await provider.getPullRequest(1).catch(e => e);
    expect(error.retryable).toBe(true);
    expect(error.message).toMatch(/is rate limiting these requests; the step will try again later$/);
  });

  it('say which host could not be reached', async () => {
    const a = await serve(() => ({ status: 200 }));
    const base = a.origin;
    await a.close();
    api = undefined;
    const provider = await connect(`${base}/acme/gitops`, { provider: 'gitlab', apiBaseUrl: `${base}/api/v4` });
    const error = await provider.getPullRequest(1).catch(e => e);
    expect(error.retryable).toBe(true);
    expect(error.message).toMatch(new RegExp(`^GitLab: could not read merge request !1 of acme/gitops: ${base}/api/v4 could not be reached \\(.+\\)$`));
  });
});
