import { z } from 'zod';
import type { ManifestProblem } from '@stagecoach/plugin-stagecoach-common';
import { inflateTasks } from './promotionTasks';
import {
  documentHeaderSchema,
  metadataSchema,
  promotionTaskSpecSchema,
  PromotionTaskSpec,
  stageSpecSchema,
  StageSpec,
  RunnableStageSpec,
  warehouseSpecSchema,
  WarehouseSpec,
} from './schemas';
import { ManifestValidationError } from './ManifestValidationError';
import { readYamlDocuments } from './yamlDocuments';
import { JobSettings, templateJobProblems } from '../verification/jobSettings';
import { describeIssue } from './describeIssue';
import { builtinSteps, StepDefinition, validateStepConfig } from '../promotion/steps';
import { projectConfigSpecSchema, ProjectConfigSpec } from './projectConfig';
import {
  ANALYSIS_API_VERSION,
  analysisTemplateSpecSchema,
  AnalysisTemplateSpec,
  mergeTemplates,
  StageVerification,
  stageVerificationSchema,
} from '../verification/analysisTemplate';

/** A Stage as written: Kargo's spec, and `verification` with Argo Rollouts' AnalysisTemplates. */
const stageDocumentSpecSchema = stageSpecSchema.extend({ verification: stageVerificationSchema.optional() });
type StageDocumentSpec = StageSpec & { verification?: StageVerification };

const ANALYSIS_KINDS = ['AnalysisTemplate', 'ClusterAnalysisTemplate'] as const;
const analysisHeaderSchema = z.object({
  apiVersion: z.literal(ANALYSIS_API_VERSION),
  kind: z.enum(ANALYSIS_KINDS, {
    errorMap: () => ({ message: `must be AnalysisTemplate or ClusterAnalysisTemplate for ${ANALYSIS_API_VERSION}` }),
  }),
  metadata: metadataSchema,
});

export interface WarehouseDefinition {
  name: string;
  spec: WarehouseSpec;
}

/** A stage as stored and run: its PromotionTasks inflated into plain steps. */
export interface StageDefinition {
  name: string;
  spec: RunnableStageSpec;
  /** metadata.labels: what ProjectConfig stage selectors match. */
  labels?: Record<string, string>;
}

/** A project's validated pipeline: what `PUT .../manifests` stores. */
export interface ProjectManifests {
  project: string;
  warehouses: WarehouseDefinition[];
  stages: StageDefinition[];
  /** The project's ProjectConfig, when the set has one. */
  projectConfig?: ProjectConfigSpec;
}

/** Formats a zod issue path as `spec.subscriptions[0].git.repoURL`. */
export function formatPath(prefix: string, path: (string | number)[]): string {
  let out = prefix;
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else out += out ? `.${seg}` : seg;
  }
  return out;
}

function issuesToProblems(
  document: number,
  resource: string | undefined,
  prefix: string,
  error: z.ZodError,
): ManifestProblem[] {
  return error.issues.map(issue => ({
    document,
    resource,
    path: formatPath(prefix, issue.path),
    message: describeIssue(issue),
  }));
}

/**
 * Parses and validates a multi-document YAML set for one project. Either every document
 * is valid and consistent with the others, or a ManifestValidationError lists every
 * problem with its document and field path.
 */
