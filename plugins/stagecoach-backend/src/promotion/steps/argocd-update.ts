import { z } from 'zod';
import { normalizeGitURL } from '../../util/gitUrl';
import {
  appSources,
  ARGOCD_REFRESH_ANNOTATION,
  ArgoAppSource,
  ArgoApplication,
  ArgoOperation,
  describeApp,
  findAuthorizedApps,
  FoundApps,
} from '../../integrations/argocd/applications';
import type { ArgoCdAppRef } from '../../integrations/argocd/types';
import { APPLICATIONS, EVENTS, KubeApiError, KubeClient } from '../../integrations/kubernetes/types';
import { appTargetFields, linkedTimeout, nameOrSelector, reportingKubeErrors } from './argocdSupport';
import { checkOrigin, freightImage, fromOriginSchema } from './freightArtifacts';
import { outputOfStep } from './pullRequestSupport';
import type { StepContext, StepDefinition, StepResult } from './types';

/** The operation's info entries that say which promotion (and which of its steps) asked for the sync. */
export const PROMOTION_INFO = 'stagecoach.io/promotion';
export const STEP_INFO = 'stagecoach.io/promotion-step';
/** Who the operation is by when no person started the promotion. */
export const DEFAULT_INITIATOR = 'stagecoach';

const HELM_VALUE_KINDS = ['Tag', 'Digest', 'ImageAndTag', 'ImageAndDigest'] as const;
const MAX_CONFLICTS = 5;
const RETRY_AFTER_MS = 5_000;

/** `''` from an expression means "not set", as in Kargo's schema. */
const optionalText = z.preprocess(v => (v === '' ? undefined : v), z.string().min(1).optional());

const kustomizeImageSchema = z
  .object({
    repoURL: z.string().min(1),
    tag: optionalText,
    digest: optionalText,
    newName: z.string().min(1).optional(),
    /** Older manifests: take the freight's digest rather than its tag. */
    useDigest: z.boolean().optional(),
    fromOrigin: fromOriginSchema.optional(),
  })
  .strict()
  .superRefine((i, ctx) => {
    if (i.tag && i.digest) ctx.addIssue({ code: 'custom', path: ['digest'], message: 'set tag or digest, not both' });
    if (i.useDigest && (i.tag || i.digest)) {
      ctx.addIssue({ code: 'custom', path: ['useDigest'], message: 'useDigest takes the digest from the freight; leave tag and digest unset with it' });
    }
  });

const helmImageSchema = z
  .object({
    key: z.string().min(1),
    value: z.string(),
    /** Older manifests: the freight image whose tag or digest `value` (Tag, Digest, ImageAndTag, ImageAndDigest) names. */
    repoURL: z.string().min(1).optional(),
    fromOrigin: fromOriginSchema.optional(),
  })
  .strict()
  .superRefine((i, ctx) => {
    if (i.repoURL && !(HELM_VALUE_KINDS as readonly string[]).includes(i.value)) {
      ctx.addIssue({
        code: 'custom',
        path: ['value'],
        message: `with repoURL (older manifests), value must be one of ${HELM_VALUE_KINDS.join(', ')}; without it, the value itself`,
      });
    }
  });

const sourceSchema = z
  .object({
    repoURL: z.string().min(1),
    chart: z.string().min(1).optional(),
    desiredRevision: optionalText,
    /** Older manifests: the alias of an earlier step whose `commit` output is the desired revision. */
    desiredCommitFromStep: z.string().min(1).optional(),
    updateTargetRevision: z.boolean().optional(),
    kustomize: z
      .object({ images: z.array(kustomizeImageSchema).min(1, 'needs at least one image').optional(), fromOrigin: fromOriginSchema.optional() })
      .strict()
      .optional(),
    helm: z
      .object({ images: z.array(helmImageSchema).min(1, 'needs at least one image'), fromOrigin: fromOriginSchema.optional() })
      .strict()
      .optional(),
    fromOrigin: fromOriginSchema.optional(),
  })
  .strict()
  .superRefine((s, ctx) => {
    if (s.desiredRevision && s.desiredCommitFromStep) {
      ctx.addIssue({ code: 'custom', path: ['desiredCommitFromStep'], message: 'set desiredRevision or desiredCommitFromStep, not both' });
    }
    if (s.updateTargetRevision && !s.desiredRevision && !s.desiredCommitFromStep) {
      ctx.addIssue({
        code: 'custom',
        path: ['updateTargetRevision'],
        message: 'updateTargetRevision: true needs desiredRevision, the revision to point targetRevision at',
      });
    }
  });

