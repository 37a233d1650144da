import { z } from 'zod';
import {
  ANNOTATION_AUTHORIZED_STAGE,
  KARGO_ANNOTATION_AUTHORIZED_STAGE,
} from '@stagecoach/plugin-stagecoach-common';
import { APPLICATIONS, KubeClient, KubeClusters, KubeObject } from '../kubernetes/types';
import type { ArgoCdSettings } from './types';

/**
 * The part of Argo CD's Application resource (argoproj.io/v1alpha1) Stagecoach reads and
 * writes. Everything else in the object is kept as it is: the index signatures carry it
 * through a read-modify-replace untouched.
 */
export interface ArgoAppSource {
  repoURL: string;
  path?: string;
  chart?: string;
  targetRevision?: string;
  kustomize?: { images?: string[]; [key: string]: unknown };
  helm?: { parameters?: Array<{ name: string; value?: string; forceString?: boolean }>; [key: string]: unknown };
  [key: string]: unknown;
}

export interface ArgoOperation {
  initiatedBy?: { username?: string; automated?: boolean };
  info?: Array<{ name: string; value: string }>;
  sync?: { revision?: string; revisions?: string[]; syncOptions?: string[]; [key: string]: unknown };
  retry?: Record<string, unknown>;
  [key: string]: unknown;
}

/** Argo CD's operation phases; Running and Terminating are not finished. */
export type OperationPhase = 'Running' | 'Terminating' | 'Failed' | 'Error' | 'Succeeded';

export interface ArgoOperationState {
  operation?: ArgoOperation;
  phase?: OperationPhase | string;
  message?: string;
  startedAt?: string;
  finishedAt?: string;
  syncResult?: { revision?: string; revisions?: string[]; [key: string]: unknown };
  [key: string]: unknown;
}

export interface ArgoAppStatus {
  sync?: { status?: string; revision?: string; revisions?: string[]; [key: string]: unknown };
  health?: { status?: string; message?: string; [key: string]: unknown };
  operationState?: ArgoOperationState;
  /** When Argo CD last compared the app with its sources and assessed its health. */
  reconciledAt?: string;
  conditions?: Array<{ type: string; message?: string; lastTransitionTime?: string }>;
  [key: string]: unknown;
}

export interface ArgoApplication extends KubeObject {
  spec: {
    project?: string;
    source?: ArgoAppSource;
    sources?: ArgoAppSource[];
    syncPolicy?: { automated?: unknown; syncOptions?: string[]; retry?: Record<string, unknown>; [key: string]: unknown };
    [key: string]: unknown;
  };
  operation?: ArgoOperation;
  status?: ArgoAppStatus;
}

/** Argo CD's annotation that makes its controller re-read the app's sources (`hard`: bypassing its cache). */
export const ARGOCD_REFRESH_ANNOTATION = 'argocd.argoproj.io/refresh';

/** The sources of an app, one list for both spellings (`spec.source` or `spec.sources`). */
export function appSources(app: ArgoApplication): ArgoAppSource[] {
  if (app.spec?.sources?.length) return app.spec.sources;
  return app.spec?.source ? [app.spec.source] : [];
}

/** The revisions Argo CD last synced, one per source. */
export function syncedRevisions(app: ArgoApplication): string[] {
  const sync = app.status?.sync;
  if (sync?.revisions?.length) return sync.revisions;
  return sync?.revision ? [sync.revision] : [];
}

// ---------------------------------------------------------------------------------------
// Label selectors, as Kargo's steps spell them (Kubernetes' LabelSelector)

const LABEL_OPERATORS = ['In', 'NotIn', 'Exists', 'DoesNotExist'] as const;

export const appSelectorSchema = z
  .object({
    matchLabels: z.record(z.string()).optional(),
    matchExpressions: z
      .array(
        z
          .object({
            key: z.string().min(1),
            operator: z.enum(LABEL_OPERATORS, {
              errorMap: () => ({ message: `must be one of ${LABEL_OPERATORS.join(', ')}` }),
            }),
            values: z.array(z.string()).optional(),
          })
          .strict()
          .superRefine((e, ctx) => {
            const needsValues = e.operator === 'In' || e.operator === 'NotIn';
            if (needsValues && !e.values?.length) {
              ctx.addIssue({ code: 'custom', path: ['values'], message: `${e.operator} needs at least one value` });
            }
            if (!needsValues && e.values?.length) {
              ctx.addIssue({ code: 'custom', path: ['values'], message: `${e.operator} takes no values` });
            }
          }),
      )
      .optional(),
  })
  .strict()
  .refine(s => Object.keys(s.matchLabels ?? {}).length > 0 || (s.matchExpressions?.length ?? 0) > 0, {
    message: 'set matchLabels or matchExpressions (a selector needs at least one criterion)',
  });

