/* eslint jest/expect-expect: ["warn", { "assertFunctionNames": ["expect", "expectAccepted", "expectRefused"] }] */
import { createHmac } from 'node:crypto';
import express from 'express';
import request from 'supertest';
import type { LoggerService } from '@backstage/backend-plugin-api';
import { createWebhookRouter, WebhookRouterOptions } from './router';
import type { WebhookEvent, WebhookReceiverConfig } from './types';
import * as samples from './__fixtures__/payloads';

const SECRETS = {
  github: 'gh-3f9a1c7e5b2d4068a1c3e5f7092b4d6f',
  gitlab: 'gl-8c1e3a5f7b9d0e2c4a6f8b1d3e5a7c9f',
  gitea: 'gt-2b4d6f8a0c1e3a5c7e9b0d2f4a6c8e0b',
  bitbucket: 'bb-9e7c5a3f1d0b8f6d4b2e0c8a6e4c2a0d',
  dockerhub: 'dh-5a7c9e1b3d5f7a9c1e3b5d7f9a1c3e5b',
  harbor: 'hb-1c3e5a7b9d1f3a5c7e9b1d3f5a7c9e1b',
  quay: 'qy-7e9b1d3f5a7c9e1b3d5f7a9c1e3b5d7f',
  distribution: 'ds-4d6f8a0c2e4a6c8e0b2d4f6a8c0e2b4d',
  generic: 'gn-6f8a0c2e4b6d8f0a2c4e6b8d0f2a4c6e',
} as const;

const receivers: WebhookReceiverConfig[] = (Object.keys(SECRETS) as Array<keyof typeof SECRETS>).map(type => ({
  name: `${type}-main`,
  type,
  secret: SECRETS[type],
}));

const hmac = (secret: string, body: string) => createHmac('sha256', secret).update(body).digest('hex');

interface Captured {
  level: string;
  message: string;
  meta?: unknown;
}

function captureLogger(into: Captured[]): LoggerService {
  const log = (level: string) => (message: string, meta?: unknown) => {
    into.push({ level, message, meta });
  };
  const logger: LoggerService = {
    error: log('error'),
    warn: log('warn'),
    info: log('info'),
    debug: log('debug'),
    child: () => logger,
  };
  return logger;
}

const logs: Captured[] = [];
const responses: string[] = [];
const onEvent = jest.fn<ReturnType<WebhookRouterOptions['onEvent']>, Parameters<WebhookRouterOptions['onEvent']>>(
  async () => ({ warehouses: ['demo/api'] }),
);

function appWith(options: Partial<WebhookRouterOptions> = {}, before?: express.RequestHandler) {
  const app = express();
  // Like Backstage's request log: the URL, printed once the answer is sent.
  app.use((req, res, next) => {
    res.on('finish', () => logs.push({ level: 'info', message: `${req.method} ${req.originalUrl} ${res.statusCode}` }));
    next();
  });
  if (before) app.use(before);
  app.use(
    '/api/stagecoach/webhooks',
    createWebhookRouter({ receivers, onEvent, logger: captureLogger(logs), ...options }),
  );
  return app;
}

const app = appWith();

/** Posts a body (a string, sent byte for byte) and records the answer for the no-secret check. */
async function post(path: string, body: string | object, headers: Record<string, string> = {}, on = app) {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  const res = await request(on)
    .post(`/api/stagecoach/webhooks/${path}`)
    .set({ 'Content-Type': 'application/json', ...headers })
    .send(text);
  responses.push(JSON.stringify(res.headers) + res.text);
  return res;
}

const json = (o: object) => JSON.stringify(o);

beforeEach(() => onEvent.mockClear());

function expectAccepted(res: request.Response, event: WebhookEvent, receiver: string) {
  expect(res.status).toBe(202);
  expect(res.body).toEqual({ event, warehouses: ['demo/api'] });
  expect(onEvent).toHaveBeenCalledTimes(1);
  expect(onEvent).toHaveBeenCalledWith(event, expect.objectContaining({ receiver }));
}

function expectRefused(res: request.Response, receiver: string) {
  expect(res.status).toBe(401);
  expect(res.body).toEqual({
    error: {
      name: 'AuthenticationError',
      message: `webhook signature does not match the secret of receiver ${receiver}`,
    },
  });
  expect(onEvent).not.toHaveBeenCalled();
}

