import { stringify } from 'yaml';
import type { ManifestProblem } from '@stagecoach/plugin-stagecoach-common';
import type {
  ApplyOutcome,
  StagecoachTarget,
} from '../stagecoach/StagecoachTarget';
import { KargoCluster, KubeReadError } from './KargoCluster';
import {
  CLUSTER_ANALYSIS_TEMPLATES,
  CLUSTER_PROMOTION_TASKS,
  KubeObject,
  PROJECTS,
  ResourceType,
} from './kinds';
import { planCluster } from './planCluster';
import { ClusterObjects, planProject, ProjectPlan } from './planProject';
import { readProject } from './readProject';

/** What became of one document of the Kargo installation. */
export interface DocumentReport {
  resource: string;
  /** applied; would-apply (--dry-run); skipped (not imported, with why); refused (the backend's problems); not-applied (the set failed as a whole). */
  status: 'applied' | 'would-apply' | 'skipped' | 'refused' | 'not-applied';
  /** Why it was skipped or not applied. */
  reason?: string;
  /** Made from another object (a ProjectConfig from a pre-v1.7 Project). */
  from?: string;
  /** The backend's problems with this document: field path and message. */
  problems?: { path: string; message: string }[];
}

export interface ProjectReport {
  project: string;
  documents: DocumentReport[];
  /** The YAML that was (or, with --dry-run, would be) sent. */
  yaml: string;
  /** Why the project as a whole was not applied, when it was not. */
  error?: string;
  /** Names of the Secrets labelled kargo.akuity.io/cred-type; undefined when they could not be listed. */
  credentialSecrets?: string[];
  warnings: string[];
}

export interface ImportReport {
  source: string;
  /** The cluster scope's set (ClusterPromotionTasks), when there was one to import. */
  cluster?: ProjectReport;
  projects: ProjectReport[];
  /** Problems before any project (no Kargo, no such project). */
  errors: string[];
  warnings: string[];
}

export interface ImportOptions {
  /** Only these projects; all of the cluster's when empty. */
  projects: string[];
  /** Apply here; undefined for a dry run. */
  target?: StagecoachTarget;
  prune: boolean;
}

/** True when anything was refused or failed: the command exits 1. */
export function failed(report: ImportReport): boolean {
  return (
    report.errors.length > 0 ||
    [...(report.cluster ? [report.cluster] : []), ...report.projects].some(
      p =>
        p.error !== undefined || p.documents.some(d => d.status === 'refused'),
    )
  );
}

/** The projects to import: those named (each must exist), or every Project of the cluster. */
async function projectsToImport(
  cluster: KargoCluster,
  names: string[],
  errors: string[],
): Promise<KubeObject[]> {
  try {
    if (names.length === 0) {
      const all = await cluster.list(PROJECTS);
      if (all.length === 0)
        errors.push(
          `the cluster of ${cluster.description} has no Kargo Project`,
        );
      return all.sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
    }
    const found: KubeObject[] = [];
    for (const name of [...new Set(names)]) {
      const project = await cluster.get(PROJECTS, name);
      if (project) found.push(project);
      else
        errors.push(
          `no Kargo Project "${name}" in the cluster of ${cluster.description}`,
        );
    }
    return found;
  } catch (e) {
    const notKargo = e instanceof KubeReadError && e.notServed;
    errors.push(
      notKargo
        ? `Kargo is not installed in the cluster of ${cluster.description}: ${
            (e as Error).message
          }`
        : (e as Error).message,
    );
    return [];
  }
}

/** A cluster-scoped kind, or none when it is not installed; a failure to read it is a warning. */
async function clusterKind(
  cluster: KargoCluster,
  type: ResourceType,
  warnings: string[],
): Promise<KubeObject[]> {
  try {
    return await cluster.list(type);
  } catch (e) {
    if (!(e instanceof KubeReadError && e.notServed))
      warnings.push((e as Error).message);
    return [];
  }
}

/** The YAML of a project's set: one document per manifest, in the plan's order. */
export function setYaml(plan: ProjectPlan): string {
  return plan.sent
    .map(d => `---\n${stringify(d.manifest, { lineWidth: 0 })}`)
    .join('');
}

/** The backend's answer, document by document: a 400's problems go back to the documents they name. */
function reportOutcome(
  plan: ProjectPlan,
  outcome: ApplyOutcome,
): { documents: DocumentReport[]; error?: string } {
  const skipped = plan.documents
    .filter(d => d.skipped)
    .map(d => ({
      resource: d.resource,
      status: 'skipped' as const,
      reason: d.skipped,
    }));
  const sent = (status: DocumentReport['status'], reason?: string) =>
    plan.sent.map(d => ({
      resource: d.resource,
      status,
      ...(reason ? { reason } : {}),
      ...(d.from ? { from: d.from } : {}),
    }));
  switch (outcome.outcome) {
    case 'applied':
      return { documents: [...sent('applied'), ...skipped] };
    case 'refused': {
      const byDocument = new Map<number, ManifestProblem[]>();
      const unplaced: ManifestProblem[] = [];
      for (const p of outcome.problems) {
        if (p.document >= 1 && p.document <= plan.sent.length)
          byDocument.set(p.document, [
            ...(byDocument.get(p.document) ?? []),
            p,
          ]);
        else unplaced.push(p);
      }
      const documents: DocumentReport[] = plan.sent.map((d, i) => {
        const problems = byDocument.get(i + 1);
        const base = {
          resource: d.resource,
          ...(d.from ? { from: d.from } : {}),
        };
        return problems
          ? {
              ...base,
              status: 'refused',
              problems: problems.map(p => ({
                path: p.path,
                message: p.message,
              })),
            }
          : {
              ...base,
              status: 'not-applied',
              reason:
                'the project is applied all or nothing, and other documents were refused',
            };
      });
      // problems of the set as a whole (too large, no documents) or that name no document sent
      let error: string | undefined;
      if (unplaced.length > 0)
        error = unplaced
          .map(
            p =>
              `document ${p.document}${p.path ? `, ${p.path}` : ''}: ${
                p.message
              }`,
          )
          .join('; ');
      else if (outcome.problems.length === 0) error = outcome.message;
      return {
        documents: [...documents, ...skipped],
        ...(error ? { error } : {}),
      };
    }
    case 'prune-required': {
      const gone = outcome.wouldRemove;
      const names = gone
        ? [
            ...(gone.warehouses ?? []).map(w => `Warehouse/${w}`),
            ...(gone.stages ?? []).map(st => `Stage/${st}`),
          ].join(', ')
        : '';
      const error = names
        ? `the Stagecoach project has ${names} that Kargo's does not: run again with --prune to remove them (nothing was applied)`
        : `${outcome.message}: run again with --prune to remove them (nothing was applied)`;
      return {
        documents: [
          ...sent(
            'not-applied',
            'the apply would remove what Kargo does not define',
          ),
          ...skipped,
        ],
        error,
      };
    }
    default:
      return {
        documents: [...sent('not-applied', outcome.message), ...skipped],
        error: outcome.message,
      };
  }
}

