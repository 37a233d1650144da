import type { Server } from 'node:http';
import { mockCredentials, mockServices, startTestBackend } from '@backstage/backend-test-utils';
import { catalogServiceMock } from '@backstage/plugin-catalog-node/testUtils';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import request from 'supertest';
import type { Promotion, Stage, Verification } from '@stagecoach/plugin-stagecoach-common';
import { stagecoachPlugin } from './plugin';
import { ArgoCdSimulator } from './__testUtils__/argoCdSimulator';
import { createGitFixture, GitFixture } from './__testUtils__/gitFixture';
import { KubeApiServer, startKubeApi } from './__testUtils__/kubeApi';
import { loopbackServer, LoopbackServer } from './__testUtils__/loopbackHttp';
import { startPrometheus, TestPrometheus } from './__testUtils__/prometheus';
import { PROGRESS_TEST_TIMEOUT_MS, promotionProgress, untilProgress, verificationProgress } from './__testUtils__/until';

// the waits below fail when nothing moves; the whole may take as long as the machine needs
jest.setTimeout(PROGRESS_TEST_TIMEOUT_MS);

/**
 * The issue's "done when": a pipeline dev → staging in which each stage updates an Argo CD
 * app and is verified by a web check and a Prometheus query, end to end through the real
 * backend plugin and its REST API. Real: the Git server over HTTP, git, Prometheus (Debian's,
 * scraping a loopback target), the HTTP endpoint the web check calls. On loopback, since no
 * API server can run here: the Kubernetes API, and Argo CD's controller acting on it.
 */
const PROJECT = 'guestbook';
const TOKEN = 'kube-token-for-tests';

const entity = {
  apiVersion: 'backstage.io/v1alpha1',
  kind: 'Component',
  metadata: {
    name: 'guestbook',
    namespace: 'default',
    annotations: { 'stagecoach.io/project': PROJECT, 'argocd/app-selector': 'app.kubernetes.io/part-of=guestbook' },
  },
  spec: { type: 'service', owner: 'guests', lifecycle: 'production' },
};

function pipeline(git: GitFixture, web: string, prometheus: string, smokeInterval = '200ms'): string {
  const stage = (name: string, sources: string) => `---
apiVersion: kargo.akuity.io/v1alpha1
kind: Stage
metadata:
  name: ${name}
  namespace: ${PROJECT}
spec:
  requestedFreight:
    - origin: {kind: Warehouse, name: app}
      sources: ${sources}
  promotionTemplate:
    spec:
      steps:
        - uses: git-clone
          config:
            repoURL: ${git.gitopsURL}
            checkout:
              - branch: main
                path: ./out
        - uses: yaml-update
          as: update
          config:
            path: ./out/env/${name}/values.yaml
            updates:
              - key: image.tag
                value: \${{ commitFrom("${git.appURL}").tag }}
        - uses: git-commit
          config:
            path: ./out
            message: \${{ outputs.update.commitMessage }}
        - uses: git-push
          as: push
          config:
            path: ./out
        - uses: argocd-update
          config:
            apps:
              - name: guestbook-${name}
                sources:
                  - repoURL: ${git.gitopsURL}
                    desiredRevision: \${{ outputs.push.commit }}
                    updateTargetRevision: true
  verification:
    analysisTemplates:
      - name: smoke
      - name: error-rate
    args:
      - name: env
        value: \${{ ctx.stage }}
`;
  return `apiVersion: kargo.akuity.io/v1alpha1
kind: Warehouse
metadata:
  name: app
  namespace: ${PROJECT}
spec:
  subscriptions:
    - git:
        repoURL: ${git.appURL}
        commitSelectionStrategy: SemVer
${stage('dev', '{direct: true}')}${stage('staging', '{stages: [dev]}')}---
apiVersion: argoproj.io/v1alpha1
kind: AnalysisTemplate
metadata:
  name: smoke
  namespace: ${PROJECT}
spec:
  args:
    - name: env
    - name: base
      value: ${web}
  metrics:
    - name: smoke
      count: 3
      interval: ${smokeInterval}
      failureLimit: 1
      successCondition: result.status == "ok"
      provider:
        web:
          url: "{{args.base}}/{{args.env}}/healthz"
          jsonPath: "{$}"
---
apiVersion: argoproj.io/v1alpha1
kind: AnalysisTemplate
metadata:
  name: error-rate
  namespace: ${PROJECT}
spec:
  args:
    - name: env
  metrics:
    - name: error-rate
      successCondition: result[0] < 0.05
      provider:
        prometheus:
          address: ${prometheus}
          query: guestbook_error_ratio{env="{{args.env}}"}
`;
}

