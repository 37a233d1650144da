import { z } from 'zod';
import {
  ARGOCD_REFRESH_ANNOTATION,
  ArgoApplication,
  findApps,
} from '../../integrations/argocd/applications';
import { APPLICATIONS } from '../../integrations/kubernetes/types';
import { appTargetFields, nameOrSelector, reportingKubeErrors } from './argocdSupport';
import type { StepContext, StepDefinition, StepResult } from './types';

const CONDITIONS = ['health', 'sync', 'operation', 'suspended', 'degraded'] as const;
type Condition = (typeof CONDITIONS)[number];

/** What `argocd app wait` waits for without flags, as Kargo does. */
const DEFAULT_WAIT_FOR: Condition[] = ['health', 'sync', 'operation'];
const RETRY_AFTER_MS = 5_000;
const ERROR_CONDITIONS = ['ComparisonError', 'InvalidSpecError'];
const HEALTH_OF: Record<string, string> = { health: 'Healthy', suspended: 'Suspended', degraded: 'Degraded' };

const schema = z
  .object({
    apps: z
      .array(
        nameOrSelector(
          z
            .object({
              ...appTargetFields,
              waitFor: z
                .array(z.enum(CONDITIONS, { errorMap: () => ({ message: `must be one of ${CONDITIONS.join(', ')}` }) }))
                .min(1, 'needs at least one condition (or leave waitFor out for health, sync and operation)')
                .refine(l => new Set(l).size === l.length, 'names a condition twice')
                .optional(),
            })
            .strict(),
        ),
      )
      .min(1, 'needs at least one app'),
  })
  .strict();

type Config = z.infer<typeof schema>;

type Verdict = { ready: true } | { ready: false; awaiting: string[] } | { failed: string };

function isFailed(v: Verdict): v is { failed: string } {
  return 'failed' in v;
}

/**
 * Kargo's readiness rules: a ComparisonError or InvalidSpecError fails at once; `operation`
 * waits for any sync to finish; the health conditions (health, suspended, degraded) are
 * ORed and not trusted until Argo CD re-assessed health after the last sync; `sync` wants
 * Synced; the groups are ANDed. Waiting for `health`, an app that falls to Degraded from a
 * better state fails the step rather than waiting out the timeout.
 */
function readiness(app: ArgoApplication, waitFor: Condition[], previous: string | undefined): Verdict {
  const status = app.status ?? {};
  const label = `app ${app.metadata.name}`;
  const errors = (status.conditions ?? []).filter(c => ERROR_CONDITIONS.includes(c.type));
  if (errors.length) {
    return { failed: `${label} has ${errors.map(c => `${c.type}: ${c.message ?? ''}`.trim()).join('; ')}; fix its source or spec in Argo CD` };
  }
  const awaiting: string[] = [];
  const op = status.operationState;
  if (waitFor.includes('operation') && (app.operation || (op && !op.finishedAt))) {
    awaiting.push(`its sync to finish (${op && !op.finishedAt ? `operation ${op.phase}` : 'requested'})`);
  }
  const healthWanted = waitFor.filter(c => c === 'health' || c === 'suspended' || c === 'degraded');
  const health = status.health?.status ?? 'Unknown';
  if (healthWanted.length) {
    if (op?.finishedAt && (!status.reconciledAt || Date.parse(status.reconciledAt) < Date.parse(op.finishedAt))) {
      awaiting.push('Argo CD to re-assess its health after the last sync');
    } else {
      if (waitFor.includes('health') && health === 'Degraded' && previous && previous !== 'Degraded' && previous !== 'Unknown') {
        return { failed: `${label}'s health fell from ${previous} to Degraded${status.health?.message ? `: ${status.health.message}` : ''}` };
      }
      const wanted: string[] = healthWanted.map(c => HEALTH_OF[c]);
      if (!wanted.includes(health)) {
        awaiting.push(`health ${wanted.join(' or ')} (it is ${health}${status.health?.message ? `: ${status.health.message}` : ''})`);
      }
    }
  }
  if (waitFor.includes('sync') && status.sync?.status !== 'Synced') {
    awaiting.push(`sync status Synced (it is ${status.sync?.status ?? 'Unknown'})`);
  }
  return awaiting.length ? { ready: false, awaiting } : { ready: true };
}

/** Waits until Argo CD Applications reach the states asked for (Kargo's argocd-wait). */
export const argocdWait: StepDefinition<Config> = {
  name: 'argocd-wait',
  description: 'Wait until Argo CD Applications are healthy, synced and idle (or the states asked for).',
  schema,
  defaultTimeoutMs: 5 * 60_000,
  run: (ctx, config) => reportingKubeErrors(() => run(ctx, config)),
};

async function run(ctx: StepContext, config: Config): Promise<StepResult> {
  const previous = (ctx.state?.healthStatus as Record<string, string> | undefined) ?? {};
  const healthStatus: Record<string, string> = { ...previous };
  const apps: Array<Record<string, unknown>> = [];
  const waiting: string[] = [];
  for (const [i, spec] of config.apps.entries()) {
    const found = await findApps(ctx.kube, ctx.argocd, spec);
    if (!found.apps.length) {
      return { status: 'Failed', message: `apps[${i}]: ${spec.selector ? `no ${found.what}` : `${found.what} was not found`}`, outputs: { healthStatus } };
    }
    const waitFor = spec.waitFor ?? DEFAULT_WAIT_FOR;
    for (const app of found.apps) {
      const key = `${found.namespace}/${app.metadata.name}`;
      const verdict = readiness(app, waitFor, previous[key]);
      if (app.status?.health?.status) healthStatus[key] = app.status.health.status;
      apps.push({
        name: app.metadata.name,
        namespace: found.namespace,
        ...(spec.cluster ? { cluster: spec.cluster } : {}),
        health: app.status?.health?.status ?? 'Unknown',
        sync: app.status?.sync?.status ?? 'Unknown',
      });
      if (isFailed(verdict)) return { status: 'Failed', message: `apps[${i}]: ${verdict.failed}`, outputs: { healthStatus, apps } };
      if (!verdict.ready) {
        waiting.push(`app ${app.metadata.name}: ${verdict.awaiting.join(', ')}`);
        if (verdict.awaiting.some(a => a.startsWith('Argo CD to re-assess'))) await requestRefresh(ctx, found.client, found.namespace, app);
      }
    }
  }
  if (waiting.length) {
    return { status: 'Running', message: `waiting for ${waiting.join('; ')}`, retryAfterMs: RETRY_AFTER_MS, state: { healthStatus }, outputs: { healthStatus, apps } };
  }
  return { status: 'Succeeded', message: `${apps.map(a => a.name).join(', ')} ${apps.length > 1 ? 'are' : 'is'} ready`, outputs: { healthStatus, apps } };
}

/** Nudges Argo CD to reconcile now rather than at its next poll. Best effort. */
async function requestRefresh(
  ctx: StepContext,
  client: { mergePatch(t: typeof APPLICATIONS, ns: string, name: string, patch: object): Promise<unknown> },
  namespace: string,
  app: ArgoApplication,
): Promise<void> {
  if (app.metadata.annotations?.[ARGOCD_REFRESH_ANNOTATION]) return;
  try {
    await client.mergePatch(APPLICATIONS, namespace, app.metadata.name, { metadata: { annotations: { [ARGOCD_REFRESH_ANNOTATION]: 'normal' } } });
  } catch (e) {
    ctx.logger.warn(`could not ask Argo CD to refresh ${app.metadata.name}: ${(e as Error).message}`);
  }
}