describe('GitHub', () => {
  const signed = (event: string, body: object, secret: string = SECRETS.github) => {
    const text = json(body);
    return post('github-main', text, { 'X-GitHub-Event': event, 'X-Hub-Signature-256': `sha256=${hmac(secret, text)}` });
  };

  it('refreshes on a push, naming the http URLs of the repository', async () => {
    const res = await signed('push', samples.githubPush);
    expectAccepted(
      res,
      { kind: 'git', repoURLs: ['https://github.com/acme/api.git', 'https://github.com/acme/api'] },
      'github-main',
    );
  });

  it('refreshes on a container package event, naming the GHCR repository', async () => {
    const res = await signed('package', samples.githubPackagePublished);
    expectAccepted(res, { kind: 'image', repositories: ['ghcr.io/acme/api'] }, 'github-main');
  });

  it('reads the repository from owner and name when the version has no package_url', async () => {
    const { package_version: _, ...rest } = samples.githubPackagePublished.package;
    const res = await signed('registry_package', { action: 'published', registry_package: { ...rest, name: 'API' } });
    expectAccepted(res, { kind: 'image', repositories: ['ghcr.io/acme/api'] }, 'github-main');
  });

  it('answers ping, other events and non-container packages with 200 and triggers nothing', async () => {
    const ping = await signed('ping', samples.githubPing);
    expect(ping.status).toBe(200);
    expect(ping.body).toEqual({ ignored: true, reason: expect.stringContaining('ping') });
    const issues = await signed('issues', { action: 'opened' });
    expect(issues.status).toBe(200);
    expect(issues.body.reason).toContain('"issues"');
    const npm = await signed('registry_package', samples.githubRegistryPackageNpm);
    expect(npm.status).toBe(200);
    expect(npm.body.reason).toContain('npm');
    expect(onEvent).not.toHaveBeenCalled();
  });

  it('accepts the form-encoded content type, whose signature covers the form', async () => {
    const form = `payload=${encodeURIComponent(json(samples.githubPush))}`;
    const res = await post('github-main', form, {
      'Content-Type': 'application/x-www-form-urlencoded',
      'X-GitHub-Event': 'push',
      'X-Hub-Signature-256': `sha256=${hmac(SECRETS.github, form)}`,
    });
    expect(res.status).toBe(202);
  });

  it('refuses a wrong, missing, truncated or SHA-1 signature with 401', async () => {
    expectRefused(await signed('push', samples.githubPush, 'not-the-secret'), 'github-main');
    expectRefused(await post('github-main', samples.githubPush, { 'X-GitHub-Event': 'push' }), 'github-main');
    const text = json(samples.githubPush);
    const sig = hmac(SECRETS.github, text);
    for (const header of [`sha256=${sig.slice(0, 40)}`, sig, `sha1=${sig}`, 'sha256=']) {
      expectRefused(
        await post('github-main', text, { 'X-GitHub-Event': 'push', 'X-Hub-Signature-256': header }),
        'github-main',
      );
    }
  });

  it('refuses a signature made over other bytes (the body was changed)', async () => {
    const text = json(samples.githubPush);
    const tampered = text.replace('acme/api', 'evil/api');
    const res = await post('github-main', tampered, {
      'X-GitHub-Event': 'push',
      'X-Hub-Signature-256': `sha256=${hmac(SECRETS.github, text)}`,
    });
    expectRefused(res, 'github-main');
  });

  it('answers 400 naming what was expected for malformed JSON or a payload without a repository', async () => {
    const broken = '{"ref": "refs/heads/main", ';
    const res = await post('github-main', broken, {
      'X-GitHub-Event': 'push',
      'X-Hub-Signature-256': `sha256=${hmac(SECRETS.github, broken)}`,
    });
    expect(res.status).toBe(400);
    expect(res.body.error).toEqual({ name: 'InputError', message: expect.stringContaining('not valid JSON') });
    const noRepo = await signed('push', { ref: 'refs/heads/main' });
    expect(noRepo.status).toBe(400);
    expect(noRepo.body.error.message).toContain('repository.clone_url');
    const noEvent = await post('github-main', '{}', { 'X-Hub-Signature-256': `sha256=${hmac(SECRETS.github, '{}')}` });
    expect(noEvent.status).toBe(400);
    expect(noEvent.body.error.message).toContain('X-GitHub-Event');
    expect(onEvent).not.toHaveBeenCalled();
  });
});