describe('dev → staging with Argo CD and verification, end to end (real backend plugin, Git server, git and Prometheus; Kubernetes API and Argo CD on loopback)', () => {
  let git: GitFixture;
  let kube: KubeApiServer;
  let argocd: ArgoCdSimulator;
  let web: LoopbackServer;
  let target: LoopbackServer;
  let prometheus: TestPrometheus;
  let server: Server;
  /** What the web check's endpoint answers, per environment: one body per call, the last one repeated. */
  const health: Record<string, Array<{ status: string }>> = { dev: [{ status: 'ok' }], staging: [{ status: 'ok' }] };
  /** The error ratio the app exports per environment (scraped by Prometheus every second). */
  const errorRatio: Record<string, number> = { dev: 0.001, staging: 0.002 };

  beforeAll(async () => {
    git = await createGitFixture();
    kube = await startKubeApi({ token: TOKEN });
    argocd = new ArgoCdSimulator(kube);
    for (const env of ['dev', 'staging']) {
      argocd.addApp({
        name: `guestbook-${env}`,
        labels: { 'app.kubernetes.io/part-of': 'guestbook' },
        annotations: { 'stagecoach.io/authorized-stage': `${PROJECT}:${env}` },
        source: { repoURL: git.gitopsURL, path: `env/${env}`, targetRevision: 'main' },
      });
    }
    argocd.auto();
    web = await loopbackServer((req, res) => {
      const env = /^\/(\w+)\/healthz$/.exec(req.url)?.[1] ?? '';
      const answers = health[env];
      res.setHeader('content-type', 'application/json');
      if (!answers) {
        res.statusCode = 404;
        res.end('{}');
        return;
      }
      res.end(JSON.stringify(answers.length > 1 ? answers.shift() : answers[0]));
    });
    target = await loopbackServer((_req, res) => {
      res.setHeader('content-type', 'text/plain; version=0.0.4');
      res.end(Object.entries(errorRatio).map(([env, v]) => `guestbook_error_ratio{env="${env}"} ${v}\n`).join(''));
    });
    prometheus = await startPrometheus(new URL(target.url).host);
    await prometheus.waitFor('guestbook_error_ratio{env="staging"}');

    ({ server } = await startTestBackend({
      features: [
        stagecoachPlugin,
        catalogServiceMock.factory({ entities: [entity] }),
        mockServices.permissions.factory({ result: AuthorizeResult.ALLOW }),
        mockServices.rootConfig.factory({
          data: {
            stagecoach: {
              workDir: `${git.root}/work`,
              kubernetes: { clusters: [{ name: 'local', url: kube.url, serviceAccountToken: TOKEN, skipTLSVerify: true }] },
              argocd: { url: 'https://argocd.example.com' },
              // the web check's endpoint and Prometheus are on loopback
              egress: { allowLoopback: true },
            },
          },
        }),
      ],
    }));
  });
  afterAll(async () => {
    argocd?.stop();
    await prometheus?.stop();
    await Promise.all([web?.close(), target?.close(), kube?.close()]);
    await git?.close();
  });

  const api = () => request(server);
  const asUser = (r: request.Test) => r.set('Authorization', mockCredentials.user.header('user:default/ada'));
  const base = `/api/stagecoach/projects/${PROJECT}`;

  const waitFor = <T>(read: () => Promise<T>, done: (v: T) => boolean, what: string, progress?: (v: T) => unknown) =>
    untilProgress(read, done, what, { progress, everyMs: 100 });
  const stage = async (name: string): Promise<Stage> => (await asUser(api().get(`${base}/stages/${name}`))).body;
  const final = (phase?: string) => !!phase && !['Pending', 'Running'].includes(phase);

  async function promote(name: string, freight: string): Promise<Promotion> {
    const queued = await asUser(api().post(`${base}/stages/${name}/promotions`)).send({ freight });
    expect(queued.status).toBe(202);
    return waitFor(
      async () => (await asUser(api().get(`${base}/promotions/${queued.body.id}`))).body as Promotion,
      p => final(p.phase),
      `promotion to ${name} ending`,
      promotionProgress,
    );
  }

  /** The verification that the promotion started, once it has ended. */
  async function verification(name: string, promotionId: string): Promise<Verification> {
    return waitFor(
      async () => (await stage(name)).verification,
      v => v?.promotionId === promotionId && final(v.phase),
      `verification of ${name} ending`,
      verificationProgress,
    ) as Promise<Verification>;
  }

  let alias: string;

  it('dev: the promotion syncs its Argo CD app to the commit it pushed; once the app is healthy, web and Prometheus checks verify the freight', async () => {
    expect((await asUser(api().put(`${base}/manifests`)).set('Content-Type', 'application/yaml').send(pipeline(git, web.url, prometheus.url))).body).toEqual({
      project: PROJECT,
      warehouses: ['app'],
      stages: ['dev', 'staging'],
    });
    expect((await asUser(api().post(`${base}/warehouses/app/refresh`))).status).toBe(202);
    const [freight] = await waitFor(async () => (await asUser(api().get(`${base}/freight`))).body.items, i => i.length > 0, 'discovery');
    alias = freight.alias;

    const promotion = await promote('dev', alias);
    expect([promotion.phase, promotion.message]).toEqual(['Succeeded', undefined]);
    const pushed = promotion.steps.find(s => s.alias === 'push')!.outputs!.commit as string;
    expect(await git.show('gitops', pushed, 'env/dev/values.yaml')).toContain('tag: v1.2.0');
    // Argo CD was asked to sync the app to that commit, by whoever promoted
    const app = argocd.app('guestbook-dev')!;
    expect(app.spec.source?.targetRevision).toBe(pushed);
    expect(app.status?.sync?.revision).toBe(pushed);
    expect(argocd.operations.map(o => [o.app, o.operation.initiatedBy?.username])).toEqual([['guestbook-dev', 'user:default/ada']]);

    const v = await verification('dev', promotion.id);
    expect({ phase: v.phase, message: v.message, templates: v.analysisTemplates, args: v.args }).toEqual({
      phase: 'Successful',
      message: '2 metrics successful',
      templates: ['smoke', 'error-rate'],
      args: { env: 'dev', base: web.url },
    });
    expect(v.metrics.map(m => [m.name, m.provider, m.phase, m.count, m.successful])).toEqual([
      ['smoke', 'web', 'Successful', 3, 3],
      ['error-rate', 'prometheus', 'Successful', 1, 1],
    ]);
    expect(v.metrics[1].measurements[0]).toMatchObject({ phase: 'Successful', value: '[0.001]' });
    expect(web.requests.filter(r => r.url === '/dev/healthz')).toHaveLength(3);

    const dev = await stage('dev');
    expect(dev.health).toMatchObject({ status: 'Healthy', promotionId: promotion.id });
    expect(dev.health!.apps).toEqual([
      expect.objectContaining({ name: 'guestbook-dev', status: 'Healthy', sync: 'Synced', health: 'Healthy', desiredRevisions: [pushed] }),
    ]);
    const f = (await asUser(api().get(`${base}/freight/${alias}`))).body;
    expect(f.verifiedIn).toEqual(['dev']);

    // the entity's apps sit beside the stage that drives them, linked to Argo CD
    const entityView = (await asUser(api().get('/api/stagecoach/entities/component/default/guestbook/pipeline'))).body;
    expect(entityView.apps.map((a: any) => [a.name, a.stage, a.sync, a.health, a.url])).toEqual([
      ['guestbook-dev', 'dev', 'Synced', 'Healthy', 'https://argocd.example.com/applications/argocd/guestbook-dev'],
      ['guestbook-staging', 'staging', 'Synced', 'Healthy', 'https://argocd.example.com/applications/argocd/guestbook-staging'],
    ]);
    if (process.env.STAGECOACH_SHOW_API) {
      // eslint-disable-next-line no-console
      console.log(`GET ${base}/stages/dev/verifications\n${JSON.stringify((await asUser(api().get(`${base}/stages/dev/verifications`))).body, null, 2)}`);
    }
  });

  it('staging: verified in dev, the freight goes on; a check that flakes within failureLimit still verifies it', async () => {
    health.staging = [{ status: 'ok' }, { status: 'starting' }, { status: 'ok' }];
    const promotion = await promote('staging', alias);
    expect(promotion.phase).toBe('Succeeded');
    const v = await verification('staging', promotion.id);
    expect(v.phase).toBe('Successful');
    expect(v.metrics[0]).toMatchObject({ name: 'smoke', count: 3, successful: 2, failed: 1, phase: 'Successful' });
    expect(v.metrics[0].measurements.map(m => m.phase)).toEqual(['Successful', 'Failed', 'Successful']);
    expect((await asUser(api().get(`${base}/freight/${alias}`))).body.verifiedIn).toEqual(['dev', 'staging']);
    expect((await stage('staging')).health?.status).toBe('Healthy');
  });

  it('re-verifying when the app has gone bad fails beyond failureLimit: the message says which metric and why, and the history keeps both runs', async () => {
    health.staging = [{ status: 'ok' }, { status: 'error' }, { status: 'error' }];
    const queued = await asUser(api().post(`${base}/stages/staging/verification`));
    expect(queued.status).toBe(202);
    expect(queued.body).toMatchObject({ phase: 'Pending', createdBy: 'user:default/ada', freight: { alias } });
    const v = await waitFor(
      async () => (await asUser(api().get(`${base}/verifications/${queued.body.id}`))).body as Verification,
      x => final(x.phase),
      're-verification ending',
      verificationProgress,
    );
    expect([v.phase, v.message]).toEqual([
      'Failed',
      'metric smoke failed: 2 of 3 measurements failed (failureLimit 1): result {"status":"error"} did not satisfy result.status == "ok"',
    ]);
    expect(v.metrics[0]).toMatchObject({ name: 'smoke', phase: 'Failed', successful: 1, failed: 2 });
    expect(v.metrics[1]).toMatchObject({ name: 'error-rate', phase: 'Successful' });
    const history = (await asUser(api().get(`${base}/stages/staging/verifications`))).body.items as Verification[];
    expect(history.map(h => h.phase)).toEqual(['Failed', 'Successful']);
    // the stage shows its failed verification; verified once stays verified (Kargo keeps verifiedIn too)
    expect((await stage('staging')).verification?.id).toBe(queued.body.id);
  });

  it('a Prometheus query that says the app is failing fails the verification, with the value in the measurement', async () => {
    health.staging = [{ status: 'ok' }];
    errorRatio.staging = 0.4;
    await prometheus.waitFor('guestbook_error_ratio{env="staging"}', ([x]) => x === 0.4);
    const queued = await asUser(api().post(`${base}/stages/staging/verification`));
    const v = await waitFor(
      async () => (await asUser(api().get(`${base}/verifications/${queued.body.id}`))).body as Verification,
      x => final(x.phase),
      're-verification ending',
      verificationProgress,
    );
    expect(v.phase).toBe('Failed');
    expect(v.message).toMatch(/^metric error-rate failed/);
    expect(v.metrics[1].measurements).toEqual([expect.objectContaining({ phase: 'Failed', value: '[0.4]' })]);
    errorRatio.staging = 0.002;
    await prometheus.waitFor('guestbook_error_ratio{env="staging"}', ([x]) => x === 0.002);
  });

  it('a stage with nothing to verify answers 409; aborting when nothing runs answers 409; an unknown verification 404', async () => {
    const none = await asUser(api().post(`${base}/stages/staging/verification/abort`));
    expect(none.status).toBe(409);
    expect(none.body.error.message).toBe('stage "staging" has no verification in progress to abort');
    expect((await asUser(api().get(`${base}/verifications/nope`))).status).toBe(404);
  });

  it('abort: a verification between measurements stops at once, its metrics Aborted; meanwhile it blocked no other stage', async () => {
    errorRatio.staging = 0.002;
    health.staging = [{ status: 'ok' }];
    // the same pipeline, its smoke check now once a minute: the verification waits between measurements
    const applied = await asUser(api().put(`${base}/manifests`))
      .set('Content-Type', 'application/yaml')
      .send(pipeline(git, web.url, prometheus.url, '1m'));
    expect(applied.status).toBe(200);
    const queued = await asUser(api().post(`${base}/stages/staging/verification`));
    const read = async () => (await asUser(api().get(`${base}/verifications/${queued.body.id}`))).body as Verification;
    await waitFor(read, x => x.metrics.find(m => m.name === 'smoke')?.successful === 1, 'the first smoke measurement', verificationProgress);
    // a verification holds no worker and no stage but its own: dev takes other freight meanwhile
    const other = await asUser(api().post(`${base}/freight`)).send({
      origin: { kind: 'Warehouse', name: 'app' },
      commits: [{ repoURL: git.appURL, tag: 'v1.1.0' }],
    });
    expect(other.status).toBe(201);
    expect((await promote('dev', other.body.alias)).phase).toBe('Succeeded');
    expect((await read()).phase).toBe('Running');
    const aborted = await asUser(api().post(`${base}/stages/staging/verification/abort`));
    expect([aborted.status, aborted.body.error?.message, JSON.stringify(await read())]).toEqual([200, undefined, expect.any(String)]);
    const v = await waitFor(read, x => final(x.phase), 'abort', verificationProgress);
    expect([v.phase, v.message, v.abortRequestedBy]).toEqual(['Aborted', 'aborted by user:default/ada', 'user:default/ada']);
    expect(Object.fromEntries(v.metrics.map(m => [m.name, m.phase]))).toEqual({ smoke: 'Aborted', 'error-rate': 'Successful' });
  });
});
