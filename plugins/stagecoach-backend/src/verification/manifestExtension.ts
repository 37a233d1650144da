import type { ManifestProblem } from '@stagecoach/plugin-stagecoach-common';
import type {
  KeptDocument,
  ManifestExtension,
  ManifestKind,
  ReadSet,
} from '../manifests/ManifestExtension';
import { formatPath, zodProblems } from '../manifests/problems';
import type { StageDocumentSpec } from '../manifests/schemas';
import {
  ANALYSIS_API_VERSION,
  AnalysisTemplateSpec,
  analysisTemplateSpecSchemaFor,
  mergeTemplates,
  ModuleProviderSchemas,
  StageVerification,
  stageVerificationSchema,
} from './analysisTemplate';
import { JobSettings, templateJobProblems } from './jobSettings';

/**
 * What verification adds to the manifests: Argo Rollouts' AnalysisTemplates (and
 * ClusterAnalysisTemplates) as documents of the set, a Stage's `spec.verification` naming
 * them, and, once the set is read, each stage's templates merged into the one analysis its
 * verifications run (as Kargo merges them into one AnalysisRun).
 */

/**
 * A stage's `spec.verification` as stored: the named AnalysisTemplates merged into `analysis`
 * when the manifests were applied (as PromotionTasks are inflated into the steps).
 */
export type StoredStageVerification = StageVerification & {
  analysis?: AnalysisTemplateSpec;
};

declare module '../manifests/schemas' {
  interface StageSpecExtensions {
    verification?: StoredStageVerification;
  }
}

/**
 * @param jobs where job metrics may run, and with which service accounts (app-config; default: Kargo's)
 * @param providers the config schemas of the providers modules add, which metrics may name beside the built-in ones
 */
export function verificationManifestExtension(
  jobs: JobSettings,
  providers: ModuleProviderSchemas = new Map(),
): ManifestExtension {
  // built once: a set of manifests is checked against it on every apply
  const specSchema = analysisTemplateSpecSchemaFor(providers);
  return {
    kinds: [
      analysisKind('AnalysisTemplate', jobs, specSchema),
      analysisKind('ClusterAnalysisTemplate', jobs, specSchema),
    ],
    stageFields: { verification: stageVerificationSchema.optional() },
    resolveStage: mergeVerification,
  };
}

function analysisKind(
  kind: 'AnalysisTemplate' | 'ClusterAnalysisTemplate',
  jobs: JobSettings,
  specSchema: ReturnType<typeof analysisTemplateSpecSchemaFor>,
): ManifestKind<AnalysisTemplateSpec> {
  return {
    apiVersion: ANALYSIS_API_VERSION,
    kind,
    // a ClusterAnalysisTemplate has no namespace of its own in Kargo: any it names is not the project's
    namespaced: kind === 'AnalysisTemplate',
    foreignApiVersion: "AnalysisTemplates are Argo Rollouts' documents",
    read: ({ resource, name, spec }, { project, earlier }) => {
      const parsed = specSchema.safeParse(spec);
      if (!parsed.success)
        return { problems: zodProblems('spec', parsed.error) };
      // job metrics: the namespace app-config allows the project, and the pod policy
      const problems = templateJobProblems(
        parsed.data.metrics,
        project,
        jobs,
      ).map(p => ({
        path: formatPath('spec', p.path),
        message: p.message,
      }));
      const first = earlier.find(t => t.name === name);
      if (first) {
        problems.push({
          path: 'metadata.name',
          message: `${resource} is already defined in document ${first.document}`,
        });
        return { problems };
      }
      return { spec: parsed.data, problems };
    },
  };
}

/**
 * A stage's AnalysisTemplates, merged into the one analysis its verifications run; problems
 * name the stage's reference or the template's own document.
 */
function mergeVerification(
  stage: KeptDocument<StageDocumentSpec>,
  set: ReadSet,
) {
  const problems: ManifestProblem[] = [];
  const v = stage.spec.verification;
  const done = (verification: StoredStageVerification | undefined) => ({
    fields: verification ? { verification } : {},
    problems,
  });
  if (!v || v.analysisTemplates.length === 0) return done(v);
  const resource = `Stage/${stage.name}`;
  const template = (kind: string, name: string) =>
    (set.kept(kind) as KeptDocument<AnalysisTemplateSpec>[]).find(
      t => t.name === name,
    );
  const named: { name: string; spec: AnalysisTemplateSpec }[] = [];
  v.analysisTemplates.forEach((ref, i) => {
    const key = `${ref.kind}/${ref.name}`;
    const t = template(ref.kind, ref.name);
    if (t) named.push({ name: ref.name, spec: t.spec });
    else if (!set.declared.has(key)) {
      problems.push({
        document: stage.document,
        resource,
        path: `spec.verification.analysisTemplates[${i}].name`,
        message: `names ${ref.kind} "${ref.name}", which is not in this set of manifests`,
      });
    }
  });
  if (named.length !== v.analysisTemplates.length) return done(v); // reported above, or the template's own problems
  const merged = mergeTemplates(named);
  if (!merged.ok) {
    for (const p of merged.problems) {
      const ref = v.analysisTemplates.find(r => r.name === p.template)!;
      const key = `${ref.kind}/${p.template}`;
      problems.push({
        document: template(ref.kind, p.template)!.document,
        resource: key,
        path: formatPath('', p.path),
        message: `${p.message} (verifying ${resource})`,
      });
    }
    return done(v);
  }
  // an arg the templates declare without a default needs the stage's value
  const given = new Set((v.args ?? []).map(a => a.name));
  for (const arg of merged.spec.args ?? []) {
    if (arg.value === undefined && !given.has(arg.name)) {
      problems.push({
        document: stage.document,
        resource,
        path: 'spec.verification.args',
        message: `needs a value for "${arg.name}": ${argOwners(
          named,
          arg.name,
        )} without a default`,
      });
    }
  }
  return done({ ...v, analysis: merged.spec });
}

/** `AnalysisTemplate smoke declares it` / `AnalysisTemplates smoke and slo declare it`. */
function argOwners(
  templates: { name: string; spec: AnalysisTemplateSpec }[],
  arg: string,
): string {
  const names = templates
    .filter(t => t.spec.args?.some(a => a.name === arg))
    .map(t => t.name);
  return names.length === 1
    ? `AnalysisTemplate ${names[0]} declares it`
    : `AnalysisTemplates ${names.slice(0, -1).join(', ')} and ${
        names[names.length - 1]
      } declare it`;
}
