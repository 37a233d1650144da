import os from 'node:os';
import { ArgoCdSimulator } from '../../__testUtils__/argoCdSimulator';
import { KubeApiServer, startKubeApi } from '../../__testUtils__/kubeApi';
import { runStep, testFreight } from '../../__testUtils__/stepHarness';
import type { ArgoApplication } from '../../integrations/argocd/applications';
import { checkArgoCdHealth } from '../../integrations/argocd/health';
import { kubeClustersFromOptions } from '../../integrations/kubernetes/KubeClusters';
import { APPLICATIONS, KubeClient, KubeClusters } from '../../integrations/kubernetes/types';
import { StepConfigError } from '../workDir';
import { validateStepConfig } from '.';
import { createArgoCdUpdate } from './argocd-update';
import type { StepContext } from './types';

const TOKEN = 'loopback-token';
const SHA_MAIN = '1'.repeat(40);
const SHA_NEW = '2'.repeat(40);
const GITOPS = 'https://git.example.com/acme/gitops.git';
const CHARTS = 'https://charts.example.com';
const AUTH = { 'stagecoach.io/authorized-stage': 'test:dev' };
const PROMOTION = 'dev.test.00000000';

describe('argocd-update (loopback Kubernetes API, simulated Argo CD controller)', () => {
  let api: KubeApiServer;
  let sim: ArgoCdSimulator;
  let kube: KubeClusters;
  const update = createArgoCdUpdate({ settleMs: 0 });
  const run = (config: unknown, ctx: Partial<StepContext> = {}) => runStep(update, config, { workDir: os.tmpdir(), kube, ...ctx });
  const app = (name: string, namespace = 'argocd') => api.get(APPLICATIONS, namespace, name) as ArgoApplication;

  beforeEach(async () => {
    api = await startKubeApi({ token: TOKEN });
    kube = kubeClustersFromOptions([{ name: 'local', url: api.url, token: TOKEN, skipTLSVerify: true }]);
    sim = new ArgoCdSimulator(api, { commits: { main: SHA_MAIN, [SHA_NEW]: SHA_NEW } });
  });

  afterEach(async () => {
    sim.stop();
    await api.close();
  });

  it('updates targetRevision, Kustomize images and Helm parameters source by source, syncs, and succeeds once synced', async () => {
    sim.addApp({
      name: 'shop-dev',
      annotations: { 'stagecoach.io/authorized-stage': 'test:qa, test:dev' },
      sources: [
        { repoURL: 'https://GIT.example.com/acme/gitops/', path: 'shop/dev', targetRevision: 'main', kustomize: { images: ['ghcr.io/acme/db:15', 'ghcr.io/acme/shop:1.0.0'] } },
        { repoURL: CHARTS, chart: 'shop', targetRevision: '1.0.0', helm: { parameters: [{ name: 'replicas', value: '2' }, { name: 'image.tag', value: '1.0.0' }] } },
      ],
      syncPolicy: { syncOptions: ['CreateNamespace=true'], retry: { limit: 3 } },
    });
    const config = {
      apps: [
        {
          name: 'shop-dev',
          sources: [
            { repoURL: GITOPS, desiredRevision: SHA_NEW, updateTargetRevision: true, kustomize: { images: [{ repoURL: 'ghcr.io/acme/shop', tag: '1.1.0' }, { repoURL: 'ghcr.io/acme/worker', digest: `sha256:${'c'.repeat(64)}` }] } },
            { repoURL: CHARTS, chart: 'shop', desiredRevision: '1.1.0', updateTargetRevision: true, helm: { images: [{ key: 'image.tag', value: '1.1.0' }, { key: 'image.pullPolicy', value: 'Always' }] } },
          ],
        },
      ],
    };

    const first = await run(config, { actor: 'alice@example.com' });
    expect(first).toMatchObject({ status: 'Running', retryAfterMs: 5000 });
    expect(first.message).toBe('Argo CD Application "shop-dev" in namespace "argocd": sync requested, waiting for Argo CD to start it');
    expect((first.state!.started as unknown[]).length).toBe(1);

    const written = app('shop-dev');
    expect(written.spec.sources).toEqual([
      {
        repoURL: 'https://GIT.example.com/acme/gitops/',
        path: 'shop/dev',
        targetRevision: SHA_NEW,
        kustomize: { images: ['ghcr.io/acme/db:15', 'ghcr.io/acme/shop:1.1.0', `ghcr.io/acme/worker@sha256:${'c'.repeat(64)}`] },
      },
      {
        repoURL: CHARTS,
        chart: 'shop',
        targetRevision: '1.1.0',
        helm: { parameters: [{ name: 'replicas', value: '2' }, { name: 'image.tag', value: '1.1.0' }, { name: 'image.pullPolicy', value: 'Always' }] },
      },
    ]);
    expect(written.metadata.annotations!['argocd.argoproj.io/refresh']).toBe('hard');
    expect(written.operation).toEqual({
      initiatedBy: { username: 'alice@example.com' },
      info: [
        { name: 'Reason', value: `Stagecoach promotion ${PROMOTION} to stage test:dev asked for this sync.` },
        { name: 'stagecoach.io/promotion', value: PROMOTION },
        { name: 'stagecoach.io/promotion-step', value: 'step-1' },
      ],
      sync: { syncOptions: ['CreateNamespace=true'] },
      retry: { limit: 3 },
    });
    // the previous sync's state is gone, so it cannot be taken for this one's
    expect(written.status!.operationState).toBeUndefined();
    const events = api.list({ group: '', version: 'v1', plural: 'events' }, 'argocd');
    expect(events).toMatchObject([{ reason: 'OperationStarted', involvedObject: { kind: 'Application', name: 'shop-dev' }, message: `alice@example.com initiated sync to 2 sources (promotion ${PROMOTION})` }]);

    sim.step(); // operation Running
    const running = await run(config);
    expect(running).toMatchObject({ status: 'Running', message: 'Argo CD Application "shop-dev" in namespace "argocd": sync running (one or more tasks are running)' });

    sim.step(); // Succeeded
    const done = await run(config);
    expect(done).toEqual({
      status: 'Succeeded',
      message: 'synced shop-dev to 2222222, 1.1.0',
      outputs: { apps: [{ name: 'shop-dev', namespace: 'argocd', revisions: [SHA_NEW, '1.1.0'], desiredRevisions: [SHA_NEW, '1.1.0'] }] },
      healthCheck: { kind: 'argocd', apps: [{ name: 'shop-dev', namespace: 'argocd', desiredRevisions: [SHA_NEW, '1.1.0'] }] },
    });
    expect(sim.operations).toHaveLength(1);
  });

  it('only syncs when no sources are given, as "stagecoach" for an automatic promotion', async () => {
    sim.addApp({ name: 'guestbook', annotations: AUTH });
    expect((await run({ apps: [{ name: 'guestbook' }] })).status).toBe('Running');
    expect(app('guestbook').operation!.initiatedBy).toEqual({ username: 'stagecoach', automated: true });
    expect(app('guestbook').spec.source!.targetRevision).toBe('main');
    sim.settle();
    expect(await run({ apps: [{ name: 'guestbook' }] })).toMatchObject({ status: 'Succeeded', outputs: { apps: [{ revisions: [SHA_MAIN], desiredRevisions: [''] }] } });
  });

  it('completes in one run when Argo CD syncs while the step watches', async () => {
    sim.addApp({ name: 'guestbook', annotations: AUTH });
    sim.auto();
    const quick = createArgoCdUpdate({ settleMs: 10_000 });
    const result = await runStep(quick, { apps: [{ name: 'guestbook', sources: [{ repoURL: GITOPS, desiredRevision: SHA_MAIN }] }] }, { workDir: os.tmpdir(), kube });
    expect(result).toMatchObject({ status: 'Succeeded', outputs: { apps: [{ name: 'guestbook', revisions: [SHA_MAIN] }] } });
  });

  it('refuses an app that does not authorize the stage, saying which annotation to add to which app', async () => {
    sim.addApp({ name: 'guestbook', annotations: { 'kargo.akuity.io/authorized-stage': 'test:qa' } });
    const result = await run({ apps: [{ name: 'guestbook' }] });
    expect(result).toEqual({
      status: 'Failed',
      message:
        'apps[0]: Argo CD Application "guestbook" in namespace "argocd" does not authorize stage test:dev (it authorizes test:qa). ' +
        'To let this stage drive it, add the annotation stagecoach.io/authorized-stage: "test:qa,test:dev" to the Application ' +
        '(in Git, where it is defined, or: kubectl annotate application --overwrite -n argocd guestbook stagecoach.io/authorized-stage=test:qa,test:dev).',
    });
    expect(app('guestbook').operation).toBeUndefined();
  });

  it('skips apps a selector matches that do not authorize the stage, and fails when none does', async () => {
    sim.addApp({ name: 'shop-a', labels: { team: 'shop' }, annotations: AUTH });
    sim.addApp({ name: 'shop-b', labels: { team: 'shop' } });
    sim.addApp({ name: 'other', labels: { team: 'other' }, annotations: AUTH });
    const byTeam = { apps: [{ selector: { matchLabels: { team: 'shop' } } }] };
    expect(await run(byTeam)).toMatchObject({ status: 'Running' });
    expect(app('shop-a').operation).toBeDefined();
    expect(app('shop-b').operation).toBeUndefined();
    expect(app('other').operation).toBeUndefined();

    const none = await run({ apps: [{ selector: { matchExpressions: [{ key: 'team', operator: 'In', values: ['shop'] }, { key: 'team', operator: 'NotIn', values: ['other'] }] }, namespace: 'argocd' }, { selector: { matchLabels: { team: 'nobody' } } }] });
    expect(none).toEqual({ status: 'Failed', message: 'apps[1]: no Argo CD Applications matching selector "team=nobody" in namespace "argocd"' });

    sim.addApp({ name: 'lonely', labels: { team: 'lonely' } });
    expect(await run({ apps: [{ selector: { matchLabels: { team: 'lonely' } } }] })).toEqual({
      status: 'Failed',
      message:
        'apps[0]: 1 Argo CD Application(s) matching selector "team=lonely" in namespace "argocd", but none authorizes stage test:dev: lonely. ' +
        'Add the annotation stagecoach.io/authorized-stage: "test:dev" to each app this stage may drive.',
    });
  });

  it('changes nothing when one selected app lacks a source the step updates', async () => {
    sim.addApp({ name: 'shop-a', labels: { team: 'shop' }, annotations: AUTH });
    sim.addApp({ name: 'shop-b', labels: { team: 'shop' }, annotations: AUTH, source: { repoURL: 'https://git.example.com/acme/elsewhere.git', path: '.' } });
    const result = await run({ apps: [{ selector: { matchLabels: { team: 'shop' } }, sources: [{ repoURL: GITOPS, desiredRevision: SHA_NEW, updateTargetRevision: true }] }] });
    expect(result.status).toBe('Failed');
    expect(result.message).toBe(
      'apps[0]: nothing was changed: no source of Argo CD Application "shop-b" in namespace "argocd" has repoURL https://git.example.com/acme/gitops.git ' +
        "(its sources: https://git.example.com/acme/elsewhere.git); repoURL and chart must be those of the Application's source",
    );
    expect(app('shop-a').operation).toBeUndefined();
    expect(app('shop-a').spec.source!.targetRevision).toBe('main');
  });

  it("waits out a sync someone else started before starting its own", async () => {
    sim.addApp({ name: 'guestbook', annotations: AUTH });
    sim.requestSync('guestbook', 'bob');
    sim.step(); // bob's sync is running
    const config = { apps: [{ name: 'guestbook', sources: [{ repoURL: GITOPS, desiredRevision: SHA_NEW, updateTargetRevision: true }] }] };
    const waiting = await run(config);
    expect(waiting).toMatchObject({
      status: 'Running',
      message: 'Argo CD Application "guestbook" in namespace "argocd": waiting for the sync started by bob to finish before starting this promotion\'s',
    });
    expect(app('guestbook').spec.source!.targetRevision).toBe('main');
    expect(app('guestbook').operation!.initiatedBy!.username).toBe('bob');

    sim.settle(); // bob's sync finishes
    expect((await run(config)).status).toBe('Running');
    expect(app('guestbook').spec.source!.targetRevision).toBe(SHA_NEW);
    sim.settle();
    expect(await run(config)).toMatchObject({ status: 'Succeeded', outputs: { apps: [{ revisions: [SHA_NEW] }] } });
    expect(sim.operations.map(o => o.operation.initiatedBy!.username)).toEqual(['bob', 'stagecoach']);
  });

  it("fails with Argo CD's message when the sync fails", async () => {
    sim.addApp({ name: 'guestbook', annotations: AUTH });
    sim.failNextSync('guestbook', 'one or more objects failed to apply, reason: Deployment.apps "web" is invalid');
    const config = { apps: [{ name: 'guestbook' }] };
    await run(config);
    sim.settle();
    expect(await run(config, { argocd: { namespace: 'argocd', url: 'https://argocd.example.com' } })).toEqual({
      status: 'Failed',
      message:
        'Argo CD could not sync Argo CD Application "guestbook" in namespace "argocd": one or more objects failed to apply, reason: Deployment.apps "web" is invalid. ' +
        'Look at the app in Argo CD (https://argocd.example.com/applications/argocd/guestbook) for the resource that failed, fix its manifests or the cluster, then promote again.',
      state: { started: [] },
    });
  });

  it('fails naming both revisions when the sync ends at another revision than desired', async () => {
    sim.addApp({ name: 'guestbook', annotations: AUTH });
    const config = { apps: [{ name: 'guestbook', sources: [{ repoURL: GITOPS, desiredRevision: SHA_NEW }] }] };
    await run(config);
    sim.settle();
    const result = await run(config);
    expect(result.status).toBe('Failed');
    expect(result.message).toBe(
      'Argo CD Application "guestbook" in namespace "argocd" is not at the desired revision: it synced to 1111111, but the promotion asked for 2222222. ' +
        "Check that the source's targetRevision leads to it (a branch that has moved on, or a commit that was never pushed), or set updateTargetRevision: true.",
    );
  });

  it('fails naming the namespace and cluster of a missing app, and when the app is deleted while it waits', async () => {
    expect(await run({ apps: [{ name: 'nope', namespace: 'apps', cluster: 'local' }] })).toEqual({
      status: 'Failed',
      message: 'apps[0]: Argo CD Application "nope" in namespace "apps" on cluster "local" was not found; check the name, the namespace and the cluster',
    });
    sim.addApp({ name: 'guestbook', annotations: AUTH });
    await run({ apps: [{ name: 'guestbook' }] });
    sim.deleteApp('guestbook');
    expect((await run({ apps: [{ name: 'guestbook' }] })).message).toContain('"guestbook" in namespace "argocd" was not found');
  });

  it('throws a plain error (counted by retry.errorThreshold) when the cluster cannot be reached, and fails at once for an unknown cluster', async () => {
    const gone = await startKubeApi();
    const url = gone.url;
    await gone.close();
    const unreachable = kubeClustersFromOptions([{ name: 'offline', url, skipTLSVerify: true }], { timeoutMs: 2000 });
    const error = await run({ apps: [{ name: 'guestbook' }] }, { kube: unreachable }).catch(e => e);
    expect(error).toBeInstanceOf(Error);
    expect(error).not.toBeInstanceOf(StepConfigError);
    expect(error.name).toBe('Error');
    expect(error.message).toContain('offline');
    const direct = await unreachable.client('offline').get(APPLICATIONS, 'argocd', 'guestbook').catch(e => e);
    expect(error.message).toBe(direct.message);

    await expect(run({ apps: [{ name: 'guestbook', cluster: 'mars' }] })).rejects.toThrow(StepConfigError);
  });

  it('reads the app again and decides afresh when someone edits it between its read and its write', async () => {
    sim.addApp({ name: 'guestbook', annotations: AUTH });
    let edits = 0;
    // Someone (here: a person adding a label, then starting a sync) changes the app right
    // after each of the step's reads, so its replace carries a stale resourceVersion.
    const racing: KubeClusters = {
      names: () => kube.names(),
      client: (cluster?: string): KubeClient => {
        const real = kube.client(cluster);
        return Object.assign(Object.create(real), {
          get: async (...args: Parameters<KubeClient['get']>) => {
            const got = await real.get(...args);
            if (edits === 0) api.update(APPLICATIONS, 'argocd', 'guestbook', o => void (o.metadata.labels = { owner: 'carol' }));
            edits++;
            return got;
          },
        });
      },
    };
    const config = { apps: [{ name: 'guestbook', sources: [{ repoURL: GITOPS, desiredRevision: SHA_NEW, updateTargetRevision: true }] }] };
    expect((await run(config, { kube: racing })).status).toBe('Running');
    const conflicts = api.requests.filter(r => r.method === 'PUT');
    expect(conflicts.length).toBe(2);
    // nothing of the other edit was lost
    expect(app('guestbook').metadata.labels).toEqual({ owner: 'carol' });
    expect(app('guestbook').spec.source!.targetRevision).toBe(SHA_NEW);

    // a sync started in between is waited out rather than overwritten
    sim.settle();
    sim.addApp({ name: 'other', annotations: AUTH });
    let raced = false;
    const syncRacing: KubeClusters = {
      names: () => kube.names(),
      client: (cluster?: string): KubeClient => {
        const real = kube.client(cluster);
        return Object.assign(Object.create(real), {
          get: async (...args: Parameters<KubeClient['get']>) => {
            const got = await real.get(...args);
            if (!raced) sim.requestSync('other', 'dave');
            raced = true;
            return got;
          },
        });
      },
    };
    const result = await run({ apps: [{ name: 'other' }] }, { kube: syncRacing });
    expect(result).toMatchObject({ status: 'Running', message: expect.stringContaining('waiting for the sync requested by dave') });
    expect(app('other').operation!.initiatedBy!.username).toBe('dave');
  });

  it('takes the desired revision from an earlier step with desiredCommitFromStep (older manifests)', async () => {
    sim.addApp({ name: 'guestbook', annotations: AUTH });
    const config = { apps: [{ name: 'guestbook', sources: [{ repoURL: GITOPS, desiredCommitFromStep: 'commit', updateTargetRevision: true }] }] };
    await run(config, { outputs: { commit: { commit: SHA_NEW } } });
    expect(app('guestbook').spec.source!.targetRevision).toBe(SHA_NEW);
    await expect(run(config, { outputs: {} })).rejects.toThrow('apps[0].sources[0].desiredCommitFromStep: no step with alias "commit" ran before this one');
  });

  it("sets Kustomize images and Helm values from the freight's images when older manifests ask so", async () => {
    sim.addApp({ name: 'guestbook', annotations: AUTH, source: { repoURL: GITOPS, path: 'dev', targetRevision: 'main' } });
    const freight = testFreight({ artifacts: { commits: [], charts: [], images: [{ repoURL: 'ghcr.io/acme/web', tag: '2.0.0', digest: `sha256:${'d'.repeat(64)}` }] } as never });
    await run(
      { apps: [{ name: 'guestbook', sources: [{ repoURL: GITOPS, kustomize: { images: [{ repoURL: 'ghcr.io/acme/web' }] }, helm: { images: [{ key: 'web.image', repoURL: 'ghcr.io/acme/web', value: 'ImageAndDigest' }] } }] }] },
      { freight },
    );
    expect(app('guestbook').spec.source).toMatchObject({
      kustomize: { images: ['ghcr.io/acme/web:2.0.0'] },
      helm: { parameters: [{ name: 'web.image', value: `ghcr.io/acme/web@sha256:${'d'.repeat(64)}` }] },
    });
  });
});