const appSchema = nameOrSelector(
  z
    .object({
      ...appTargetFields,
      sources: z.array(sourceSchema).min(1, 'needs at least one source (or leave sources out to only sync)').optional(),
      fromOrigin: fromOriginSchema.optional(),
    })
    .strict(),
);

const schema = z
  .object({
    apps: z.array(appSchema).min(1, 'needs at least one app'),
    fromOrigin: fromOriginSchema.optional(),
  })
  .strict();

type Config = z.infer<typeof schema>;
type AppConfig = Config['apps'][number];
type SourceUpdate = NonNullable<AppConfig['sources']>[number];

// ---------------------------------------------------------------------------------------
// Sources

const trimSlashes = (url: string) => url.trim().replace(/\/+$/, '');

/** Kargo's matching: a Helm chart source by exact repository and chart, a Git source by normalised URL. */
function sourceMatches(update: SourceUpdate, source: ArgoAppSource): boolean {
  if (update.chart || source.chart) {
    return trimSlashes(update.repoURL) === trimSlashes(source.repoURL ?? '') && update.chart === source.chart;
  }
  return normalizeGitURL(update.repoURL) === normalizeGitURL(source.repoURL ?? '');
}

function describeUpdate(update: SourceUpdate): string {
  return `repoURL ${update.repoURL}${update.chart ? ` and chart "${update.chart}"` : ''}`;
}

function desiredRevisionOf(ctx: StepContext, update: SourceUpdate, field: string): string {
  if (update.desiredRevision) return update.desiredRevision;
  if (update.desiredCommitFromStep) {
    return String(outputOfStep(ctx, `${field}.desiredCommitFromStep`, update.desiredCommitFromStep, [['commit']]));
  }
  return '';
}

/** One entry per source of the app: the revision the promotion asks for there, '' where none. */
function desiredRevisions(ctx: StepContext, app: ArgoApplication, spec: AppConfig, field: string): string[] {
  return appSources(app).map(src => {
    const i = (spec.sources ?? []).findIndex(u => sourceMatches(u, src));
    return i < 0 ? '' : desiredRevisionOf(ctx, spec.sources![i], `${field}.sources[${i}]`);
  });
}

/** Why an update fits none of the app's sources, or undefined when each fits one. */
function unmatchedSources(app: ArgoApplication, spec: AppConfig, cluster?: string): string | undefined {
  const sources = appSources(app);
  const missing = (spec.sources ?? []).filter(u => !sources.some(s => sourceMatches(u, s)));
  if (!missing.length) return undefined;
  const has = sources.length
    ? `its sources: ${sources.map(s => `${s.repoURL}${s.chart ? ` (chart "${s.chart}")` : ''}`).join(', ')}`
    : 'it has no sources';
  return `no source of ${describeApp(app.metadata.name, app.metadata.namespace ?? '', cluster)} has ${missing.map(describeUpdate).join(', nor ')} (${has}); repoURL and chart must be those of the Application's source`;
}

/** `name=new:tag` entries are keyed by the image before `=`, others by the name without tag or digest. */
function kustomizeImageName(entry: string): string {
  const eq = entry.indexOf('=');
  if (eq >= 0) return entry.slice(0, eq);
  const noDigest = entry.split('@')[0];
  const colon = noDigest.lastIndexOf(':');
  return colon > noDigest.lastIndexOf('/') ? noDigest.slice(0, colon) : noDigest;
}

function kustomizeImageEntry(ctx: StepContext, image: z.infer<typeof kustomizeImageSchema>, field: string): string {
  let { tag, digest } = image;
  if (!tag && !digest) {
    checkOrigin(ctx.freight, image.fromOrigin, field);
    const fromFreight = freightImage(ctx.freight, image.repoURL, `${field}.repoURL`);
    if (image.useDigest) digest = fromFreight.digest;
    else tag = fromFreight.tag;
  }
  const name = image.newName ? `${image.repoURL}=${image.newName}` : image.repoURL;
  return digest ? `${name}@${digest}` : `${name}:${tag}`;
}