export function parseManifests(
  project: string,
  text: string,
  /** The steps a `uses` may name (the engine's: the built-in steps unless it was given others). */
  steps: ReadonlyMap<string, StepDefinition> = builtinSteps,
  /** Where job metrics may run and with which service accounts (app-config; default: Kargo's). */
  jobs: JobSettings = {},
): ProjectManifests {
  const problems: ManifestProblem[] = [];
  /** Every resource a document declares, valid or not: others may refer to it. */
  const declared = new Set<string>();
  const warehouses: Located<WarehouseDefinition>[] = [];
  const stages: Located<{ name: string; spec: StageDocumentSpec; labels?: Record<string, string> }>[] = [];
  const tasks = new Map<string, PromotionTaskSpec>();
  /** `AnalysisTemplate/name` (or ClusterAnalysisTemplate) -> the spec and its document. */
  const templates = new Map<string, Located<{ spec: AnalysisTemplateSpec }>>();
  let projectConfig: Located<{ spec: ProjectConfigSpec }> | undefined;

  // within limits (size, nesting, aliases); a set with no documents at all is a problem too
  const read = readYamlDocuments(text);
  problems.push(...read.problems);

  read.documents.forEach(({ index, value }) => {
    if (value === undefined || value === null) return; // empty document between separators
    if (typeof value !== 'object' || Array.isArray(value)) {
      problems.push({ document: index, path: '', message: 'must be a mapping with apiVersion, kind, metadata and spec' });
      return;
    }
    if ((value as { apiVersion?: unknown }).apiVersion === ANALYSIS_API_VERSION) {
      parseAnalysisTemplate(index, value);
      return;
    }
    if ((ANALYSIS_KINDS as readonly unknown[]).includes((value as { kind?: unknown }).kind)) {
      problems.push({ document: index, path: 'apiVersion', message: `must be ${ANALYSIS_API_VERSION}: AnalysisTemplates are Argo Rollouts' documents` });
      return;
    }
    const header = documentHeaderSchema.safeParse(value);
    if (!header.success) {
      problems.push(...issuesToProblems(index, undefined, '', header.error));
      return;
    }
    const { kind, metadata } = header.data;
    const resource = `${kind}/${metadata.name}`;
    declared.add(resource);
    checkNamespace(index, resource, metadata.namespace);
    const spec = (value as { spec?: unknown }).spec;
    if (kind === 'Warehouse') {
      const parsed = warehouseSpecSchema.safeParse(spec);
      if (!parsed.success) problems.push(...issuesToProblems(index, resource, 'spec', parsed.error));
      else warehouses.push({ name: metadata.name, spec: parsed.data, document: index });
    } else if (kind === 'Stage') {
      const parsed = stageDocumentSpecSchema.safeParse(spec);
      if (!parsed.success) {
        problems.push(...issuesToProblems(index, resource, 'spec', parsed.error));
        return;
      }
      (parsed.data.promotionTemplate?.spec.steps ?? []).forEach((step, i) => {
        if (!step.uses) return; // a task's steps are checked in the PromotionTask's document
        for (const p of validateStepConfig(step.uses, step.config ?? {}, steps)) {
          problems.push({
            document: index,
            resource,
            path: formatPath(`spec.promotionTemplate.spec.steps[${i}]`, p.path),
            message: p.message,
          });
        }
      });
      stages.push({ name: metadata.name, spec: parsed.data, labels: metadata.labels, document: index });
    } else if (kind === 'PromotionTask') {
      const parsed = promotionTaskSpecSchema.safeParse(spec);
      if (!parsed.success) {
        problems.push(...issuesToProblems(index, resource, 'spec', parsed.error));
        return;
      }
      parsed.data.steps.forEach((step, i) => {
        for (const p of validateStepConfig(step.uses, step.config ?? {}, steps)) {
          problems.push({ document: index, resource, path: formatPath(`spec.steps[${i}]`, p.path), message: p.message });
        }
      });
      tasks.set(metadata.name, parsed.data);
    } else if (kind === 'ProjectConfig') {
      if (metadata.name !== project) {
        problems.push({
          document: index,
          resource,
          path: 'metadata.name',
          message: `is "${metadata.name}" but a ProjectConfig is named after its project: "${project}"`,
        });
      }
      const parsed = projectConfigSpecSchema.safeParse(spec ?? {});
      if (!parsed.success) problems.push(...issuesToProblems(index, resource, 'spec', parsed.error));
      else if (projectConfig) {
        problems.push({
          document: index,
          resource,
          path: 'kind',
          message: `a project has one ProjectConfig; document ${projectConfig.document} is one already`,
        });
      } else projectConfig = { spec: parsed.data, document: index };
    }
  });

  /** A document's metadata.namespace, when it has one, names the project it is applied to. */
  function checkNamespace(index: number, resource: string, namespace: string | undefined) {
    if (namespace && namespace !== project) {
      problems.push({
        document: index,
        resource,
        path: 'metadata.namespace',
        message: `is "${namespace}" but the manifests are applied to project "${project}"`,
      });
    }
  }

  function parseAnalysisTemplate(index: number, value: object) {
    const header = analysisHeaderSchema.safeParse(value);
    if (!header.success) {
      problems.push(...issuesToProblems(index, undefined, '', header.error));
      return;
    }
    const { kind, metadata } = header.data;
    const resource = `${kind}/${metadata.name}`;
    declared.add(resource);
    // a ClusterAnalysisTemplate has no namespace of its own in Kargo: any it names is not the project's
    if (kind === 'AnalysisTemplate') checkNamespace(index, resource, metadata.namespace);
    const parsed = analysisTemplateSpecSchema.safeParse((value as { spec?: unknown }).spec);
    if (!parsed.success) {
      problems.push(...issuesToProblems(index, resource, 'spec', parsed.error));
      return;
    }
    // job metrics: the namespace app-config allows the project, and the pod policy
    for (const p of templateJobProblems(parsed.data.metrics, project, jobs)) {
      problems.push({ document: index, resource, path: formatPath('spec', p.path), message: p.message });
    }
    if (templates.has(resource)) {
      problems.push({ document: index, resource, path: 'metadata.name', message: `${resource} is already defined in document ${templates.get(resource)!.document}` });
      return;
    }
    templates.set(resource, { spec: parsed.data, document: index });
  }

  /**
   * A stage's AnalysisTemplates, merged into the one analysis its verifications run (as
   * Kargo merges them into one AnalysisRun); problems name the stage's reference or the
   * template's own document.
   */
  function mergeVerification(stage: Located<{ name: string; spec: StageDocumentSpec }>) {
    const v = stage.spec.verification;
    if (!v || v.analysisTemplates.length === 0) return v;
    const resource = `Stage/${stage.name}`;
    const named: { name: string; spec: AnalysisTemplateSpec }[] = [];
    v.analysisTemplates.forEach((ref, i) => {
      const key = `${ref.kind}/${ref.name}`;
      const t = templates.get(key);
      if (t) named.push({ name: ref.name, spec: t.spec });
      else if (!declared.has(key)) {
        problems.push({
          document: stage.document,
          resource,
          path: `spec.verification.analysisTemplates[${i}].name`,
          message: `names ${ref.kind} "${ref.name}", which is not in this set of manifests`,
        });
      }
    });
    if (named.length !== v.analysisTemplates.length) return v; // reported above, or the template's own problems
    const merged = mergeTemplates(named);
    if (!merged.ok) {
      for (const p of merged.problems) {
        const ref = v.analysisTemplates.find(r => r.name === p.template)!;
        const key = `${ref.kind}/${p.template}`;
        problems.push({ document: templates.get(key)!.document, resource: key, path: formatPath('', p.path), message: `${p.message} (verifying ${resource})` });
      }
      return v;
    }
    // an arg the templates declare without a default needs the stage's value
    const given = new Set((v.args ?? []).map(a => a.name));
    for (const arg of merged.spec.args ?? []) {
      if (arg.value === undefined && !given.has(arg.name)) {
        problems.push({
          document: stage.document,
          resource,
          path: 'spec.verification.args',
          message: `needs a value for "${arg.name}": ${argOwners(named, arg.name)} without a default`,
        });
      }
    }
    return { ...v, analysis: merged.spec };
  }

  // PromotionTasks are inflated into the stages that use them: a stage stores the steps it runs;
  // AnalysisTemplates likewise are merged into its verification
  const runnable: Located<StageDefinition>[] = stages.map(located => {
    const verification = mergeVerification(located);
    const stage = { ...located, spec: { ...located.spec, ...(verification ? { verification } : {}) } };
    const { promotionTemplate, ...rest } = stage.spec;
    if (!promotionTemplate) return { ...stage, spec: rest };
    const inflated = inflateTasks(promotionTemplate.spec.steps, tasks);
    for (const p of inflated.problems) {
      problems.push({
        document: stage.document,
        resource: `Stage/${stage.name}`,
        path: formatPath('spec.promotionTemplate.spec.steps', p.path),
        message: p.message,
      });
    }
    return { ...stage, spec: { ...rest, promotionTemplate: { spec: { ...promotionTemplate.spec, steps: inflated.steps } } } };
  });

  problems.push(...crossCheck(warehouses, runnable, declared));
  if (problems.length > 0) throw new ManifestValidationError(problems);
  return {
    project,
    warehouses: warehouses.map(({ name, spec }) => ({ name, spec })),
    stages: runnable.map(({ name, spec, labels }) => ({ name, spec, ...(labels ? { labels } : {}) })),
    ...(projectConfig ? { projectConfig: projectConfig.spec } : {}),
  };
}

