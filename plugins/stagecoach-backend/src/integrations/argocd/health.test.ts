import type { ArgoApplication } from './applications';
import { appHealth, mergeHealth, toArgoCdApp } from './health';

const SHA_A = 'a'.repeat(40);
const SHA_B = 'b'.repeat(40);

/** A synced, healthy single-source app whose health was assessed after its last sync. */
function app(over: { status?: Partial<NonNullable<ArgoApplication['status']>>; spec?: Partial<ArgoApplication['spec']>; operation?: ArgoApplication['operation']; annotations?: Record<string, string> } = {}): ArgoApplication {
  return {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Application',
    metadata: { name: 'guestbook-dev', namespace: 'argocd', annotations: over.annotations },
    spec: { source: { repoURL: 'https://github.com/acme/gitops.git', path: 'dev', targetRevision: 'main' }, ...over.spec },
    ...(over.operation ? { operation: over.operation } : {}),
    status: {
      sync: { status: 'Synced', revision: SHA_A },
      health: { status: 'Healthy' },
      operationState: {
        phase: 'Succeeded',
        startedAt: '2026-01-01T10:00:00Z',
        finishedAt: '2026-01-01T10:00:05Z',
        syncResult: { revision: SHA_A },
        operation: { initiatedBy: { username: 'alice' } },
      },
      reconciledAt: '2026-01-01T10:00:10Z',
      ...over.status,
    },
  };
}

describe('appHealth', () => {
  it('is Unknown when the app was not found, naming where it was looked for', () => {
    expect(appHealth(undefined, [], { name: 'guestbook-dev', namespace: 'argocd', cluster: 'prod' })).toEqual({
      status: 'Unknown',
      reason: 'app guestbook-dev was not found in namespace "argocd" on cluster "prod"',
    });
  });

  it('is Healthy when synced to what the promotion asked for and healthy', () => {
    expect(appHealth(app(), [SHA_A])).toEqual({ status: 'Healthy', reason: 'app guestbook-dev is Healthy' });
  });

  it('is Progressing while a sync is requested but not yet started', () => {
    const v = appHealth(app({ operation: { initiatedBy: { username: 'stagecoach' }, sync: {} } }), [SHA_A]);
    expect(v).toEqual({
      status: 'Progressing',
      reason: 'app guestbook-dev is syncing: a sync by stagecoach was requested and Argo CD has not finished it',
    });
  });

  it('is Progressing while a sync operation runs', () => {
    const v = appHealth(app({ status: { operationState: { phase: 'Running', message: 'waiting for healthy state of apps/Deployment/web' } } }));
    expect(v).toEqual({
      status: 'Progressing',
      reason: 'app guestbook-dev is syncing (operation Running: waiting for healthy state of apps/Deployment/web)',
    });
  });

  it("is Degraded when the last sync failed, with Argo CD's message", () => {
    const v = appHealth(app({ status: { operationState: { phase: 'Failed', message: 'one or more objects failed to apply', finishedAt: '2026-01-01T10:00:05Z' } } }));
    expect(v).toEqual({ status: 'Degraded', reason: 'app guestbook-dev: its last sync failed: one or more objects failed to apply' });
  });

  it('ignores health assessed before the last sync finished', () => {
    const v = appHealth(app({ status: { reconciledAt: '2026-01-01T10:00:01Z' } }), [SHA_A]);
    expect(v).toEqual({
      status: 'Unknown',
      reason:
        'app guestbook-dev: Argo CD has not re-assessed its health since the sync that finished at 2026-01-01T10:00:05Z (last assessed 2026-01-01T10:00:01Z)',
    });
    expect(appHealth(app({ status: { reconciledAt: undefined } })).status).toBe('Unknown');
  });

  it('trusts health assessed at the very moment the sync finished', () => {
    expect(appHealth(app({ status: { reconciledAt: '2026-01-01T10:00:05Z' } })).status).toBe('Healthy');
  });

  it('is Degraded with a ComparisonError condition, whatever the health says', () => {
    const v = appHealth(app({ status: { conditions: [{ type: 'ComparisonError', message: 'repository not found' }] } }));
    expect(v).toEqual({ status: 'Degraded', reason: 'app guestbook-dev has ComparisonError: repository not found' });
  });

  it('is Degraded when synced to another revision than the promotion asked for', () => {
    expect(appHealth(app(), [SHA_B])).toEqual({
      status: 'Degraded',
      reason: 'app guestbook-dev is not synced to what the promotion asked for: it is at aaaaaaa, the promotion asked for bbbbbbb',
    });
  });

  it('names the source of a multi-source app that is off, and ignores sources with no desired revision', () => {
    const multi = app({
      spec: {
        source: undefined,
        sources: [
          { repoURL: 'https://github.com/acme/gitops.git', path: 'dev' },
          { repoURL: 'https://charts.example.com', chart: 'web', targetRevision: '1.2.0' },
        ],
      },
      status: { sync: { status: 'Synced', revisions: [SHA_A, '1.2.0'] } },
    });
    expect(appHealth(multi, ['', '1.2.0']).status).toBe('Healthy');
    expect(appHealth(multi, [SHA_A, '1.3.0'])).toEqual({
      status: 'Degraded',
      reason:
        'app guestbook-dev is not synced to what the promotion asked for: source 1 (https://charts.example.com) is at 1.2.0, the promotion asked for 1.3.0',
    });
  });

  it('takes a short commit SHA as the commit it abbreviates', () => {
    expect(appHealth(app(), [SHA_A.slice(0, 7)]).status).toBe('Healthy');
  });

  it('is Progressing while Argo CD reports Progressing or Suspended, or no health yet', () => {
    expect(appHealth(app({ status: { health: { status: 'Progressing', message: 'Deployment rolling out' } } }))).toEqual({
      status: 'Progressing',
      reason: 'app guestbook-dev is Progressing: Deployment rolling out',
    });
    expect(appHealth(app({ status: { health: { status: 'Suspended' } } }))).toEqual({ status: 'Progressing', reason: 'app guestbook-dev is Suspended' });
    expect(appHealth(app({ status: { health: undefined } })).status).toBe('Progressing');
  });

  it('is Degraded for any other health', () => {
    expect(appHealth(app({ status: { health: { status: 'Degraded', message: 'CrashLoopBackOff' } } }))).toEqual({
      status: 'Degraded',
      reason: 'app guestbook-dev is Degraded: CrashLoopBackOff',
    });
    expect(appHealth(app({ status: { health: { status: 'Missing' } } })).status).toBe('Degraded');
    expect(appHealth(app({ status: { health: { status: 'Unknown' } } })).status).toBe('Degraded');
  });
});