function helmValue(ctx: StepContext, image: z.infer<typeof helmImageSchema>, field: string): string {
  if (!image.repoURL) return image.value;
  checkOrigin(ctx.freight, image.fromOrigin, field);
  const found = freightImage(ctx.freight, image.repoURL, `${field}.repoURL`);
  switch (image.value) {
    case 'Tag':
      return found.tag;
    case 'Digest':
      return found.digest;
    case 'ImageAndTag':
      return `${found.repoURL}:${found.tag}`;
    default:
      return `${found.repoURL}@${found.digest}`;
  }
}

/**
 * Applies the updates to a copy of the app's sources. Each update reaches every source it
 * matches (a multi-source app may use one repository twice): targetRevision when
 * updateTargetRevision is set; Kustomize images and Helm parameters upserted by name, so
 * entries the promotion does not mention stay (Kargo replaces the Kustomize list whole).
 * A `ref`-only source (a values file holder) gets no images or parameters.
 */
function updatedSources(ctx: StepContext, app: ArgoApplication, spec: AppConfig, desired: string[], field: string): ArgoAppSource[] {
  return appSources(app).map((original, si) => {
    const src: ArgoAppSource = structuredClone(original);
    (spec.sources ?? []).forEach((u, ui) => {
      if (!sourceMatches(u, src)) return;
      const f = `${field}.sources[${ui}]`;
      checkOrigin(ctx.freight, u.fromOrigin ?? spec.fromOrigin, f);
      if (u.updateTargetRevision && desired[si]) src.targetRevision = desired[si];
      const refOnly = typeof src.ref === 'string' && !src.path && !src.chart;
      if (refOnly) return;
      if (u.kustomize?.images?.length) {
        const images = [...(src.kustomize?.images ?? [])];
        u.kustomize.images.forEach((img, ii) => {
          const entry = kustomizeImageEntry(ctx, { ...img, fromOrigin: img.fromOrigin ?? u.kustomize!.fromOrigin }, `${f}.kustomize.images[${ii}]`);
          const at = images.findIndex(e => kustomizeImageName(e) === img.repoURL);
          if (at >= 0) images[at] = entry;
          else images.push(entry);
        });
        src.kustomize = { ...(src.kustomize ?? {}), images };
      }
      if (u.helm?.images.length) {
        const parameters = [...(src.helm?.parameters ?? [])];
        u.helm.images.forEach((img, ii) => {
          const value = helmValue(ctx, { ...img, fromOrigin: img.fromOrigin ?? u.helm!.fromOrigin }, `${f}.helm.images[${ii}]`);
          const at = parameters.findIndex(p => p.name === img.key);
          if (at >= 0) parameters[at] = { ...parameters[at], value };
          else parameters.push({ name: img.key, value });
        });
        src.helm = { ...(src.helm ?? {}), parameters };
      }
    });
    return src;
  });
}

// ---------------------------------------------------------------------------------------
// Operations

function infoValue(op: ArgoOperation | undefined, name: string): string | undefined {
  return op?.info?.find(i => i?.name === name)?.value;
}

/** Whether this step of this promotion asked for the operation. */
function isOurs(ctx: StepContext, op: ArgoOperation | undefined): boolean {
  return infoValue(op, PROMOTION_INFO) === ctx.promotionId && (infoValue(op, STEP_INFO) ?? ctx.alias) === ctx.alias;
}

function initiator(op: ArgoOperation | undefined): string {
  const by = op?.initiatedBy?.username;
  const promotion = infoValue(op, PROMOTION_INFO);
  if (promotion) return `promotion ${promotion}${by ? ` (${by})` : ''}`;
  if (by) return by;
  return op?.initiatedBy?.automated ? 'automated sync' : 'someone else';
}

type Progress =
  | { kind: 'start' }
  | { kind: 'syncing'; message: string }
  | { kind: 'waiting'; message: string }
  | { kind: 'done'; revisions: string[] }
  | { kind: 'failed'; message: string };

const UNFINISHED = ['Running', 'Terminating'];

function appUrl(ctx: StepContext, app: ArgoApplication): string {
  return ctx.argocd.url ? ` (${ctx.argocd.url.replace(/\/+$/, '')}/applications/${app.metadata.namespace}/${app.metadata.name})` : '';
}

const short = (r: string) => (/^[0-9a-f]{40,64}$/i.test(r) ? r.slice(0, 7) : r);