export type AppSelector = z.infer<typeof appSelectorSchema>;

/** The selector in the API's `labelSelector` query syntax, so the server does the filtering. */
export function labelSelectorQuery(selector: AppSelector): string {
  const parts = Object.entries(selector.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`);
  for (const e of selector.matchExpressions ?? []) {
    if (e.operator === 'In') parts.push(`${e.key} in (${e.values!.join(',')})`);
    else if (e.operator === 'NotIn') parts.push(`${e.key} notin (${e.values!.join(',')})`);
    else if (e.operator === 'Exists') parts.push(e.key);
    else parts.push(`!${e.key}`);
  }
  return parts.join(',');
}

/** Whether labels match the selector (every criterion: they are ANDed). */
export function matchesSelector(labels: Record<string, string> | undefined, selector: AppSelector): boolean {
  const l = labels ?? {};
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (l[k] !== v) return false;
  for (const e of selector.matchExpressions ?? []) {
    const has = Object.prototype.hasOwnProperty.call(l, e.key);
    if (e.operator === 'In' && !(has && e.values!.includes(l[e.key]))) return false;
    if (e.operator === 'NotIn' && has && e.values!.includes(l[e.key])) return false;
    if (e.operator === 'Exists' && !has) return false;
    if (e.operator === 'DoesNotExist' && has) return false;
  }
  return true;
}

function describeSelector(selector: AppSelector): string {
  return `selector "${labelSelectorQuery(selector)}"`;
}

// ---------------------------------------------------------------------------------------
// Finding apps

/** Which apps a step means: by name or by selector, in a namespace, on a cluster. */
export interface AppTarget {
  name?: string;
  selector?: AppSelector;
  namespace?: string;
  /** Stagecoach's extension: app-config `stagecoach.kubernetes.clusters[].name`; the default cluster when absent. */
  cluster?: string;
}

/** `namespace "argocd"` or `namespace "argocd" on cluster "prod"`, for messages. */
export function describePlace(namespace: string, cluster?: string): string {
  return `namespace "${namespace}"${cluster ? ` on cluster "${cluster}"` : ''}`;
}

/** `Argo CD Application "guestbook" in namespace "argocd" on cluster "prod"`. */
export function describeApp(name: string, namespace: string, cluster?: string): string {
  return `Argo CD Application "${name}" in ${describePlace(namespace, cluster)}`;
}

export interface FoundApps {
  client: KubeClient;
  namespace: string;
  /** The cluster's name as the client reports it. */
  cluster: string;
  /** By name: the app, or nothing when it does not exist. By selector: every match, by name. */
  apps: ArgoApplication[];
  /** Where they were looked for, in words (`Argo CD Application "x" in namespace "argocd"`, or a selector). */
  what: string;
}

/** Thrown when a step names a cluster that is not configured; retrying cannot help. */
export class UnknownClusterError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnknownClusterError';
  }
}

/**
 * Reads the apps a target means. A KubeApiError from the API (unreachable, forbidden)
 * propagates; a cluster that is not configured is an UnknownClusterError.
 */
export async function findApps(kube: KubeClusters, settings: ArgoCdSettings, target: AppTarget): Promise<FoundApps> {
  const namespace = target.namespace || settings.namespace;
  let client: KubeClient;
  try {
    client = kube.client(target.cluster);
  } catch (e) {
    throw new UnknownClusterError((e as Error).message);
  }
  const cluster = target.cluster ?? client.cluster;
  if (target.selector) {
    const list = await client.list<ArgoApplication>(APPLICATIONS, namespace, {
      labelSelector: labelSelectorQuery(target.selector),
    });
    // filtered here too, so a server that ignores part of the query cannot widen the match
    const apps = list.items
      .filter(a => matchesSelector(a.metadata.labels, target.selector!))
      .sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
    return { client, namespace, cluster, apps, what: `Argo CD Applications matching ${describeSelector(target.selector)} in ${describePlace(namespace, target.cluster)}` };
  }
  const app = await client.get<ArgoApplication>(APPLICATIONS, namespace, target.name!);
  return { client, namespace, cluster, apps: app ? [app] : [], what: describeApp(target.name!, namespace, target.cluster) };
}

// ---------------------------------------------------------------------------------------
// Authorization

/** The `<project>:<stage>` entries of both authorized-stage annotations, in order, without duplicates. */
export function authorizedStages(app: Pick<KubeObject, 'metadata'>): string[] {
  const annotations = app.metadata.annotations ?? {};
  const entries = [annotations[ANNOTATION_AUTHORIZED_STAGE], annotations[KARGO_ANNOTATION_AUTHORIZED_STAGE]]
    .filter((v): v is string => typeof v === 'string')
    .flatMap(v => v.split(','))
    .map(s => s.trim())
    .filter(Boolean);
  return [...new Set(entries)];
}

export type Authorization = { authorized: true } | { authorized: false; reason: string };

/**
 * Whether the app lets `<project>:<stage>` drive it: one of its authorized-stage entries
 * must name exactly that stage. Globs are refused (Kargo dropped them: an app owner must
 * name each stage it trusts).
 */
export function authorizeApp(
  app: Pick<KubeObject, 'metadata'>,
  project: string,
  stage: string,
  cluster?: string,
): Authorization {
  const wanted = `${project}:${stage}`;
  const entries = authorizedStages(app);
  const namespace = app.metadata.namespace ?? '';
  const what = describeApp(app.metadata.name, namespace, cluster);
  const kubectl = (value: string) =>
    `kubectl annotate application --overwrite -n ${namespace} ${app.metadata.name} ${ANNOTATION_AUTHORIZED_STAGE}=${value}`;
  const valid = entries.filter(e => /^[^:*\s]+:[^:*\s]+$/.test(e));
  if (valid.includes(wanted)) return { authorized: true };
  const bad = entries.filter(e => !valid.includes(e));
  const badNote = bad.length
    ? ` Its entr${bad.length > 1 ? 'ies' : 'y'} ${bad.map(b => `"${b}"`).join(', ')} ${bad.length > 1 ? 'are' : 'is'} not accepted: ` +
      'each must be <project>:<stage>, with no globs (*).'
    : '';
  const value = [...valid, wanted].join(',');
  return {
    authorized: false,
    reason: [
      `${what} does not authorize stage ${wanted}`,
      valid.length ? ` (it authorizes ${valid.join(', ')})` : '',
      `.${badNote} To let this stage drive it, add the annotation ${ANNOTATION_AUTHORIZED_STAGE}: "${value}" `,
      `to the Application (in Git, where it is defined, or: ${kubectl(value)}).`,
    ].join(''),
  };
}

export type AuthorizedApps =
  | { ok: true; found: FoundApps; skipped: Array<{ name: string; reason: string }> }
  | { ok: false; message: string };

/**
 * The apps a target means that let this stage drive them. By name, a missing or
 * unauthorized app is a failure that says how to fix it; by selector, unauthorized matches
 * are skipped (an app owner opts in app by app), and a failure only when none is left.
 */
export async function findAuthorizedApps(
  kube: KubeClusters,
  settings: ArgoCdSettings,
  target: AppTarget,
  project: string,
  stage: string,
): Promise<AuthorizedApps> {
  const found = await findApps(kube, settings, target);
  const verdicts = found.apps.map(app => ({ app, auth: authorizeApp(app, project, stage, target.cluster) }));
  const skipped = verdicts.flatMap(v => (v.auth.authorized ? [] : [{ name: v.app.metadata.name, reason: v.auth.reason }]));
  const apps = verdicts.filter(v => v.auth.authorized).map(v => v.app);
  if (!target.selector) {
    if (!found.apps.length) {
      return { ok: false, message: `${found.what} was not found; check the name, the namespace${target.cluster ? ' and the cluster' : ''}` };
    }
    if (skipped.length) return { ok: false, message: skipped[0].reason };
    return { ok: true, found, skipped };
  }
  if (!found.apps.length) return { ok: false, message: `no ${found.what}` };
  if (!apps.length) {
    return {
      ok: false,
      message:
        `${found.apps.length} ${found.what.replace(/^Argo CD Applications/, 'Argo CD Application(s)')}, but none authorizes stage ${project}:${stage}: ` +
        `${skipped.map(s => s.name).join(', ')}. Add the annotation ${ANNOTATION_AUTHORIZED_STAGE}: "${project}:${stage}" to each app this stage may drive.`,
    };
  }
  return { ok: true, found: { ...found, apps }, skipped };
}