describe('GitLab', () => {
  it('refreshes on push and tag push with the token in X-Gitlab-Token', async () => {
    const res = await post('gitlab-main', samples.gitlabPush, { 'X-Gitlab-Event': 'Push Hook', 'X-Gitlab-Token': SECRETS.gitlab });
    expectAccepted(
      res,
      {
        kind: 'git',
        repoURLs: ['https://gitlab.example.com/acme/platform/api.git', 'https://gitlab.example.com/acme/platform/api'],
      },
      'gitlab-main',
    );
    onEvent.mockClear();
    const tag = await post(
      'gitlab-main',
      { ...samples.gitlabPush, object_kind: 'tag_push', event_name: 'tag_push', ref: 'refs/tags/v1.4.0' },
      { 'X-Gitlab-Event': 'Tag Push Hook', 'X-Gitlab-Token': SECRETS.gitlab },
    );
    expect(tag.status).toBe(202);
  });

  it('ignores merge request hooks', async () => {
    const res = await post('gitlab-main', samples.gitlabMergeRequest, {
      'X-Gitlab-Event': 'Merge Request Hook',
      'X-Gitlab-Token': SECRETS.gitlab,
    });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ ignored: true, reason: expect.stringContaining('Merge Request Hook') });
    expect(onEvent).not.toHaveBeenCalled();
  });

  it('refuses a wrong or missing token', async () => {
    expectRefused(await post('gitlab-main', samples.gitlabPush, { 'X-Gitlab-Token': `${SECRETS.gitlab}x` }), 'gitlab-main');
    expectRefused(await post('gitlab-main', samples.gitlabPush), 'gitlab-main');
    // a GitHub-style signature is not what GitLab sends
    const text = json(samples.gitlabPush);
    expectRefused(
      await post('gitlab-main', text, { 'X-Hub-Signature-256': `sha256=${hmac(SECRETS.gitlab, text)}` }),
      'gitlab-main',
    );
  });
});

describe('Gitea', () => {
  it('refreshes on push with X-Gitea-Signature (hex HMAC-SHA256)', async () => {
    const text = json(samples.giteaPush);
    const res = await post('gitea-main', text, { 'X-Gitea-Event': 'push', 'X-Gitea-Signature': hmac(SECRETS.gitea, text) });
    expectAccepted(
      res,
      { kind: 'git', repoURLs: ['https://gitea.example.com/acme/api.git', 'https://gitea.example.com/acme/api'] },
      'gitea-main',
    );
  });

  it('accepts Forgejo headers too, and ignores non-push events', async () => {
    const text = json(samples.giteaPush);
    const res = await post('gitea-main', text, {
      'X-Forgejo-Event': 'push',
      'X-Forgejo-Signature': hmac(SECRETS.gitea, text),
    });
    expect(res.status).toBe(202);
    const issue = json({ action: 'opened' });
    const ignored = await post('gitea-main', issue, { 'X-Gitea-Event': 'issues', 'X-Gitea-Signature': hmac(SECRETS.gitea, issue) });
    expect(ignored.status).toBe(200);
    expect(ignored.body.ignored).toBe(true);
  });

  it('refuses a bad signature', async () => {
    const text = json(samples.giteaPush);
    expectRefused(
      await post('gitea-main', text, { 'X-Gitea-Event': 'push', 'X-Gitea-Signature': hmac('wrong', text) }),
      'gitea-main',
    );
    expectRefused(await post('gitea-main', text, { 'X-Gitea-Event': 'push' }), 'gitea-main');
  });
});