/** Where the app is with respect to this step's sync, from what Argo CD wrote on it. */
function progressOf(ctx: StepContext, app: ArgoApplication, desired: string[], what: string): Progress {
  const requested = app.operation;
  const state = app.status?.operationState;
  // a running operation first: Argo CD keeps `operation` on the app until it finishes
  if (state && UNFINISHED.includes(state.phase ?? '')) {
    if (isOurs(ctx, state.operation)) {
      return { kind: 'syncing', message: `${what}: sync ${state.phase === 'Terminating' ? 'being terminated' : 'running'}${state.message ? ` (${state.message})` : ''}` };
    }
    return { kind: 'waiting', message: `${what}: waiting for the sync started by ${initiator(state.operation)} to finish before starting this promotion's` };
  }
  if (requested) {
    if (isOurs(ctx, requested)) return { kind: 'syncing', message: `${what}: sync requested, waiting for Argo CD to start it` };
    return { kind: 'waiting', message: `${what}: waiting for the sync requested by ${initiator(requested)} to finish before starting this promotion's` };
  }
  if (!state || !isOurs(ctx, state.operation)) return { kind: 'start' };
  if (state.phase === 'Failed' || state.phase === 'Error') {
    return {
      kind: 'failed',
      message:
        `Argo CD could not sync ${what}: ${state.message || `the sync ended with phase ${state.phase}`}. ` +
        `Look at the app in Argo CD${appUrl(ctx, app)} for the resource that failed, fix its manifests or the cluster, then promote again.`,
    };
  }
  const result = state.syncResult;
  let synced: string[] = result?.revision ? [result.revision] : [];
  if (result?.revisions?.length) synced = result.revisions;
  // A sync that reports no result cannot be checked: ask for it again (as Kargo does).
  if (!synced.length) return { kind: 'start' };
  const wrong = desired.flatMap((d, i) => {
    const at = synced[i] ?? '';
    if (!d || at === d || (/^[0-9a-f]{7,39}$/i.test(d) && at.toLowerCase().startsWith(d.toLowerCase()))) return [];
    const which = desired.length > 1 ? `source ${i} (${appSources(app)[i]?.repoURL})` : 'it';
    return [`${which} synced to ${at ? short(at) : 'nothing'}, but the promotion asked for ${short(d)}`];
  });
  if (wrong.length) {
    return {
      kind: 'failed',
      message:
        `${what} is not at the desired revision: ${wrong.join('; ')}. Check that the source's targetRevision leads to it ` +
        '(a branch that has moved on, or a commit that was never pushed), or set updateTargetRevision: true.',
    };
  }
  return { kind: 'done', revisions: synced };
}

function syncOperation(ctx: StepContext, app: ArgoApplication): ArgoOperation {
  const policy = app.spec.syncPolicy;
  const op: ArgoOperation = {
    // a person's name makes Argo CD apply their sync windows, as for a sync from its UI
    initiatedBy: ctx.actor ? { username: ctx.actor } : { username: DEFAULT_INITIATOR, automated: true },
    info: [
      { name: 'Reason', value: `Stagecoach promotion ${ctx.promotionId} to stage ${ctx.project}:${ctx.stage} asked for this sync.` },
      { name: PROMOTION_INFO, value: ctx.promotionId },
      { name: STEP_INFO, value: ctx.alias },
    ],
    sync: policy?.syncOptions ? { syncOptions: [...policy.syncOptions] } : {},
  };
  if (policy?.retry) op.retry = structuredClone(policy.retry);
  return op;
}

/** Argo CD's own audit event for a sync, so `kubectl describe application` shows who asked. Best effort. */
async function recordEvent(ctx: StepContext, client: KubeClient, app: ArgoApplication): Promise<void> {
  const user = ctx.actor ?? DEFAULT_INITIATOR;
  const sources = appSources(app);
  const to = sources.length === 1 ? ` to ${sources[0].targetRevision ?? 'HEAD'}` : ` to ${sources.length} sources`;
  const now = new Date().toISOString();
  try {
    await client.create(EVENTS, app.metadata.namespace!, {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: `${app.metadata.name}.${Date.now().toString(16)}`, namespace: app.metadata.namespace, annotations: { user } },
      involvedObject: {
        apiVersion: 'argoproj.io/v1alpha1',
        kind: 'Application',
        name: app.metadata.name,
        namespace: app.metadata.namespace,
        uid: app.metadata.uid,
        resourceVersion: app.metadata.resourceVersion,
      },
      reason: 'OperationStarted',
      message: `${user} initiated sync${to} (promotion ${ctx.promotionId})`,
      type: 'Normal',
      source: { component: user },
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
    });
  } catch (e) {
    ctx.logger.warn(`could not record an event on ${app.metadata.name}: ${(e as Error).message}`);
  }
}

