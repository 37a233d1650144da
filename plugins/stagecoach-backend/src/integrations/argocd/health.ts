import type { ArgoCdApp, ArgoCdAppHealth, StageHealthStatus } from '@stagecoach/plugin-stagecoach-common';
import { APPLICATIONS, KubeClusters } from '../kubernetes/types';
import { appSources, ArgoApplication, authorizedStages, describePlace, syncedRevisions } from './applications';
import type { ArgoCdHealthCheck, ArgoCdSettings } from './types';

export interface HealthVerdict {
  status: StageHealthStatus;
  /** In words a developer can act on, naming the app: `app guestbook-dev is Progressing: ...`. */
  reason: string;
}

/** The conditions Argo CD sets when it cannot even compare the app with its sources. */
const ERROR_CONDITIONS = ['ComparisonError', 'InvalidSpecError'];

const UNFINISHED: readonly string[] = ['Running', 'Terminating'];

/** `abc1234` asked for, `abc1234…` synced: a short commit SHA names the same commit. */
function sameRevision(observed: string, desired: string): boolean {
  if (observed === desired) return true;
  return /^[0-9a-f]{7,39}$/i.test(desired) && /^[0-9a-f]{40,64}$/i.test(observed) && observed.toLowerCase().startsWith(desired.toLowerCase());
}

const short = (revision: string) => (/^[0-9a-f]{40,64}$/i.test(revision) ? revision.slice(0, 7) : revision);

/**
 * What an app means for its stage's health (Kargo's rules, `pkg/health/checker/builtin/argocd.go`),
 * checked in this order:
 *
 * - not found → Unknown;
 * - a sync requested or running → Progressing (it is on its way);
 * - the last sync failed → Degraded, with Argo CD's message;
 * - health assessed before the last sync finished (`status.reconciledAt` earlier than
 *   `operationState.finishedAt`) → Unknown: Argo CD has not looked since, and a stale
 *   Healthy must not start verification early;
 * - a ComparisonError or InvalidSpecError condition → Degraded;
 * - a source synced to another revision than the promotion asked for → Degraded;
 * - health Progressing, Suspended (or not reported yet) → Progressing; Healthy → Healthy;
 *   anything else (Degraded, Missing, Unknown) → Degraded.
 *
 * `desiredRevisions` has one entry per source; '' where the promotion asked for none.
 */
export function appHealth(app: ArgoApplication | undefined, desiredRevisions: readonly string[] = [], ref?: { name: string; namespace: string; cluster?: string }): HealthVerdict {
  if (!app) {
    return {
      status: 'Unknown',
      reason: ref ? `app ${ref.name} was not found in ${describePlace(ref.namespace, ref.cluster)}` : 'the app was not found',
    };
  }
  const label = `app ${app.metadata.name}`;
  const status = app.status ?? {};
  const op = status.operationState;
  if (op && UNFINISHED.includes(op.phase ?? '')) {
    return { status: 'Progressing', reason: `${label} is syncing (operation ${op.phase}${op.message ? `: ${op.message}` : ''})` };
  }
  if (app.operation) {
    const by = app.operation.initiatedBy?.username;
    return { status: 'Progressing', reason: `${label} is syncing: a sync${by ? ` by ${by}` : ''} was requested and Argo CD has not finished it` };
  }
  if (op && (op.phase === 'Failed' || op.phase === 'Error')) {
    return { status: 'Degraded', reason: `${label}: its last sync ${op.phase === 'Error' ? 'ended in an error' : 'failed'}: ${op.message || 'Argo CD gave no message'}` };
  }
  if (op?.finishedAt && (!status.reconciledAt || Date.parse(status.reconciledAt) < Date.parse(op.finishedAt))) {
    return {
      status: 'Unknown',
      reason: `${label}: Argo CD has not re-assessed its health since the sync that finished at ${op.finishedAt}${status.reconciledAt ? ` (last assessed ${status.reconciledAt})` : ''}`,
    };
  }
  const errors = (status.conditions ?? []).filter(c => ERROR_CONDITIONS.includes(c.type));
  if (errors.length) {
    return { status: 'Degraded', reason: `${label} has ${errors.map(c => `${c.type}: ${c.message ?? ''}`.trim()).join('; ')}` };
  }
  if (desiredRevisions.some(Boolean)) {
    const observed = syncedRevisions(app);
    const sources = appSources(app);
    const mismatches: string[] = [];
    desiredRevisions.forEach((desired, i) => {
      if (!desired) return;
      const at = observed[i];
      if (at !== undefined && sameRevision(at, desired)) return;
      const which = sources.length > 1 ? `source ${i} (${sources[i]?.repoURL ?? '?'})` : 'it';
      mismatches.push(`${which} is at ${at ? short(at) : 'no synced revision'}, the promotion asked for ${short(desired)}`);
    });
    if (mismatches.length) {
      return { status: 'Degraded', reason: `${label} is not synced to what the promotion asked for: ${mismatches.join('; ')}` };
    }
  }
  const health = status.health?.status ?? '';
  const message = status.health?.message ? `: ${status.health.message}` : '';
  switch (health) {
    case 'Healthy':
      return { status: 'Healthy', reason: `${label} is Healthy` };
    case 'Progressing':
    case 'Suspended':
      return { status: 'Progressing', reason: `${label} is ${health}${message}` };
    case '':
      return { status: 'Progressing', reason: `${label}: Argo CD has not reported its health yet` };
    default:
      return { status: 'Degraded', reason: `${label} is ${health}${message}` };
  }
}