describe('Bitbucket', () => {
  const signed = (event: string, body: object, secret: string = SECRETS.bitbucket) => {
    const text = json(body);
    return post('bitbucket-main', text, { 'X-Event-Key': event, 'X-Hub-Signature': `sha256=${hmac(secret, text)}` });
  };

  it('refreshes on a Data Center repo:refs_changed, from the http clone link', async () => {
    const res = await signed('repo:refs_changed', samples.bitbucketDataCenterPush);
    expectAccepted(res, { kind: 'git', repoURLs: ['https://bitbucket.example.com/scm/plat/api.git'] }, 'bitbucket-main');
  });

  it('derives the clone URL from the browse link when no clone links are sent', async () => {
    const { clone: _, ...links } = samples.bitbucketDataCenterPush.repository.links;
    const body = {
      ...samples.bitbucketDataCenterPush,
      repository: { ...samples.bitbucketDataCenterPush.repository, links },
    };
    const res = await signed('repo:refs_changed', body);
    expectAccepted(res, { kind: 'git', repoURLs: ['https://bitbucket.example.com/scm/plat/api.git'] }, 'bitbucket-main');
  });

  it('refreshes on a Cloud repo:push, from the repository page', async () => {
    const res = await signed('repo:push', samples.bitbucketCloudPush);
    expectAccepted(res, { kind: 'git', repoURLs: ['https://bitbucket.org/acme/api'] }, 'bitbucket-main');
  });

  it('answers diagnostics:ping and pull request events with 200', async () => {
    const ping = await signed('diagnostics:ping', { test: true });
    expect(ping.status).toBe(200);
    expect(ping.body.ignored).toBe(true);
    const pr = await signed('pr:opened', { pullRequest: { id: 1 } });
    expect(pr.status).toBe(200);
    expect(onEvent).not.toHaveBeenCalled();
  });

  it('refuses a bad or missing signature', async () => {
    expectRefused(await signed('repo:refs_changed', samples.bitbucketDataCenterPush, 'wrong'), 'bitbucket-main');
    expectRefused(
      await post('bitbucket-main', samples.bitbucketDataCenterPush, { 'X-Event-Key': 'repo:refs_changed' }),
      'bitbucket-main',
    );
  });
});

describe('Docker Hub (secret in the URL)', () => {
  it('refreshes on a push, naming the docker.io repository', async () => {
    const res = await post(`dockerhub-main/${SECRETS.dockerhub}`, samples.dockerHubPush);
    expectAccepted(res, { kind: 'image', repositories: ['docker.io/acme/api'] }, 'dockerhub-main');
  });

  it('names official images under library/', async () => {
    const official = {
      ...samples.dockerHubPush,
      repository: { ...samples.dockerHubPush.repository, namespace: 'library', name: 'nginx', repo_name: 'nginx' },
    };
    const res = await post(`dockerhub-main/${SECRETS.dockerhub}`, official);
    expectAccepted(res, { kind: 'image', repositories: ['docker.io/library/nginx'] }, 'dockerhub-main');
  });

  it('refuses a wrong secret or none', async () => {
    expectRefused(await post('dockerhub-main/not-it', samples.dockerHubPush), 'dockerhub-main');
    expectRefused(await post('dockerhub-main', samples.dockerHubPush), 'dockerhub-main');
    // the secret in a header does not count for Docker Hub
    expectRefused(
      await post('dockerhub-main', samples.dockerHubPush, { Authorization: `Bearer ${SECRETS.dockerhub}` }),
      'dockerhub-main',
    );
  });

  it('answers 400 for a payload without a repository', async () => {
    const res = await post(`dockerhub-main/${SECRETS.dockerhub}`, { push_data: { tag: '1' } });
    expect(res.status).toBe(400);
    expect(res.body.error.message).toContain('repository.repo_name');
  });
});

describe('Harbor', () => {
  it('refreshes on PUSH_ARTIFACT with the secret as the Authorization header', async () => {
    const res = await post('harbor-main', samples.harborPush, { Authorization: SECRETS.harbor });
    expectAccepted(res, { kind: 'image', repositories: ['harbor.example.com/team/app'] }, 'harbor-main');
  });

  it('accepts Bearer <secret> and the CloudEvents format', async () => {
    const res = await post('harbor-main', samples.harborCloudEventPush, { Authorization: `Bearer ${SECRETS.harbor}` });
    expectAccepted(res, { kind: 'image', repositories: ['harbor.example.com/team/app'] }, 'harbor-main');
  });

  it('ignores pulls', async () => {
    const res = await post('harbor-main', samples.harborPull, { Authorization: SECRETS.harbor });
    expect(res.status).toBe(200);
    expect(res.body.reason).toContain('PULL_ARTIFACT');
    expect(onEvent).not.toHaveBeenCalled();
  });

  it('refuses a wrong or missing Authorization header', async () => {
    expectRefused(await post('harbor-main', samples.harborPush, { Authorization: 'Bearer nope' }), 'harbor-main');
    expectRefused(await post('harbor-main', samples.harborPush), 'harbor-main');
  });
});

