import os from 'node:os';
import { ArgoCdSimulator } from '../../__testUtils__/argoCdSimulator';
import { KubeApiServer, startKubeApi } from '../../__testUtils__/kubeApi';
import { runStep } from '../../__testUtils__/stepHarness';
import { kubeClustersFromOptions } from '../../integrations/kubernetes/KubeClusters';
import { APPLICATIONS, KubeClusters } from '../../integrations/kubernetes/types';
import { validateStepConfig } from '.';
import { argocdWait } from './argocd-wait';
import type { StepContext } from './types';

describe('argocd-wait (loopback Kubernetes API, simulated Argo CD controller)', () => {
  let api: KubeApiServer;
  let sim: ArgoCdSimulator;
  let kube: KubeClusters;
  const wait = (config: unknown, ctx: Partial<StepContext> = {}) => runStep(argocdWait, config, { workDir: os.tmpdir(), kube, ...ctx });

  beforeEach(async () => {
    api = await startKubeApi();
    kube = kubeClustersFromOptions([{ name: 'local', url: api.url, skipTLSVerify: true }]);
    sim = new ArgoCdSimulator(api);
  });

  afterEach(() => api.close());

  it('succeeds at once for an app that is healthy, synced and idle', async () => {
    sim.addApp({ name: 'guestbook' });
    expect(await wait({ apps: [{ name: 'guestbook' }] })).toEqual({
      status: 'Succeeded',
      message: 'guestbook is ready',
      outputs: { healthStatus: { 'argocd/guestbook': 'Healthy' }, apps: [{ name: 'guestbook', namespace: 'argocd', health: 'Healthy', sync: 'Synced' }] },
    });
  });

  it('stays Running through a sync, saying what it still waits for, until the app is healthy again', async () => {
    sim.addApp({ name: 'guestbook' });
    sim.requestSync('guestbook');
    const config = { apps: [{ name: 'guestbook' }] };
    expect(await wait(config)).toMatchObject({ status: 'Running', retryAfterMs: 5000, message: 'waiting for app guestbook: its sync to finish (requested)' });
    sim.step(); // running
    expect((await wait(config)).message).toBe('waiting for app guestbook: its sync to finish (operation Running)');
    sim.step(); // finished; health not yet re-assessed
    const stale = await wait(config);
    expect(stale.message).toBe('waiting for app guestbook: Argo CD to re-assess its health after the last sync');
    // it asked Argo CD to look again
    expect(api.get(APPLICATIONS, 'argocd', 'guestbook')!.metadata.annotations['argocd.argoproj.io/refresh']).toBe('normal');
    sim.step(); // reconciled
    expect((await wait(config)).status).toBe('Succeeded');
  });

  it('waits for what waitFor names only: suspended or degraded health, ORed', async () => {
    sim.addApp({ name: 'worker' });
    sim.stayDegraded('worker', 'CrashLoopBackOff');
    sim.step();
    expect(await wait({ apps: [{ name: 'worker', waitFor: ['suspended', 'degraded'] }] })).toMatchObject({ status: 'Succeeded' });
    expect(await wait({ apps: [{ name: 'worker', waitFor: ['suspended'] }] })).toMatchObject({
      status: 'Running',
      message: 'waiting for app worker: health Suspended (it is Degraded: CrashLoopBackOff)',
    });
    expect((await wait({ apps: [{ name: 'worker', waitFor: ['sync', 'operation'] }] })).status).toBe('Succeeded');
  });

  it('fails when an app it waits on falls to Degraded from a better state', async () => {
    sim.addApp({ name: 'guestbook' });
    api.update(APPLICATIONS, 'argocd', 'guestbook', o => void (o.status.health = { status: 'Progressing' }));
    const first = await wait({ apps: [{ name: 'guestbook' }] });
    expect(first).toMatchObject({ status: 'Running', state: { healthStatus: { 'argocd/guestbook': 'Progressing' } } });
    sim.stayDegraded('guestbook', 'ImagePullBackOff');
    sim.step();
    expect(await wait({ apps: [{ name: 'guestbook' }] }, { state: first.state })).toMatchObject({
      status: 'Failed',
      message: "apps[0]: app guestbook's health fell from Progressing to Degraded: ImagePullBackOff",
    });
  });

  it('fails at once on a ComparisonError, and for a missing app or a selector matching none', async () => {
    sim.addApp({ name: 'guestbook' });
    api.update(APPLICATIONS, 'argocd', 'guestbook', o => void (o.status.conditions = [{ type: 'ComparisonError', message: 'repository not accessible' }]));
    expect(await wait({ apps: [{ name: 'guestbook' }] })).toMatchObject({
      status: 'Failed',
      message: 'apps[0]: app guestbook has ComparisonError: repository not accessible; fix its source or spec in Argo CD',
    });
    expect((await wait({ apps: [{ name: 'nope', namespace: 'apps' }] })).message).toBe('apps[0]: Argo CD Application "nope" in namespace "apps" was not found');
    expect((await wait({ apps: [{ selector: { matchLabels: { team: 'x' } } }] })).message).toBe(
      'apps[0]: no Argo CD Applications matching selector "team=x" in namespace "argocd"',
    );
  });

  it('waits for every app a selector matches, naming those not ready', async () => {
    sim.addApp({ name: 'a', labels: { team: 'shop' } });
    sim.addApp({ name: 'b', labels: { team: 'shop' } });
    api.update(APPLICATIONS, 'argocd', 'b', o => void (o.status.sync = { status: 'OutOfSync' }));
    expect((await wait({ apps: [{ selector: { matchLabels: { team: 'shop' } } }] })).message).toBe('waiting for app b: sync status Synced (it is OutOfSync)');
  });
});

describe('argocd-wait configuration', () => {
  it('names the field that is wrong', () => {
    expect(validateStepConfig('argocd-wait', { apps: [{ name: 'a', waitFor: ['health', 'ready'] }] })).toEqual([
      { path: ['config', 'apps', 0, 'waitFor', 1], message: 'must be one of health, sync, operation, suspended, degraded' },
    ]);
    expect(validateStepConfig('argocd-wait', { apps: [{ name: 'a', waitFor: ['health', 'health'] }] })).toEqual([
      { path: ['config', 'apps', 0, 'waitFor'], message: 'names a condition twice' },
    ]);
    expect(validateStepConfig('argocd-wait', { apps: [{}] })).toEqual([{ path: ['config', 'apps', 0, 'name'], message: 'set one of name and selector' }]);
  });
});