/** `AnalysisTemplate smoke declares it` / `AnalysisTemplates smoke and slo declare it`. */
function argOwners(templates: { name: string; spec: AnalysisTemplateSpec }[], arg: string): string {
  const names = templates.filter(t => t.spec.args?.some(a => a.name === arg)).map(t => t.name);
  return names.length === 1
    ? `AnalysisTemplate ${names[0]} declares it`
    : `AnalysisTemplates ${names.slice(0, -1).join(', ')} and ${names[names.length - 1]} declare it`;
}

/** Checks between documents: unique names, known origins and upstream stages, no cycles. */
type Located<T> = T & { document: number };

function crossCheck(
  warehouses: Located<WarehouseDefinition>[],
  stages: Located<StageDefinition>[],
  declared: Set<string>,
): ManifestProblem[] {
  const problems: ManifestProblem[] = [];
  const docOf = (d: Located<unknown>) => d.document;

  const seen = new Map<string, number>();
  for (const [kind, defs] of [['Warehouse', warehouses], ['Stage', stages]] as const) {
    for (const d of defs) {
      const key = `${kind}/${d.name}`;
      if (seen.has(key)) {
        problems.push({
          document: docOf(d),
          resource: key,
          path: 'metadata.name',
          message: `${key} is already defined in document ${seen.get(key)}`,
        });
      } else seen.set(key, docOf(d));
    }
  }

  const stageByName = new Map(stages.map(s => [s.name, s]));
  for (const stage of stages) {
    stage.spec.requestedFreight.forEach((rf, i) => {
      const at = `spec.requestedFreight[${i}]`;
      if (!declared.has(`Warehouse/${rf.origin.name}`)) {
        problems.push({
          document: docOf(stage),
          resource: `Stage/${stage.name}`,
          path: `${at}.origin.name`,
          message: `names Warehouse "${rf.origin.name}", which is not in this set of manifests`,
        });
      }
      (rf.sources.stages ?? []).forEach((up, j) => {
        const upstream = stageByName.get(up);
        const path = `${at}.sources.stages[${j}]`;
        if (!upstream) {
          if (declared.has(`Stage/${up}`)) return; // that document has problems of its own
          problems.push({ document: docOf(stage), resource: `Stage/${stage.name}`, path, message: `names Stage "${up}", which is not in this set of manifests` });
        } else if (up === stage.name) {
          problems.push({ document: docOf(stage), resource: `Stage/${stage.name}`, path, message: 'a stage cannot take freight from itself' });
        } else if (!upstream.spec.requestedFreight.some(u => u.origin.name === rf.origin.name)) {
          problems.push({
            document: docOf(stage),
            resource: `Stage/${stage.name}`,
            path,
            message: `Stage "${up}" does not request freight from Warehouse "${rf.origin.name}"`,
          });
        }
      });
    });
  }

  const cycle = findCycle(stages);
  if (cycle) {
    const first = stageByName.get(cycle[0])!;
    problems.push({
      document: docOf(first),
      resource: `Stage/${first.name}`,
      path: 'spec.requestedFreight',
      message: `stages form a cycle: ${cycle.join(' -> ')}`,
    });
  }
  return problems;
}