/** The app with its sources updated, the refresh annotation and the sync operation. */
function withSync(ctx: StepContext, app: ArgoApplication, sources: ArgoAppSource[]): ArgoApplication {
  const body: ArgoApplication = structuredClone(app);
  body.metadata.annotations = { ...(body.metadata.annotations ?? {}), [ARGOCD_REFRESH_ANNOTATION]: 'hard' };
  if (body.spec.sources?.length) body.spec.sources = sources;
  else if (body.spec.source) body.spec.source = sources[0];
  body.operation = syncOperation(ctx, app);
  // The controller keeps a finished operation's state until it starts the next; without this a
  // reader (this step on its next run) could take the old result for the new sync's.
  if (body.status?.operationState) delete body.status.operationState;
  return body;
}

// ---------------------------------------------------------------------------------------
// The step

interface Tracked {
  spec: AppConfig;
  field: string;
  found: FoundApps;
  app: ArgoApplication;
  what: string;
  desired: string[];
  progress: Progress;
}

/**
 * Advances one app: reads where it is and, when this step's sync is due, writes it. The
 * write replaces the object at the version read, so an edit in between (Argo CD's
 * controller writes status all the time) makes it 409 and the app is read and judged again.
 */
async function advance(ctx: StepContext, t: Tracked, started: Array<Record<string, unknown>>): Promise<void> {
  for (let conflicts = 0; ; conflicts++) {
    t.progress = progressOf(ctx, t.app, t.desired, t.what);
    if (t.progress.kind !== 'start') return;
    const body = withSync(ctx, t.app, updatedSources(ctx, t.app, t.spec, t.desired, t.field));
    try {
      t.app = await t.found.client.replace<ArgoApplication>(APPLICATIONS, t.found.namespace, t.app.metadata.name, body);
    } catch (e) {
      if (e instanceof KubeApiError && e.status === 409 && conflicts < MAX_CONFLICTS) {
        const fresh = await t.found.client.get<ArgoApplication>(APPLICATIONS, t.found.namespace, t.app.metadata.name);
        if (!fresh) {
          t.progress = { kind: 'failed', message: `${t.what} was deleted while this step was updating it` };
          return;
        }
        t.app = fresh;
        continue;
      }
      if (e instanceof KubeApiError && e.status === 409) {
        throw new Error(`${t.what} kept changing while this step tried to update it (${conflicts} conflicts in a row); the step will try again`);
      }
      if (e instanceof KubeApiError && e.status === 404) {
        t.progress = { kind: 'failed', message: `${t.what} was deleted while this step was updating it` };
        return;
      }
      throw e;
    }
    started.push({ name: t.app.metadata.name, namespace: t.found.namespace, cluster: t.found.cluster, at: new Date().toISOString() });
    await recordEvent(ctx, t.found.client, t.app);
    ctx.logger.info(`${t.what}: requested a sync for promotion ${ctx.promotionId}`);
    t.progress = { kind: 'syncing', message: `${t.what}: sync requested, waiting for Argo CD to start it` };
    return;
  }
}

/** Until any event on the app after the version we hold, or the signal aborts. */
async function nextChange(t: Tracked, signal: AbortSignal): Promise<void> {
  try {
    await t.found.client.watch<ArgoApplication>(
      APPLICATIONS,
      t.found.namespace,
      { fieldSelector: `metadata.name=${t.app.metadata.name}`, resourceVersion: t.app.metadata.resourceVersion },
      () => true,
      signal,
    );
  } catch {
    // a watch that fails only ends the quick wait; the step's next run reads the app again
  }
}

export interface ArgoCdUpdateOptions {
  /**
   * How long one run watches its apps before answering Running, so a quick sync completes in
   * one run (default 5 s; 0: answer at once).
   */
  settleMs?: number;
}

export function createArgoCdUpdate(options: ArgoCdUpdateOptions = {}): StepDefinition<Config> {
  const settleMs = options.settleMs ?? 5_000;
  return {
    name: 'argocd-update',
    description: "Update Argo CD Applications' sources and sync them; wait for the sync; leave a health check on the stage.",
    schema,
    defaultTimeoutMs: 5 * 60_000,
    run: (ctx, config) => reportingKubeErrors(() => run(ctx, config, settleMs)),
  };
}