describe('Quay (secret in the URL)', () => {
  it('refreshes on a repository push', async () => {
    const res = await post(`quay-main/${SECRETS.quay}`, samples.quayPush);
    expectAccepted(res, { kind: 'image', repositories: ['quay.io/acme/api'] }, 'quay-main');
  });

  it('ignores build notifications', async () => {
    const res = await post(`quay-main/${SECRETS.quay}`, samples.quayBuildQueued);
    expect(res.status).toBe(200);
    expect(res.body.ignored).toBe(true);
  });

  it('refuses a wrong secret', async () => {
    expectRefused(await post(`quay-main/${SECRETS.dockerhub}`, samples.quayPush), 'quay-main');
  });
});

describe('Distribution registry notifications', () => {
  const auth = { Authorization: `Bearer ${SECRETS.distribution}`, 'Content-Type': 'application/vnd.docker.distribution.events.v1+json' };

  it('refreshes on push events, naming host and repository', async () => {
    const res = await post('distribution-main', samples.distributionPush, auth);
    expectAccepted(res, { kind: 'image', repositories: ['registry.example.com:5000/team/app'] }, 'distribution-main');
  });

  it('ignores envelopes of pulls', async () => {
    const res = await post('distribution-main', samples.distributionPull, auth);
    expect(res.status).toBe(200);
    expect(res.body.ignored).toBe(true);
    expect(onEvent).not.toHaveBeenCalled();
  });

  it('refuses a wrong or missing bearer token, and the bare secret without Bearer', async () => {
    expectRefused(await post('distribution-main', samples.distributionPush, { Authorization: 'Bearer x' }), 'distribution-main');
    expectRefused(await post('distribution-main', samples.distributionPush), 'distribution-main');
    expectRefused(
      await post('distribution-main', samples.distributionPush, { Authorization: SECRETS.distribution }),
      'distribution-main',
    );
  });

  it('answers 400 for a body that is not an envelope', async () => {
    const res = await post('distribution-main', { action: 'push' }, auth);
    expect(res.status).toBe(400);
    expect(res.body.error.message).toContain('events');
  });
});

describe('Generic', () => {
  const bearer = { Authorization: `Bearer ${SECRETS.generic}` };

  it('takes Git repositories, images or charts, with a bearer token', async () => {
    expectAccepted(
      await post('generic-main', { repoURLs: ['https://ci:token@git.example.com/team/app.git'] }, bearer),
      { kind: 'git', repoURLs: ['https://git.example.com/team/app.git'] },
      'generic-main',
    );
    onEvent.mockClear();
    expectAccepted(
      await post('generic-main', { images: ['nginx:1.27', 'registry.example.com/team/app@sha256:abc'] }, bearer),
      { kind: 'image', repositories: ['docker.io/library/nginx', 'registry.example.com/team/app'] },
      'generic-main',
    );
    onEvent.mockClear();
    expectAccepted(
      await post('generic-main', { charts: ['oci://registry.example.com/charts/app'] }, bearer),
      { kind: 'chart', repoURLs: ['oci://registry.example.com/charts/app'] },
      'generic-main',
    );
  });

  it('takes a GitHub-style signature instead of the token', async () => {
    const text = json({ images: ['ghcr.io/acme/api'] });
    const res = await post('generic-main', text, { 'X-Hub-Signature-256': `sha256=${hmac(SECRETS.generic, text)}` });
    expect(res.status).toBe(202);
  });

  it('refuses a wrong token or signature; a wrong signature is not rescued by a right token', async () => {
    expectRefused(await post('generic-main', { images: ['a/b'] }, { Authorization: 'Bearer nope' }), 'generic-main');
    expectRefused(await post('generic-main', { images: ['a/b'] }), 'generic-main');
    expectRefused(
      await post('generic-main', { images: ['a/b'] }, { ...bearer, 'X-Hub-Signature-256': `sha256=${'0'.repeat(64)}` }),
      'generic-main',
    );
  });

  it('answers 400 naming the expected shape', async () => {
    for (const body of [{}, { images: [] }, { images: ['a'], charts: ['b'] }, { images: [3] }, '[]']) {
      const res = await post('generic-main', typeof body === 'string' ? body : json(body), bearer);
      expect(res.status).toBe(400);
      expect(res.body.error.name).toBe('InputError');
      expect(res.body.error.message).toMatch(/repoURLs|images|charts/);
    }
    const empty = await post('generic-main', '', bearer);
    expect(empty.status).toBe(400);
    expect(empty.body.error.message).toContain('empty');
    expect(onEvent).not.toHaveBeenCalled();
  });
});