describe('checkArgoCdHealth (loopback Kubernetes API, simulated Argo CD controller)', () => {
  it('checks each app on its cluster; a missing app or an unreachable cluster is Unknown with the reason', async () => {
    const api = await startKubeApi();
    const gone = await startKubeApi();
    const goneUrl = gone.url;
    await gone.close();
    try {
      const sim = new ArgoCdSimulator(api, { commits: { main: SHA_MAIN } });
      sim.addApp({ name: 'guestbook' });
      sim.addApp({ name: 'worker' });
      sim.stayDegraded('worker', 'CrashLoopBackOff');
      sim.step();
      const kube = kubeClustersFromOptions([{ name: 'local', url: api.url, skipTLSVerify: true }, { name: 'offline', url: goneUrl, skipTLSVerify: true }], { timeoutMs: 2000 });
      const verdicts = await checkArgoCdHealth(kube, { namespace: 'argocd', url: 'https://argocd.example.com' }, {
        kind: 'argocd',
        apps: [
          { name: 'guestbook', namespace: 'argocd', desiredRevisions: [SHA_MAIN] },
          { name: 'worker', namespace: 'argocd', cluster: 'local', desiredRevisions: [''] },
          { name: 'nope', namespace: 'argocd', desiredRevisions: [''] },
          { name: 'far', namespace: 'argocd', cluster: 'offline', desiredRevisions: [''] },
        ],
      });
      expect(verdicts.map(v => [v.name, v.status])).toEqual([
        ['guestbook', 'Healthy'],
        ['worker', 'Degraded'],
        ['nope', 'Unknown'],
        ['far', 'Unknown'],
      ]);
      expect(verdicts[0]).toMatchObject({ sync: 'Synced', health: 'Healthy', revisions: [SHA_MAIN], url: 'https://argocd.example.com/applications/argocd/guestbook', desiredRevisions: [SHA_MAIN] });
      expect(verdicts[1].reason).toBe('app worker is Degraded: CrashLoopBackOff');
      expect(verdicts[2].reason).toBe('app nope was not found in namespace "argocd"');
      expect(verdicts[3].reason).toMatch(/^app far: .*offline/);
    } finally {
      await api.close();
    }
  });
});