async function run(ctx: StepContext, config: Config, settleMs: number): Promise<StepResult> {
  checkOrigin(ctx.freight, config.fromOrigin, 'fromOrigin');
  const tracked: Tracked[] = [];
  for (const [i, spec] of config.apps.entries()) {
    const field = `apps[${i}]`;
    const resolved = await findAuthorizedApps(ctx.kube, ctx.argocd, spec, ctx.project, ctx.stage);
    if (!resolved.ok) return { status: 'Failed', message: `${field}: ${resolved.message}` };
    for (const s of resolved.skipped) ctx.logger.info(`${field}: skipped ${s.name}: ${s.reason}`);
    // every app a selector matched must take the updates before any is changed
    const misfits = resolved.found.apps.flatMap(a => {
      const why = unmatchedSources(a, spec, spec.cluster);
      return why ? [why] : [];
    });
    if (misfits.length) {
      const shown = misfits.slice(0, 3).join('; ') + (misfits.length > 3 ? `; and ${misfits.length - 3} more` : '');
      return { status: 'Failed', message: `${field}: nothing was changed: ${shown}` };
    }
    for (const app of resolved.found.apps) {
      const what = describeApp(app.metadata.name, resolved.found.namespace, spec.cluster);
      const desired = desiredRevisions(ctx, app, spec, field);
      tracked.push({ spec, field, found: resolved.found, app, what, desired, progress: { kind: 'start' } });
    }
  }
  const started = [...((ctx.state?.started as Array<Record<string, unknown>>) ?? [])];
  const pending = () => tracked.filter(t => t.progress.kind === 'syncing' || t.progress.kind === 'waiting');
  const failedOne = () => tracked.find(t => t.progress.kind === 'failed');

  for (const t of tracked) {
    await advance(ctx, t, started);
    if (t.progress.kind === 'failed') break;
  }

  // Watch briefly, so a quick sync is seen through in this run rather than the next.
  const window = linkedTimeout(ctx.signal, settleMs);
  try {
    while (settleMs > 0 && !window.signal.aborted && !failedOne() && pending().length) {
      const round = linkedTimeout(window.signal, settleMs);
      try {
        await Promise.race(pending().map(t => nextChange(t, round.signal)));
      } finally {
        round.done();
      }
      if (window.signal.aborted) break;
      for (const t of pending()) {
        const fresh = await t.found.client.get<ArgoApplication>(APPLICATIONS, t.found.namespace, t.app.metadata.name);
        if (!fresh) {
          t.progress = { kind: 'failed', message: `${t.what} was deleted while this step waited for its sync` };
          break;
        }
        t.app = fresh;
        await advance(ctx, t, started);
        if (t.progress.kind === 'failed') break;
      }
    }
  } finally {
    window.done();
  }

  const failed = failedOne();
  if (failed && failed.progress.kind === 'failed') {
    return { status: 'Failed', message: failed.progress.message, state: { started } };
  }
  const waiting = pending();
  if (waiting.length) {
    return {
      status: 'Running',
      message: waiting.map(t => (t.progress as { message: string }).message).join('; '),
      retryAfterMs: RETRY_AFTER_MS,
      state: { started },
    };
  }
  const apps = tracked.map(t => {
    const revisions = t.progress.kind === 'done' ? t.progress.revisions : [];
    return { name: t.app.metadata.name, namespace: t.found.namespace, ...(t.spec.cluster ? { cluster: t.spec.cluster } : {}), revisions, desiredRevisions: t.desired };
  });
  const refs: Array<ArgoCdAppRef & { desiredRevisions: string[] }> = apps.map(a => ({
    name: a.name,
    namespace: a.namespace,
    ...(a.cluster ? { cluster: a.cluster } : {}),
    desiredRevisions: a.desiredRevisions,
  }));
  return {
    status: 'Succeeded',
    message: `synced ${tracked.map(t => `${t.app.metadata.name} to ${t.progress.kind === 'done' ? t.progress.revisions.map(short).join(', ') : '?'}`).join('; ')}`,
    outputs: { apps },
    healthCheck: { kind: 'argocd', apps: refs },
  };
}

export const argocdUpdate = createArgoCdUpdate();
