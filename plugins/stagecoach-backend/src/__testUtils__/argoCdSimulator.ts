import type { ArgoAppSource, ArgoApplication, ArgoOperation } from '../integrations/argocd/applications';
import { APPLICATIONS } from '../integrations/kubernetes/types';
import type { KubeApiServer, Obj } from './kubeApi';

/**
 * Argo CD's application controller, as far as Stagecoach can tell, on top of the loopback
 * Kubernetes API (`kubeApi.ts`). It writes through the server's hooks, so clients see its
 * changes as they would a real controller's: new resourceVersions, watch events.
 *
 * One `step()` moves every app one reconciliation on:
 *
 *   operation requested   → operationState Running (the operation as it was asked)
 *   operation Running     → Succeeded: syncResult and sync.revision(s) resolved from each
 *                           source's targetRevision (through `commits`, or the revision itself),
 *                           sync Synced, health Progressing, `operation` removed.
 *                           Health is now older than the sync (reconciledAt < finishedAt).
 *   after a sync, or a refresh annotation → reconciled: reconciledAt now, the refresh
 *                           annotation removed, health Healthy (or what a fault says)
 *
 * Faults: `failNextSync` (the sync ends Failed with a message), `stayDegraded`, `hang` (the
 * operation stays Running), `deleteApp`. Tests step it by hand (`step`, `settle`) so they
 * control timing without sleeping; `auto()` makes it react to every client write by itself,
 * as the real controller would, for a step that watches.
 */
export interface ArgoCdSimulatorOptions {
  /** Revision (`main`, `v1.2.0`) → the commit SHA it resolves to; a revision not listed resolves to itself. */
  commits?: Record<string, string>;
  /**
   * What Argo CD's repo server does: resolves a source's targetRevision (a branch or tag) to the
   * commit it points at now; undefined falls back to `commits`.
   */
  resolveRevision?: (source: ArgoAppSource) => string | undefined;
  /** The controller's clock; default a simulated one that moves one second per reading, from 2026-01-01T10:00:00Z. */
  now?: () => Date;
}

export interface NewApp {
  name: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  source?: ArgoAppSource;
  sources?: ArgoAppSource[];
  syncPolicy?: ArgoApplication['spec']['syncPolicy'];
}

interface Faults {
  failNextSync?: string;
  degraded?: string;
  hang?: boolean;
}

const REFRESH = 'argocd.argoproj.io/refresh';
const FINISHED = ['Succeeded', 'Failed', 'Error'];

export class ArgoCdSimulator {
  private readonly faults = new Map<string, Faults>();
  private readonly commits: Record<string, string>;
  private readonly resolveRevision?: (source: ArgoAppSource) => string | undefined;
  private readonly now: () => Date;
  private stopAuto?: () => void;
  /** Every operation the controller started, in order: who asked and with what. */
  readonly operations: Array<{ app: string; operation: ArgoOperation }> = [];

  constructor(
    private readonly api: KubeApiServer,
    options: ArgoCdSimulatorOptions = {},
  ) {
    this.commits = options.commits ?? {};
    this.resolveRevision = options.resolveRevision;
    let tick = Date.parse('2026-01-01T10:00:00Z');
    this.now = options.now ?? (() => new Date((tick += 1000)));
  }

  private iso(): string {
    return this.now().toISOString().replace(/\.\d{3}Z$/, 'Z');
  }

  private resolve(revision: string | undefined): string {
    const r = revision || 'HEAD';
    return this.commits[r] ?? r;
  }

  private sources(app: ArgoApplication): ArgoAppSource[] {
    if (app.spec.sources?.length) return app.spec.sources;
    return app.spec.source ? [app.spec.source] : [];
  }

  private syncedFields(app: ArgoApplication): { revision?: string; revisions?: string[] } {
    const revs = this.sources(app).map(s => this.resolveRevision?.(s) ?? this.resolve(s.targetRevision));
    return app.spec.sources?.length ? { revisions: revs } : { revision: revs[0] };
  }

  /** An app synced and healthy at its sources' target revisions, health assessed after its last sync. */
  addApp(app: NewApp): ArgoApplication {
    const body: ArgoApplication = {
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'Application',
      metadata: { name: app.name, namespace: app.namespace ?? 'argocd', labels: app.labels, annotations: app.annotations },
      spec: {
        project: 'default',
        destination: { server: 'https://kubernetes.default.svc', namespace: app.name },
        ...(app.sources ? { sources: app.sources } : { source: app.source ?? { repoURL: 'https://git.example.com/acme/gitops.git', path: app.name, targetRevision: 'main' } }),
        ...(app.syncPolicy ? { syncPolicy: app.syncPolicy } : {}),
      },
    };
    const finishedAt = this.iso();
    body.status = {
      sync: { status: 'Synced', ...this.syncedFields(body) },
      health: { status: 'Healthy' },
      operationState: {
        operation: { initiatedBy: { username: 'admin' }, sync: {} },
        phase: 'Succeeded',
        message: 'successfully synced (all tasks run)',
        startedAt: finishedAt,
        finishedAt,
        syncResult: this.syncedFields(body),
      },
      reconciledAt: this.iso(),
    };
    return this.api.put(APPLICATIONS, body as Obj) as ArgoApplication;
  }