describe('argocd-update configuration', () => {
  it("accepts Kargo's fields, older ones and Stagecoach's cluster", () => {
    expect(
      validateStepConfig('argocd-update', {
        apps: [
          { name: 'a', namespace: 'apps', cluster: 'prod', sources: [{ repoURL: GITOPS, desiredRevision: 'abc1234', updateTargetRevision: true }] },
          { selector: { matchLabels: { team: 'x' } }, sources: [{ repoURL: GITOPS, desiredCommitFromStep: 'commit', kustomize: { images: [{ repoURL: 'img', useDigest: true }] } }] },
          { name: 'c', sources: [{ repoURL: CHARTS, chart: 'c', helm: { images: [{ key: 'k', value: 'v' }] } }] },
        ],
      }),
    ).toEqual([]);
  });

  it('names the field that is wrong', () => {
    expect(validateStepConfig('argocd-update', { apps: [] })).toEqual([{ path: ['config', 'apps'], message: 'needs at least one app' }]);
    expect(validateStepConfig('argocd-update', { apps: [{ namespace: 'x' }] })).toEqual([{ path: ['config', 'apps', 0, 'name'], message: 'set one of name and selector' }]);
    expect(validateStepConfig('argocd-update', { apps: [{ name: 'a', selector: { matchLabels: { a: 'b' } } }] })).toEqual([
      { path: ['config', 'apps', 0, 'selector'], message: 'set name or selector, not both' },
    ]);
    expect(validateStepConfig('argocd-update', { apps: [{ name: 'a', sources: [{ repoURL: GITOPS, updateTargetRevision: true }] }] })).toEqual([
      { path: ['config', 'apps', 0, 'sources', 0, 'updateTargetRevision'], message: 'updateTargetRevision: true needs desiredRevision, the revision to point targetRevision at' },
    ]);
    expect(validateStepConfig('argocd-update', { apps: [{ name: 'a', sources: [{ repoURL: GITOPS, kustomize: { images: [{ repoURL: 'i', tag: '1', digest: 'sha256:x' }] } }] }] })).toEqual([
      { path: ['config', 'apps', 0, 'sources', 0, 'kustomize', 'images', 0, 'digest'], message: 'set tag or digest, not both' },
    ]);
    expect(validateStepConfig('argocd-update', { apps: [{ name: 'a', sources: [{ repoURL: GITOPS, helm: { images: [{ key: 'k', value: 'Latest', repoURL: 'img' }] } }] }] })).toEqual([
      { path: ['config', 'apps', 0, 'sources', 0, 'helm', 'images', 0, 'value'], message: 'with repoURL (older manifests), value must be one of Tag, Digest, ImageAndTag, ImageAndDigest; without it, the value itself' },
    ]);
    expect(validateStepConfig('argocd-update', { apps: [{ name: 'a', wat: 1 }] })).toEqual([{ path: ['config', 'apps', 0], message: 'unknown field "wat"' }]);
  });
});
