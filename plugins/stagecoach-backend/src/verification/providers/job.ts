import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { Measurement } from '@stagecoach/plugin-stagecoach-common';
import { JOBS, KubeApiError, KubeClient, KubeObject, PODS } from '../../integrations/kubernetes/types';
import { errorMeasurement } from '../conditions';
import { jobNamespace, podPolicyFor } from '../jobSettings';
import { podTemplateProblems, withSecureDefaults } from '../podPolicy';
import type { MeasureContext, Metric, MetricProvider } from '../types';

/**
 * Argo Rollouts' `job` metric: a Kubernetes Job runs in a namespace app-config allows the
 * project (`stagecoach.verification.jobs`, see jobSettings.ts), its pod held to the
 * restricted Pod Security level (podPolicy.ts: checked when the manifests were applied and
 * again here, absent settings filled in); it passes if the Job completes and fails if
 * the Job fails. `run` creates the Job and returns the measurement Running; `resume` looks at
 * it again; when it is done its pods' logs are kept (the last 4 KiB, `metadata.logs`) and the
 * Job is deleted with its pods.
 */

/** How much of the pods' logs a measurement keeps. */
export const KEPT_LOG_BYTES = 4 * 1024;
/** How much of the log's end a failure message quotes. */
const MESSAGE_LOG_BYTES = 1024;

const stringMap = z.record(z.string({ invalid_type_error: 'must be text' }));

/** `provider.job`, as Rollouts has it: the Job's metadata (labels, annotations) and its spec. */
export const jobMetricSchema = z
  .object({
    metadata: z
      .object({
        labels: stringMap.optional(),
        annotations: stringMap.optional(),
        /** Stagecoach's: one of the namespaces app-config allows the project (jobSettings.ts). */
        namespace: z.string({ invalid_type_error: 'must be a namespace name' }).optional(),
      })
      .passthrough()
      .optional(),
    spec: z
      .object(
        {
          template: z.object(
            {
              metadata: z.object({ labels: stringMap.optional(), annotations: stringMap.optional() }).passthrough().optional(),
              spec: z.object(
                {
                  containers: z
                    .array(
                      z.object({ name: z.string().min(1, 'is required'), image: z.string().min(1, 'is required') }).passthrough(),
                      { invalid_type_error: 'must be a list of containers' },
                    )
                    .min(1, 'needs at least one container'),
                  restartPolicy: z
                    .enum(['Never', 'OnFailure'], {
                      errorMap: () => ({ message: 'must be Never or OnFailure (a Job pod may not restart Always)' }),
                    })
                    .optional(),
                },
                { required_error: 'is required: the pod spec (containers, restartPolicy)' },
              ).passthrough(),
            },
            { required_error: 'is required: the pod template the Job runs' },
          ).passthrough(),
        },
        { required_error: 'is required: a Kubernetes Job spec (template: ...)' },
      )
      .passthrough(),
  })
  .strict();

export type JobMetric = z.infer<typeof jobMetricSchema>;

function parseConfig(metric: Metric): JobMetric {
  const parsed = jobMetricSchema.safeParse(metric.provider.job ?? {});
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const at = `provider.job${issue.path.map(p => (typeof p === 'number' ? `[${p}]` : `.${p}`)).join('')}`;
  let message = issue.message;
  if (issue.code === 'invalid_type' && issue.received === 'undefined' && !/required/.test(issue.message)) message = 'is required';
  if (issue.code === 'unrecognized_keys') {
    message = `has unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.join(', ')} (a job metric has metadata and spec)`;
  }
  throw new Error(`metric ${metric.name}: ${at} ${message}`);
}

/** `.spec.containers[0].securityContext` from a field path. */
const formatPodPath = (path: Array<string | number>): string => path.map(p => (typeof p === 'number' ? `[${p}]` : `.${p}`)).join('');

/** A DNS label (lower-case letters, digits, '-'; ≤ 63): Job names end up in the `job-name` label of their pods. */
export function jobName(verificationId: string, metric: string, measurement: number | string): string {
  const full = `${verificationId}-${metric}-${measurement}`;
  const clean = full
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/-+/g, '-')
    .replace(/^-+|-+$/g, '');
  if (clean.length <= 63) return clean;
  // too long: a hash of the whole keeps two names that share their first 54 characters apart
  const hash = createHash('sha256').update(full).digest('hex').slice(0, 8);
  const stem = clean.slice(0, 63 - hash.length - 1).replace(/-+$/, '');
  return `${stem}-${hash}`.replace(/^-+/, '');
}

/** A label value: ≤ 63 of letters, digits, '-', '_', '.', starting and ending alphanumeric. */
function labelValue(value: string): string {
  return value
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .slice(0, 63)
    .replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, '');
}

/**
 * Which measurement of the metric this is (1-based), for the Job's name; without it (a
 * provider called on its own) the start time keeps names apart.
 */
function measurementNumber(ctx: MeasureContext): string {
  const n = ctx.measurement;
  return typeof n === 'number' ? String(n) : ctx.now().getTime().toString(36);
}

