import type { Config } from '@backstage/config';
import { podTemplateProblems, PodPolicySettings } from './podPolicy';

/**
 * Where a project's `job` metrics may run and which service accounts their pods may use
 * (app-config `stagecoach.verification.jobs`). A manifest author picks neither freely: a pod
 * may mount any Secret of its namespace and act with its service account, so a project
 * named `kube-system` (or `argocd`) must not get to run pods there.
 *
 * - `namespace`: where jobs of projects not listed in `namespaces` run; `{project}` is
 *   replaced by the project's name. Default `{project}`, as Kargo runs them in the project's
 *   namespace. A namespace the project's name makes that is protected (`kube-*`, `default`,
 *   Argo CD's) is refused: only `namespaces` (or a fixed `namespace`) can name those.
 * - `namespaces`: per project, the namespaces its jobs may run in; the first is the default,
 *   and a job metric may name another of them in `provider.job.metadata.namespace`.
 * - `serviceAccounts`: per project, the service accounts its job pods may name besides
 *   `default` (which never gets a token).
 */
export interface JobSettings {
  /** The namespace, or a pattern with `{project}`, for projects not listed in `namespaces`. */
  namespace?: string;
  cluster?: string;
  namespaces?: Array<{ project: string; namespaces: string[] }>;
  serviceAccounts?: Array<{ project: string; names: string[] }>;
  /** Namespaces the default pattern may never yield, besides `kube-*` and `default` (Argo CD's, from the engine). */
  protectedNamespaces?: string[];
}

export const DEFAULT_JOB_NAMESPACE = '{project}';

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

function isProtected(namespace: string, settings: JobSettings): boolean {
  return namespace === 'default' || namespace.startsWith('kube-') || (settings.protectedNamespaces ?? []).includes(namespace);
}

/** The namespaces a project's jobs may run in, the first being the default, or why there are none. */
export function jobNamespaces(settings: JobSettings, project: string): { namespaces: string[] } | { problem: string } {
  const listed = settings.namespaces?.find(n => n.project === project);
  if (listed && listed.namespaces.length > 0) return { namespaces: listed.namespaces };
  const pattern = settings.namespace ?? DEFAULT_JOB_NAMESPACE;
  const namespace = pattern.split('{project}').join(project);
  // a namespace app-config names outright is the operator's choice; one a project's name makes is checked
  if (!DNS_LABEL.test(namespace)) {
    return {
      problem: `job metrics of project "${project}" would run in namespace "${namespace}" (stagecoach.verification.jobs.namespace "${pattern}"), which is not a Kubernetes namespace name`,
    };
  }
  if (pattern.includes('{project}') && isProtected(namespace, settings)) {
    return {
      problem:
        `job metrics of project "${project}" would run in namespace "${namespace}" (stagecoach.verification.jobs.namespace "${pattern}"), ` +
        `a protected namespace: list it for the project under stagecoach.verification.jobs.namespaces to allow it, or set another namespace`,
    };
  }
  return { namespaces: [namespace] };
}

/**
 * The namespace one job metric runs in: the one it names in `provider.job.metadata.namespace`
 * if the project may use it, else the project's default; or why it may not run.
 */
export function jobNamespace(settings: JobSettings, project: string, requested?: string): { namespace: string } | { problem: string } {
  const allowed = jobNamespaces(settings, project);
  if ('problem' in allowed) return allowed;
  if (requested === undefined || requested === '') return { namespace: allowed.namespaces[0] };
  if (allowed.namespaces.includes(requested)) return { namespace: requested };
  return {
    problem: `namespace "${requested}" is not one that project "${project}"'s jobs may run in (stagecoach.verification.jobs): ${allowed.namespaces.join(', ')}`,
  };
}

/** The pod policy's settings for one project. */
export function podPolicyFor(settings: JobSettings, project: string): PodPolicySettings {
  return { serviceAccounts: settings.serviceAccounts?.find(s => s.project === project)?.names ?? [] };
}

/**
 * What the job settings and the pod policy refuse in an AnalysisTemplate's job metrics, with
 * paths from the template's `spec` (`metrics[0].provider.job.spec.template.spec.hostNetwork`).
 */
export function templateJobProblems(
  metrics: ReadonlyArray<{ provider: Record<string, unknown> }>,
  project: string,
  settings: JobSettings,
): Array<{ path: Array<string | number>; message: string }> {
  const problems: Array<{ path: Array<string | number>; message: string }> = [];
  metrics.forEach((metric, i) => {
    const job = metric.provider.job as { metadata?: { namespace?: unknown }; spec?: { template?: unknown } } | undefined;
    if (!job) return;
    const at = ['metrics', i, 'provider', 'job'];
    const requested = job.metadata?.namespace;
    if (requested !== undefined && (typeof requested !== 'string' || /\{\{/.test(requested))) {
      problems.push({ path: [...at, 'metadata', 'namespace'], message: 'must be a namespace name (not an {{args}} placeholder)' });
    } else {
      const where = jobNamespace(settings, project, requested as string | undefined);
      if ('problem' in where) problems.push({ path: requested ? [...at, 'metadata', 'namespace'] : at, message: where.problem });
    }
    for (const p of podTemplateProblems(job.spec?.template, podPolicyFor(settings, project))) {
      problems.push({ path: [...at, 'spec', 'template', ...p.path], message: p.message });
    }
  });
  return problems;
}

/** The job settings in app-config (`stagecoach.verification.jobs`). */
export function readJobSettings(config: Config): JobSettings {
  const jobs = config.getOptionalConfig('stagecoach.verification.jobs');
  if (!jobs) return {};
  const perProject = <K extends string>(key: string, field: K) =>
    jobs.getOptionalConfigArray(key)?.map(c => ({ project: c.getString('project'), [field]: c.getStringArray(field) }) as { project: string } & Record<K, string[]>);
  return {
    namespace: jobs.getOptionalString('namespace'),
    cluster: jobs.getOptionalString('cluster'),
    namespaces: perProject('namespaces', 'namespaces'),
    serviceAccounts: perProject('serviceAccounts', 'names'),
    protectedNamespaces: jobs.getOptionalStringArray('protectedNamespaces'),
  };
}