/** Applies a plan, or with no target says what it would apply; the backend's warnings join the scope's. */
async function applyPlan(
  plan: ProjectPlan,
  apply: ((yaml: string) => Promise<ApplyOutcome>) | undefined,
  base: Omit<ProjectReport, 'documents'>,
): Promise<ProjectReport> {
  if (!apply) {
    const dry = reportOutcome(plan, { outcome: 'applied', warnings: [] });
    for (const d of dry.documents)
      if (d.status === 'applied') d.status = 'would-apply';
    return { ...base, ...dry };
  }
  if (plan.sent.length === 0) {
    base.warnings.push(
      'nothing to apply: the project has no Warehouse, Stage or other document Stagecoach takes',
    );
    return {
      ...base,
      ...reportOutcome(plan, { outcome: 'applied', warnings: [] }),
    };
  }
  const outcome = await apply(base.yaml);
  if (outcome.outcome === 'applied') {
    for (const w of outcome.warnings) {
      base.warnings.push(
        `Stagecoach: document ${w.document}${
          w.resource ? ` (${w.resource})` : ''
        }: ${w.message}`,
      );
    }
  }
  return { ...base, ...reportOutcome(plan, outcome) };
}

/**
 * The cluster scope's import: Kargo's ClusterPromotionTasks applied with PUT /cluster/manifests
 * before the projects whose stages call them, as a merge (what Stagecoach holds there besides
 * is kept), or with --prune as the whole cluster scope. Answers whether the Stagecoach has a
 * cluster scope (an older one answers 404: the projects then report the tasks as skipped).
 */
async function importClusterScope(
  tasks: KubeObject[],
  options: ImportOptions,
  report: ImportReport,
): Promise<boolean> {
  if (tasks.length === 0) return true;
  const { target } = options;
  const plan = planCluster(tasks);
  const base = {
    project: 'cluster scope',
    yaml: setYaml(plan),
    warnings: [] as string[],
  };
  if (!target) {
    report.cluster = await applyPlan(plan, undefined, base);
    return true;
  }
  const outcome = await target.applyCluster(base.yaml, {
    prune: options.prune,
  });
  if (outcome.outcome === 'unsupported') return false;
  report.cluster = await applyPlan(plan, async () => outcome, base);
  return true;
}

/**
 * Imports a Kargo installation's projects into Stagecoach: reads each project's documents,
 * makes them manifests again, applies the cluster scope's set and then each project's (or,
 * without a target, only says what it would send) and reports every document. Secrets are
 * never read beyond their names.
 */
export async function importKargo(
  cluster: KargoCluster,
  options: ImportOptions,
): Promise<ImportReport> {
  const errors: string[] = [];
  const warnings: string[] = [];
  const report: ImportReport = {
    source: cluster.description,
    projects: [],
    errors,
    warnings,
  };
  const projects = await projectsToImport(cluster, options.projects, errors);
  if (projects.length === 0) return report;

  const clusterPromotionTasks = await clusterKind(
    cluster,
    CLUSTER_PROMOTION_TASKS,
    warnings,
  );
  const clusterAnalysisTemplates = await clusterKind(
    cluster,
    CLUSTER_ANALYSIS_TEMPLATES,
    warnings,
  );
  const clusterScope = await importClusterScope(
    clusterPromotionTasks,
    options,
    report,
  );
  const clusterObjects: ClusterObjects = {
    clusterPromotionTasks,
    clusterAnalysisTemplates,
    clusterScope,
  };

  for (const project of projects) {
    const read = await readProject(cluster, project);
    const plan = planProject(read, clusterObjects);
    const base = {
      project: read.name,
      yaml: setYaml(plan),
      credentialSecrets: read.credentialSecrets,
      warnings: read.warnings,
    };
    if (read.problems.length > 0) {
      const error = `not applied: part of the project could not be read: ${read.problems.join(
        '; ',
      )}`;
      const documents = plan.documents.map(d =>
        d.skipped
          ? {
              resource: d.resource,
              status: 'skipped' as const,
              reason: d.skipped,
            }
          : {
              resource: d.resource,
              status: 'not-applied' as const,
              reason: 'part of the project could not be read',
            },
      );
      report.projects.push({ ...base, documents, error });
      continue;
    }
    const { target } = options;
    report.projects.push(
      await applyPlan(
        plan,
        target &&
          (yaml =>
            target.applyProject(read.name, yaml, { prune: options.prune })),
        base,
      ),
    );
  }
  return report;
}