interface JobRef {
  job: string;
  namespace: string;
  cluster: string;
}

function refOf(m: Measurement): JobRef | undefined {
  const { job, namespace, cluster } = m.metadata ?? {};
  return job && namespace && cluster ? { job, namespace, cluster } : undefined;
}

const where = (r: JobRef) => `job "${r.job}" in namespace "${r.namespace}" on cluster "${r.cluster}"`;

/** Keeps the last `limit` bytes, from a line start when there is one near. */
function tail(text: string, limit: number): string {
  const buf = Buffer.from(text, 'utf8');
  if (buf.length <= limit) return text;
  let cut = buf.subarray(buf.length - limit).toString('utf8').replace(/^\uFFFD+/, '');
  const nl = cut.indexOf('\n');
  if (nl >= 0 && nl < limit / 4) cut = cut.slice(nl + 1);
  return cut;
}

/** The logs of the Job's pods (every container), oldest pod first. Never throws: a missing log is said in the text. */
async function collectLogs(client: KubeClient, ref: JobRef): Promise<string> {
  let pods: KubeObject[];
  try {
    ({ items: pods } = await client.list(PODS, ref.namespace, { labelSelector: `job-name=${ref.job}` }));
  } catch (e) {
    return `(logs unavailable: ${(e as Error).message})`;
  }
  pods.sort((a, b) => String(a.metadata.creationTimestamp ?? '').localeCompare(String(b.metadata.creationTimestamp ?? '')));
  const parts: string[] = [];
  for (const pod of pods) {
    const containers = ((pod.spec as { containers?: Array<{ name: string }> } | undefined)?.containers ?? []).map(c => c.name);
    const each = containers.length > 1 ? containers : [undefined];
    for (const container of each) {
      const label = pods.length > 1 || container ? `--- ${pod.metadata.name}${container ? ` (${container})` : ''} ---\n` : '';
      try {
        const text = await client.podLog(ref.namespace, pod.metadata.name, { container, limitBytes: KEPT_LOG_BYTES });
        parts.push(label + text);
      } catch (e) {
        parts.push(`${label}(log unavailable: ${(e as Error).message})\n`);
      }
    }
  }
  return tail(parts.join(parts.every(p => p.endsWith('\n')) ? '' : '\n'), KEPT_LOG_BYTES);
}

/** Deletes the Job and (Background propagation) its pods; a failure is logged, not fatal: the outcome is known. */
async function cleanUp(ctx: MeasureContext, client: KubeClient, ref: JobRef): Promise<string | undefined> {
  try {
    await client.delete(JOBS, ref.namespace, ref.job, { propagationPolicy: 'Background' });
    return undefined;
  } catch (e) {
    ctx.logger.warn(`could not delete ${where(ref)} after its measurement: ${(e as Error).message}`);
    return (e as Error).message;
  }
}

interface JobCondition {
  type?: string;
  status?: string;
  reason?: string;
  message?: string;
}

function finishedCondition(job: KubeObject): JobCondition | undefined {
  const conditions = ((job.status as { conditions?: JobCondition[] } | undefined)?.conditions ?? []).filter(c => c.status === 'True');
  // Complete / Failed are final; SuccessCriteriaMet / FailureTarget come first while pods stop
  return conditions.find(c => c.type === 'Failed') ?? conditions.find(c => c.type === 'Complete');
}

