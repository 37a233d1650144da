import { Knex } from 'knex';
import type { Stage, Verification } from '@stagecoach/plugin-stagecoach-common';
import { StagecoachEngine } from '../app';
import { kubeClustersFromOptions } from '../integrations/kubernetes/KubeClusters';
import { ArgoCdSimulator } from '../__testUtils__/argoCdSimulator';
import { createTestDatabases } from '../__testUtils__/databases';
import { createGitFixture, GitFixture } from '../__testUtils__/gitFixture';
import { KubeApiServer, startKubeApi } from '../__testUtils__/kubeApi';
import { loopbackServer, LoopbackServer, LOOPBACK_ALLOWED } from '../__testUtils__/loopbackHttp';
import { until } from '../__testUtils__/until';
import { silentLogger } from '../util/types';

jest.setTimeout(120_000);

/**
 * How verification follows stage health and promotions, through the engine on each
 * database: a stage whose Argo CD app is not healthy keeps its verification waiting (and
 * says why), a new promotion supersedes a verification in progress, a failed promotion makes
 * the stage Degraded, and a cluster that cannot be reached makes it Unknown. The Kubernetes
 * API and Argo CD's controller are loopback stand-ins; the web check's endpoint is real HTTP.
 */
const PROJECT = 'flow';

function manifests(git: GitFixture, web: string): string {
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
---
apiVersion: kargo.akuity.io/v1alpha1
kind: Stage
metadata:
  name: dev
  namespace: ${PROJECT}
spec:
  requestedFreight:
    - origin: {kind: Warehouse, name: app}
      sources: {direct: true}
  promotionTemplate:
    spec:
      steps:
        - uses: argocd-update
          config:
            apps:
              - name: flow-dev
                sources:
                  - repoURL: ${git.gitopsURL}
                    desiredRevision: \${{ commitFrom("${git.appURL}").tag }}
                    updateTargetRevision: true
  verification:
    analysisTemplates:
      - name: slow-smoke
---
apiVersion: argoproj.io/v1alpha1
kind: AnalysisTemplate
metadata:
  name: slow-smoke
  namespace: ${PROJECT}
spec:
  metrics:
    - name: smoke
      count: 2
      interval: 10m
      successCondition: result == "ok"
      provider:
        web:
          url: ${web}/healthz
          jsonPath: "{$.status}"
`;
}

describe('verification follows stage health and promotions (engine on each database; Kubernetes API and Argo CD on loopback)', () => {
  const databases = createTestDatabases();
  let git: GitFixture;
  let web: LoopbackServer;

  beforeAll(async () => {
    git = await createGitFixture();
    web = await loopbackServer((_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end('{"status":"ok"}');
    });
  });
  afterAll(async () => {
    await web.close();
    await git.close();
  });

  describe.each(databases.eachSupportedId())('on %p', databaseId => {
    let knex: Knex;
    let kube: KubeApiServer;
    let argocd: ArgoCdSimulator;
    let engine: StagecoachEngine;

    beforeAll(async () => {
      kube = await startKubeApi();
      argocd = new ArgoCdSimulator(kube);
      argocd.addApp({
        name: 'flow-dev',
        annotations: { 'kargo.akuity.io/authorized-stage': `${PROJECT}:dev` },
        source: { repoURL: git.gitopsURL, path: 'env/dev', targetRevision: 'main' },
      });
      argocd.auto();
      knex = await databases.init(databaseId);
      engine = await StagecoachEngine.create({
        knex,
        logger: silentLogger,
        workDir: `${git.root}/work-${databaseId}`,
        kube: kubeClustersFromOptions([{ name: 'local', url: kube.url, skipTLSVerify: true }]),
        worker: { pollIntervalMs: 50 },
        verification: { pollIntervalMs: 50, healthPollMs: 100 },
        egress: LOOPBACK_ALLOWED,
      });
      engine.start();
      await engine.projects.applyManifests(PROJECT, manifests(git, web.url));
      await engine.workers.discovery.runDue();
    });
    afterAll(async () => {
      argocd.stop();
      await engine.close();
      await knex.destroy();
      await kube.close().catch(() => undefined); // the last test closed it already
    });

    const waitFor = <T>(read: () => Promise<T>, done: (v: T) => boolean, what: string) =>
      until(read, done, what, { tries: 400, everyMs: 50 });
    const dev = () => engine.stages.get(PROJECT, 'dev');
    const promoted = async (freight: string) => {
      const p = await engine.promotions.promote(PROJECT, 'dev', freight, 'user:default/ada');
      return waitFor(() => engine.promotions.get(PROJECT, p.id), x => !['Pending', 'Running'].includes(x.phase), 'the promotion');
    };

    it('an app that stays Degraded keeps the verification waiting, saying why; once healthy it runs', async () => {
      const [freight] = await engine.freight.list(PROJECT);
      argocd.stayDegraded('flow-dev', 'Deployment "flow" exceeded its progress deadline');
      const p = await promoted(freight.id);
      expect(p.phase).toBe('Succeeded');

      const waiting = await waitFor(dev, s => !!s.verification?.message?.startsWith('waiting for the stage to be healthy (Degraded'), 'waiting');
      expect(waiting.verification).toMatchObject({ phase: 'Pending', promotionId: p.id });
      expect(waiting.verification!.message).toBe(
        'waiting for the stage to be healthy (Degraded: app flow-dev is Degraded: Deployment "flow" exceeded its progress deadline)',
      );
      expect(waiting.health).toMatchObject({ status: 'Degraded', promotionId: p.id });
      expect((await engine.freight.get(PROJECT, freight.id)).verifiedIn).toEqual([]);

      // the rollout recovers: Argo CD reports it Healthy, and the verification starts
      argocd.recover('flow-dev');
      argocd.settle();
      const running = await waitFor(dev, s => s.verification?.phase === 'Running', 'the verification starting');
      expect(running.health?.status).toBe('Healthy');
      expect(running.verification!.metrics[0]).toMatchObject({ name: 'smoke', phase: 'Running', successful: 1, count: 1 });
    });

    it('a new promotion of the stage aborts its verification in progress; the new one verifies the new freight', async () => {
      const before = (await dev()).verification!;
      expect(before.phase).toBe('Running');
      const { freight: older } = await engine.freight.create(PROJECT, {
        origin: { kind: 'Warehouse', name: 'app' },
        commits: [{ repoURL: git.appURL, tag: 'v1.1.0' }],
      });
      const p = await promoted(older.id);
      expect(p.phase).toBe('Succeeded');
      const old: Verification = await engine.verifications.get(PROJECT, before.id);
      const ended = await waitFor(() => engine.verifications.get(PROJECT, before.id), v => v.phase === 'Aborted', 'the old one ending');
      expect(ended.message).toBe(`aborted by promotion ${p.id}`);
      expect(ended.metrics[0].phase).toBe('Aborted');
      expect(old.freight.id).not.toBe(older.id);
      const next = await waitFor(dev, s => s.verification?.promotionId === p.id && s.verification.phase === 'Running', 'the new one');
      expect(next.verification!.freight.id).toBe(older.id);
      expect(argocd.app('flow-dev')!.spec.source!.targetRevision).toBe(older.commits[0].tag);
    });

    it('a failed promotion makes the stage Degraded; a cluster that cannot be reached makes it Unknown, with the reason', async () => {
      argocd.failNextSync('flow-dev', 'one or more objects failed to apply: Deployment.apps "flow" is invalid');
      const newest = (await engine.freight.list(PROJECT)).find(f => f.commits[0].tag === 'v1.2.0')!;
      const p = await promoted(newest.id);
      expect(p.phase).toBe('Failed');
      expect(p.message).toContain('is invalid');
      const health = (await engine.workers.health.check(await engine.stores.pipelines.getStage(PROJECT, 'dev')))!;
      expect(health.status).toBe('Degraded');
      expect(health.reason).toMatch(new RegExp(`^the last promotion \\(${p.id.replace(/\./g, '\\.')}, freight ${newest.alias}\\) failed: `));
      // no verification for a failed promotion: the stage's newest is still the one before
      expect((await dev()).verification?.promotionId).not.toBe(p.id);

      const good = await promoted(newest.id);
      expect(good.phase).toBe('Succeeded');
      await waitFor(dev, s => s.health?.status === 'Healthy' && s.health.promotionId === good.id, 'healthy again');
      await kube.close();
      // the scheduled check (every stage of every project) finds it
      const lost: Stage = await waitFor(
        async () => {
          expect(await engine.workers.health.checkAll()).toBe(1);
          return dev();
        },
        s => s.health?.status === 'Unknown',
        'Unknown health',
      );
      expect(lost.health!.apps[0]).toMatchObject({ name: 'flow-dev', status: 'Unknown' });
      expect(lost.health!.reason).toMatch(/^app flow-dev: Cannot reach Kubernetes cluster "local" at http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\)/);
    });
  });
});