/** An Application as the API shows it. */
export function toArgoCdApp(app: ArgoApplication, cluster: string | undefined, settings: ArgoCdSettings): ArgoCdApp {
  const namespace = app.metadata.namespace ?? settings.namespace;
  const op = app.status?.operationState;
  const revisions = syncedRevisions(app);
  const stages = authorizedStages(app);
  const out: ArgoCdApp = { name: app.metadata.name, namespace };
  if (cluster) out.cluster = cluster;
  if (app.status?.sync?.status) out.sync = app.status.sync.status;
  if (app.status?.health?.status) out.health = app.status.health.status;
  if (app.status?.health?.message) out.healthMessage = app.status.health.message;
  if (revisions.length) out.revisions = revisions;
  if (op?.phase) {
    out.operation = { phase: op.phase };
    if (op.message) out.operation.message = op.message;
    if (op.startedAt) out.operation.startedAt = op.startedAt;
    if (op.finishedAt) out.operation.finishedAt = op.finishedAt;
    const by = op.operation?.initiatedBy?.username;
    if (by) out.operation.initiatedBy = by;
  }
  if (stages.length) out.authorizedStages = stages;
  if (settings.url) out.url = `${settings.url.replace(/\/+$/, '')}/applications/${namespace}/${app.metadata.name}`;
  return out;
}

/**
 * Re-checks the apps a promotion's argocd-update drove, each on its own cluster. A cluster
 * that cannot be read makes its apps Unknown with the error's message; it never throws.
 */
export async function checkArgoCdHealth(
  kube: KubeClusters,
  settings: ArgoCdSettings,
  check: ArgoCdHealthCheck,
): Promise<ArgoCdAppHealth[]> {
  return Promise.all(
    check.apps.map(async ref => {
      const namespace = ref.namespace || settings.namespace;
      const base: ArgoCdApp = { name: ref.name, namespace };
      if (ref.cluster) base.cluster = ref.cluster;
      if (settings.url) base.url = `${settings.url.replace(/\/+$/, '')}/applications/${namespace}/${ref.name}`;
      try {
        const app = await kube.client(ref.cluster).get<ArgoApplication>(APPLICATIONS, namespace, ref.name);
        const verdict = appHealth(app, ref.desiredRevisions, { ...ref, namespace });
        const shown = app ? toArgoCdApp(app, ref.cluster, settings) : base;
        return { ...shown, ...verdict, desiredRevisions: ref.desiredRevisions };
      } catch (e) {
        return {
          ...base,
          status: 'Unknown' as const,
          reason: `app ${ref.name}: ${(e as Error).message}`,
          desiredRevisions: ref.desiredRevisions,
        };
      }
    }),
  );
}

const RANK: Record<StageHealthStatus, number> = { Healthy: 0, Progressing: 1, Unknown: 2, Degraded: 3 };

/**
 * One verdict for several apps: the worst of them (Healthy < Progressing < Unknown <
 * Degraded), with the reasons of the apps that are that bad. No apps: Healthy, since there
 * is nothing Argo CD could say against the stage.
 */
export function mergeHealth(verdicts: readonly HealthVerdict[]): HealthVerdict {
  if (!verdicts.length) return { status: 'Healthy', reason: 'no Argo CD Applications to check' };
  const worst = verdicts.reduce((w, v) => (RANK[v.status] > RANK[w] ? v.status : w), 'Healthy' as StageHealthStatus);
  if (worst === 'Healthy') {
    return verdicts.length === 1 ? verdicts[0] : { status: 'Healthy', reason: `all ${verdicts.length} apps are Healthy` };
  }
  const bad = verdicts.filter(v => v.status === worst);
  return { status: worst, reason: bad.map(v => v.reason).join('; ') };
}