describe('routing', () => {
  it('answers 404 for an unknown receiver, without echoing a path secret', async () => {
    const res = await post('nope', samples.githubPush);
    expect(res.status).toBe(404);
    expect(res.body.error).toEqual({ name: 'NotFoundError', message: 'no webhook receiver is named "nope"' });
    const withSecret = await post(`nope/${SECRETS.github}`, samples.githubPush);
    expect(withSecret.status).toBe(404);
    expect(onEvent).not.toHaveBeenCalled();
  });

  it('answers 404 when a secret is put in the URL of a receiver that is signed instead', async () => {
    const res = await post(`github-main/${SECRETS.github}`, samples.githubPush, { 'X-GitHub-Event': 'push' });
    expect(res.status).toBe(404);
    expect(onEvent).not.toHaveBeenCalled();
  });

  it('answers 405 to anything but POST', async () => {
    const res = await request(app).get('/api/stagecoach/webhooks/github-main');
    responses.push(res.text);
    expect(res.status).toBe(405);
    expect(res.headers.allow).toBe('POST');
  });

  it('refuses bodies over the limit with 413, before verifying', async () => {
    const small = appWith({ maxBodyBytes: 1024 });
    const res = await post('generic-main', { images: ['x'.repeat(2000)] }, { Authorization: `Bearer ${SECRETS.generic}` }, small);
    expect(res.status).toBe(413);
    expect(res.body.error.name).toBe('PayloadTooLargeError');
    expect(onEvent).not.toHaveBeenCalled();
  });

  it('says so when a body parser ran first (the raw bytes are gone)', async () => {
    const misplaced = appWith({}, express.json());
    const res = await post('generic-main', { images: ['a/b'] }, { Authorization: `Bearer ${SECRETS.generic}` }, misplaced);
    expect(res.status).toBe(500);
    expect(res.body.error.message).toContain('misconfigured');
    expect(logs.some(l => l.level === 'error' && l.message.includes('ahead of any body parser'))).toBe(true);
    expect(onEvent).not.toHaveBeenCalled();
  });

  it('answers 500 without details when refreshing fails, and logs why', async () => {
    onEvent.mockRejectedValueOnce(new Error('database is locked'));
    const res = await post('generic-main', { images: ['a/b'] }, { Authorization: `Bearer ${SECRETS.generic}` });
    expect(res.status).toBe(500);
    expect(res.text).not.toContain('database is locked');
    expect(logs.some(l => l.message.includes('database is locked'))).toBe(true);
  });

  it('refuses to start with an invalid receiver', () => {
    expect(() =>
      createWebhookRouter({
        receivers: [{ name: 'x', type: 'gitlabb' as any, secret: 's' }],
        onEvent,
        logger: captureLogger([]),
      }),
    ).toThrow(/type "gitlabb" is not supported/);
  });

  it('masks a secret URL segment in what request loggers print', () => {
    expect(logs.some(l => l.message === 'POST /api/stagecoach/webhooks/quay-main/<redacted> 202')).toBe(true);
  });

  it('logs accepted events and refusals without secrets', () => {
    expect(logs.some(l => l.level === 'info' && l.message.includes('ghcr.io/acme/api'))).toBe(true);
    expect(logs.some(l => l.level === 'warn' && l.message.includes('github-main'))).toBe(true);
  });
});

// Runs last: every answer and log line collected above.
describe('secrets', () => {
  it('never appear in an answer or a log line', () => {
    const secrets = Object.values(SECRETS);
    const texts = [...responses, ...logs.map(l => `${l.message} ${JSON.stringify(l.meta ?? '')}`)];
    expect(responses.length).toBeGreaterThan(40);
    expect(texts.filter(text => secrets.some(secret => text.includes(secret)))).toEqual([]);
  });
});