  app(name: string, namespace = 'argocd'): ArgoApplication | undefined {
    return this.api.get(APPLICATIONS, namespace, name) as ArgoApplication | undefined;
  }

  private fault(name: string, namespace: string): Faults {
    const key = `${namespace}/${name}`;
    let f = this.faults.get(key);
    if (!f) this.faults.set(key, (f = {}));
    return f;
  }

  /** The app's next sync ends Failed with this message (as Argo CD reports a failed apply). */
  failNextSync(name: string, message: string, namespace = 'argocd'): void {
    this.fault(name, namespace).failNextSync = message;
  }

  /** After its syncs the app's health stays Degraded with this message. */
  stayDegraded(name: string, message: string, namespace = 'argocd'): void {
    this.fault(name, namespace).degraded = message;
  }

  /** The app recovers from stayDegraded: its next reconciliation reports it Healthy. */
  recover(name: string, namespace = 'argocd'): void {
    delete this.fault(name, namespace).degraded;
    this.api.update(APPLICATIONS, namespace, name, o => {
      o.metadata.annotations = { ...o.metadata.annotations, [REFRESH]: 'normal' };
    });
  }

  /** The app's operations start but never finish. */
  hang(name: string, namespace = 'argocd'): void {
    this.fault(name, namespace).hang = true;
  }

  /** Lets a hung app's operation finish on the next step. */
  release(name: string, namespace = 'argocd'): void {
    this.fault(name, namespace).hang = false;
  }

  deleteApp(name: string, namespace = 'argocd'): void {
    this.api.remove(APPLICATIONS, namespace, name);
  }

  /** Someone else (a person in Argo CD's UI, by default) asks for a sync of the app. */
  requestSync(name: string, username = 'alice', namespace = 'argocd'): void {
    this.api.update(APPLICATIONS, namespace, name, o => {
      o.operation = { initiatedBy: { username }, info: [{ name: 'Reason', value: 'sync from the UI' }], sync: {} };
    });
  }

  /** One reconciliation of every app; how many changed. */
  step(): number {
    let changed = 0;
    for (const o of this.api.list(APPLICATIONS)) {
      const app = o as ArgoApplication;
      const f = this.fault(app.metadata.name, app.metadata.namespace!);
      const next = this.reconcile(structuredClone(app), f);
      if (next) {
        this.api.update(APPLICATIONS, app.metadata.namespace!, app.metadata.name, () => next as Obj);
        changed++;
      }
    }
    return changed;
  }

  /** Steps until nothing changes (at most `max` times); how many steps changed something. */
  settle(max = 20): number {
    let n = 0;
    while (n < max && this.step() > 0) n++;
    return n;
  }

  /** From now on, reacts to each client write by stepping until settled (asynchronously, like a controller). */
  auto(): void {
    if (this.stopAuto) return;
    let scheduled = false;
    const schedule = (): void => {
      if (scheduled) return;
      scheduled = true;
      setImmediate(() => {
        scheduled = false;
        if (this.step() > 0) schedule();
      });
    };
    this.stopAuto = this.api.onWrite(e => {
      if (e.type.plural === 'applications') schedule();
    });
  }

  stop(): void {
    this.stopAuto?.();
    this.stopAuto = undefined;
  }

  private reconcile(app: ArgoApplication, f: Faults): ArgoApplication | undefined {
    const status = (app.status ??= {});
    const op = app.operation;
    const state = status.operationState;
    if (op) {
      const started = state?.phase === 'Running' && JSON.stringify(state.operation) === JSON.stringify(op);
      if (!started) {
        status.operationState = { operation: structuredClone(op), phase: 'Running', message: 'one or more tasks are running', startedAt: this.iso() };
        this.operations.push({ app: app.metadata.name, operation: structuredClone(op) });
        if (app.metadata.annotations?.[REFRESH]) delete app.metadata.annotations[REFRESH];
        return app;
      }
      if (f.hang) return undefined;
      const finishedAt = this.iso();
      delete app.operation;
      if (f.failNextSync !== undefined) {
        status.operationState = { ...state, phase: 'Failed', message: f.failNextSync, finishedAt };
        status.sync = { ...status.sync, status: 'OutOfSync' };
        f.failNextSync = undefined;
        return app;
      }
      const synced = this.syncedFields(app);
      status.operationState = { ...state, phase: 'Succeeded', message: 'successfully synced (all tasks run)', finishedAt, syncResult: synced };
      status.sync = { status: 'Synced', ...synced };
      status.health = { status: 'Progressing', message: 'Waiting for rollout to finish' };
      return app;
    }
    const finished = state?.finishedAt && FINISHED.includes(state.phase ?? '');
    const stale = finished && (!status.reconciledAt || Date.parse(status.reconciledAt) < Date.parse(state!.finishedAt!));
    if (stale || app.metadata.annotations?.[REFRESH]) {
      if (app.metadata.annotations?.[REFRESH]) delete app.metadata.annotations[REFRESH];
      status.reconciledAt = this.iso();
      if (f.degraded !== undefined) status.health = { status: 'Degraded', message: f.degraded };
      else if (!state || state.phase === 'Succeeded') status.health = { status: 'Healthy' };
      return app;
    }
    if (f.degraded !== undefined && status.health?.status !== 'Degraded') {
      status.health = { status: 'Degraded', message: f.degraded };
      return app;
    }
    return undefined;
  }
}