function findCycle(stages: StageDefinition[]): string[] | undefined {
  const upstreams = new Map(
    stages.map(s => [s.name, s.spec.requestedFreight.flatMap(rf => rf.sources.stages ?? [])]),
  );
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const visit = (n: string): string[] | undefined => {
    if (state.get(n) === 'done' || !upstreams.has(n)) return undefined;
    if (state.get(n) === 'visiting') return [...stack.slice(stack.indexOf(n)), n];
    state.set(n, 'visiting');
    stack.push(n);
    for (const up of upstreams.get(n)!) {
      if (up === n) continue; // reported separately
      const c = visit(up);
      if (c) return c;
    }
    stack.pop();
    state.set(n, 'done');
    return undefined;
  };
  for (const s of stages) {
    const c = visit(s.name);
    if (c) return c;
  }
  return undefined;
}

/** Stage names in pipeline order: each stage after every stage it takes freight from. */
export function pipelineOrder(stages: { name: string; spec: Pick<StageSpec, 'requestedFreight'> }[]): string[] {
  const byName = new Map(stages.map(s => [s.name, s]));
  const out: string[] = [];
  const done = new Set<string>();
  const visit = (n: string, path: Set<string>) => {
    if (done.has(n) || path.has(n) || !byName.has(n)) return;
    path.add(n);
    for (const rf of byName.get(n)!.spec.requestedFreight) {
      for (const up of rf.sources.stages ?? []) visit(up, path);
    }
    path.delete(n);
    done.add(n);
    out.push(n);
  };
  for (const s of stages) visit(s.name, new Set());
  return out;
}