async function run(ctx: MeasureContext, metric: Metric): Promise<Measurement> {
  const startedAt = ctx.now();
  let config: JobMetric;
  try {
    config = parseConfig(metric);
  } catch (e) {
    return errorMeasurement((e as Error).message, startedAt, ctx.now());
  }
  // defence in depth: the manifests were checked when applied, but app-config may have changed since
  const placement = jobNamespace(ctx.jobs, ctx.project, config.metadata?.namespace);
  if ('problem' in placement) {
    return errorMeasurement(`metric ${metric.name}: its job may not run: ${placement.problem}`, startedAt, ctx.now());
  }
  const refused = podTemplateProblems(config.spec.template, podPolicyFor(ctx.jobs, ctx.project));
  if (refused.length > 0) {
    const list = refused.map(p => `provider.job.spec.template${formatPodPath(p.path)}: ${p.message}`).join('; ');
    return errorMeasurement(`metric ${metric.name}: the pod policy refuses its job: ${list}`, startedAt, ctx.now());
  }
  let client: KubeClient;
  try {
    client = ctx.kube.client(ctx.jobs.cluster);
  } catch (e) {
    return errorMeasurement(`metric ${metric.name}: cannot run its job: ${(e as Error).message}`, startedAt, ctx.now());
  }
  const ref: JobRef = {
    job: jobName(ctx.verificationId, metric.name, measurementNumber(ctx)),
    namespace: placement.namespace,
    cluster: client.cluster,
  };
  const metadata = { job: ref.job, namespace: ref.namespace, cluster: ref.cluster };
  const ours = {
    'stagecoach.io/verification': labelValue(ctx.verificationId),
    'stagecoach.io/project': labelValue(ctx.project),
    'stagecoach.io/stage': labelValue(ctx.stage),
    'stagecoach.io/metric': labelValue(metric.name),
  };
  const template = config.spec.template;
  const body: KubeObject = {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name: ref.job,
      namespace: ref.namespace,
      labels: { ...(config.metadata?.labels ?? {}), ...ours },
      annotations: { ...(config.metadata?.annotations ?? {}) },
    },
    spec: {
      ...config.spec,
      template: {
        ...template,
        metadata: { ...(template.metadata ?? {}), labels: { ...(template.metadata?.labels ?? {}), ...ours } },
        // the API rejects a Job whose pods would restart Always (the pod default): Never is what a check means;
        // what the restricted Pod Security level asks for and the manifest left out is filled in
        spec: withSecureDefaults({ ...template.spec, restartPolicy: template.spec.restartPolicy ?? 'Never' }),
      },
    },
  };
  try {
    await client.create(JOBS, ref.namespace, body);
  } catch (e) {
    // the same measurement asked again (the backend restarted mid-tick): the Job is already ours
    if (e instanceof KubeApiError && e.reason === 'AlreadyExists') {
      const existing = await client.get(JOBS, ref.namespace, ref.job).catch(() => undefined);
      if (existing?.metadata.labels?.['stagecoach.io/verification'] === ours['stagecoach.io/verification']) {
        return { phase: 'Running', startedAt: startedAt.toISOString(), metadata };
      }
    }
    return errorMeasurement(`metric ${metric.name}: could not create ${where(ref)}: ${(e as Error).message}`, startedAt, ctx.now(), metadata);
  }
  ctx.logger.info(`verification ${ctx.verificationId}: metric ${metric.name} runs ${where(ref)}`);
  return { phase: 'Running', startedAt: startedAt.toISOString(), metadata };
}

async function resume(ctx: MeasureContext, metric: Metric, m: Measurement): Promise<Measurement> {
  const ref = refOf(m);
  const startedAt = new Date(m.startedAt);
  if (!ref) return errorMeasurement(`metric ${metric.name}: the measurement does not say which job it ran (metadata job, namespace, cluster)`, startedAt, ctx.now(), m.metadata);
  let client: KubeClient;
  let job: KubeObject | undefined;
  try {
    client = ctx.kube.client(ref.cluster);
    job = await client.get(JOBS, ref.namespace, ref.job);
  } catch (e) {
    return errorMeasurement(`metric ${metric.name}: cannot look at ${where(ref)}: ${(e as Error).message}`, startedAt, ctx.now(), m.metadata);
  }
  if (!job) {
    return errorMeasurement(
      `metric ${metric.name}: ${where(ref)} was deleted before it finished (by someone else, or by a TTL): its outcome is unknown`,
      startedAt,
      ctx.now(),
      m.metadata,
    );
  }
  const done = finishedCondition(job);
  if (!done) return m;

  const logs = await collectLogs(client, ref);
  const cleanupProblem = await cleanUp(ctx, client, ref);
  const metadata: Record<string, string> = { ...m.metadata, ...(logs ? { logs } : {}), ...(cleanupProblem ? { cleanup: cleanupProblem } : {}) };
  const finishedAt = ctx.now().toISOString();
  if (done.type === 'Complete') {
    return { phase: 'Successful', startedAt: m.startedAt, finishedAt, metadata };
  }
  const why = [done.reason, done.message].filter(Boolean).join(': ');
  const logTail = logs ? tail(logs, MESSAGE_LOG_BYTES).trimEnd() : '';
  return {
    phase: 'Failed',
    message: `${where(ref)} failed${why ? ` (${why})` : ''}${logTail ? `. The end of its log:\n${logTail}` : '; it left no log'}`,
    startedAt: m.startedAt,
    finishedAt,
    metadata,
  };
}

async function terminate(ctx: MeasureContext, _metric: Metric, m: Measurement): Promise<Measurement> {
  const ref = refOf(m);
  const finishedAt = ctx.now().toISOString();
  if (!ref) return { ...m, phase: 'Error', message: 'the verification was aborted', finishedAt };
  let logs = '';
  let problem: string | undefined;
  try {
    const client = ctx.kube.client(ref.cluster);
    logs = await collectLogs(client, ref);
    problem = await cleanUp(ctx, client, ref);
  } catch (e) {
    problem = (e as Error).message;
  }
  return {
    ...m,
    phase: 'Error',
    message: problem
      ? `the verification was aborted; ${where(ref)} could not be deleted: ${problem}`
      : `the verification was aborted: ${where(ref)} was stopped and deleted`,
    finishedAt,
    metadata: { ...m.metadata, ...(logs ? { logs } : {}) },
  };
}

export const jobProvider: MetricProvider = {
  name: 'job',
  description: 'Run a Kubernetes Job; the measurement passes if it completes and fails if it fails.',
  run,
  resume,
  terminate,
};