describe('mergeHealth', () => {
  const v = (status: 'Healthy' | 'Progressing' | 'Unknown' | 'Degraded', name: string) => ({ status, reason: `app ${name} is ${status}` });

  it('is the worst verdict, Healthy < Progressing < Unknown < Degraded, naming the worst apps', () => {
    expect(mergeHealth([v('Healthy', 'a'), v('Progressing', 'b')])).toEqual({ status: 'Progressing', reason: 'app b is Progressing' });
    expect(mergeHealth([v('Progressing', 'a'), v('Unknown', 'b')])).toEqual({ status: 'Unknown', reason: 'app b is Unknown' });
    expect(mergeHealth([v('Degraded', 'a'), v('Unknown', 'b'), v('Degraded', 'c')])).toEqual({
      status: 'Degraded',
      reason: 'app a is Degraded; app c is Degraded',
    });
  });

  it('says all are healthy when they are, and Healthy with nothing to check', () => {
    expect(mergeHealth([v('Healthy', 'a'), v('Healthy', 'b')])).toEqual({ status: 'Healthy', reason: 'all 2 apps are Healthy' });
    expect(mergeHealth([v('Healthy', 'a')])).toEqual({ status: 'Healthy', reason: 'app a is Healthy' });
    expect(mergeHealth([])).toEqual({ status: 'Healthy', reason: 'no Argo CD Applications to check' });
  });
});

describe('toArgoCdApp', () => {
  it("shows sync, health, revisions, the last operation, authorized stages and a link to Argo CD's UI", () => {
    const shown = toArgoCdApp(
      app({
        annotations: { 'stagecoach.io/authorized-stage': 'shop:dev, shop:qa', 'kargo.akuity.io/authorized-stage': 'shop:dev' },
        status: { health: { status: 'Progressing', message: 'rolling out' } },
      }),
      'prod',
      { namespace: 'argocd', url: 'https://argocd.example.com/' },
    );
    expect(shown).toEqual({
      name: 'guestbook-dev',
      namespace: 'argocd',
      cluster: 'prod',
      sync: 'Synced',
      health: 'Progressing',
      healthMessage: 'rolling out',
      revisions: [SHA_A],
      operation: { phase: 'Succeeded', startedAt: '2026-01-01T10:00:00Z', finishedAt: '2026-01-01T10:00:05Z', initiatedBy: 'alice' },
      authorizedStages: ['shop:dev', 'shop:qa'],
      url: 'https://argocd.example.com/applications/argocd/guestbook-dev',
    });
  });

  it('leaves out what Argo CD has not reported and the link when no URL is configured', () => {
    const bare: ArgoApplication = { metadata: { name: 'new-app', namespace: 'apps' }, spec: {} };
    expect(toArgoCdApp(bare, undefined, { namespace: 'argocd' })).toEqual({ name: 'new-app', namespace: 'apps' });
  });
});
