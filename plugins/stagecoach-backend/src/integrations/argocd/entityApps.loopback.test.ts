import { ArgoCdSimulator } from '../../__testUtils__/argoCdSimulator';
import { KubeApiServer, startKubeApi } from '../../__testUtils__/kubeApi';
import { kubeClustersFromOptions } from '../kubernetes/KubeClusters';
import { entityApps } from './entityApps';

/**
 * Issue 11, finding 9: the `argocd/app-namespace` annotation of any catalog entity (which
 * anyone who can edit the entity writes) read Applications in any namespace with the
 * backend's Kubernetes identity. Now it may name only the namespaces app-config lists
 * (`stagecoach.argocd.namespaces`, default: `stagecoach.argocd.namespace`). The Kubernetes
 * API is the loopback stand-in.
 */
describe('entity apps and argocd/app-namespace (loopback Kubernetes API)', () => {
  let kube: KubeApiServer;

  beforeAll(async () => {
    kube = await startKubeApi();
    const argocd = new ArgoCdSimulator(kube);
    argocd.addApp({ name: 'shop-dev', namespace: 'argocd', annotations: { 'stagecoach.io/authorized-stage': 'shop:dev' } });
    argocd.addApp({ name: 'secret-app', namespace: 'other-team' });
    argocd.addApp({ name: 'shared-app', namespace: 'argocd-apps' });
  });
  afterAll(() => kube.close());

  const clusters = () => kubeClustersFromOptions([{ name: 'local', url: kube.url, skipTLSVerify: true }]);

  it('reads apps in the default namespace, with the stage that drives them', async () => {
    const r = await entityApps(clusters(), { namespace: 'argocd' }, 'shop', new Set(['dev']), { appName: 'shop-dev' });
    expect(r.appsError).toBeUndefined();
    expect(r.apps).toEqual([expect.objectContaining({ name: 'shop-dev', namespace: 'argocd', stage: 'dev' })]);
  });

  it('refuses a namespace app-config does not list, naming the annotation and the setting, and reads nothing', async () => {
    const before = kube.requests.length;
    const r = await entityApps(clusters(), { namespace: 'argocd' }, 'shop', new Set(['dev']), {
      appName: 'secret-app',
      appNamespace: 'other-team',
    });
    expect(r.apps).toBeUndefined();
    expect(r.appsError).toBe(
      'the argocd/app-namespace annotation names namespace "other-team", which Stagecoach does not read Argo CD Applications from: ' +
        'app-config stagecoach.argocd.namespaces allows argocd',
    );
    expect(kube.requests.slice(before)).toEqual([]);
  });

  it('reads a namespace listed in stagecoach.argocd.namespaces', async () => {
    const settings = { namespace: 'argocd', namespaces: ['argocd-apps'] };
    const r = await entityApps(clusters(), settings, 'shop', new Set(['dev']), { appName: 'shared-app', appNamespace: 'argocd-apps' });
    expect(r.appsError).toBeUndefined();
    expect(r.apps).toEqual([expect.objectContaining({ name: 'shared-app', namespace: 'argocd-apps' })]);
    const refused = await entityApps(clusters(), settings, 'shop', new Set(['dev']), { appSelector: 'a=b', appNamespace: 'other-team' });
    expect(refused.appsError).toMatch(/allows argocd, argocd-apps$/);
  });
});
