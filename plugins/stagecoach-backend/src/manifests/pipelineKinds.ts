import type { ManifestExtension, ManifestKind } from './ManifestExtension';
import { stepExpressionProblems, templateProblems } from '../expressions/templateProblems';
import { DocumentProblem, formatPath, zodProblems } from './problems';
import { ProjectConfigSpec, projectConfigSpecSchema } from './projectConfig';
import { duplicateAliases } from './promotionTasks';
import {
  KARGO_API_VERSION,
  PromotionTaskSpec,
  promotionTaskSpecSchema,
  StageDocumentSpec,
  stageSpecSchema,
  WarehouseSpec,
  warehouseSpecSchema,
} from './schemas';

/**
 * Kargo's pipeline documents, the ones a project stores (PromotionTasks are inflated into the
 * stages that call them): Warehouse, Stage, PromotionTask and ProjectConfig, in the order the
 * API names them. A Warehouse takes the subscription kinds features bring, a Stage the fields
 * they add, and every step the features' checks.
 */
export interface PipelineKinds {
  warehouse: ManifestKind<WarehouseSpec>;
  stage: ManifestKind<StageDocumentSpec>;
  promotionTask: ManifestKind<PromotionTaskSpec>;
  projectConfig: ManifestKind<ProjectConfigSpec>;
}

/** Problems of the `${{ }}` expressions under these fields of a spec (vars, verification args), paths from `spec`. */
function expressionProblemsAt(spec: object, ...fields: string[][]): DocumentProblem[] {
  return fields.flatMap(field => {
    let value: unknown = spec;
    for (const key of field) value = value && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined;
    return templateProblems(value, field).map(p => ({ path: formatPath('spec', p.path), message: p.message }));
  });
}

export function pipelineKinds(
  extensions: readonly ManifestExtension[],
): PipelineKinds {
  const warehouseSchema = warehouseSpecSchema(
    extensions.flatMap(e => e.subscriptionKinds ?? []),
  );
  const stageSchema = stageSpecSchema.extend(
    Object.assign({}, ...extensions.map(e => e.stageFields ?? {})),
  );

  /** The features' problems with the `uses` steps of a list, paths under `at`. */
  const stepProblems = (
    steps: { uses?: string; config?: Record<string, unknown> }[],
    at: string,
  ) => {
    const problems: DocumentProblem[] = [];
    steps.forEach((step, i) => {
      for (const p of stepExpressionProblems(step)) {
        problems.push({ path: formatPath(`${at}[${i}]`, p.path), message: p.message });
      }
      if (!step.uses) return; // a task's steps are checked in the PromotionTask's document
      for (const extension of extensions) {
        for (const p of extension.checkStep?.({
          uses: step.uses,
          config: step.config ?? {},
        }) ?? []) {
          problems.push({
            path: formatPath(`${at}[${i}]`, p.path),
            message: p.message,
          });
        }
      }
    });
    return problems;
  };

  /** Steps of a list that share an alias, paths under `at`. */
  const aliasProblems = (steps: { as?: string; task?: unknown }[], at: string): DocumentProblem[] =>
    duplicateAliases(steps).map(p => ({ path: formatPath(at, p.path), message: p.message }));

  return {
    warehouse: {
      apiVersion: KARGO_API_VERSION,
      kind: 'Warehouse',
      namespaced: true,
      read: ({ spec }) => {
        const parsed = warehouseSchema.safeParse(spec);
        return parsed.success
          ? { spec: parsed.data, problems: [] }
          : { problems: zodProblems('spec', parsed.error) };
      },
    },
    stage: {
      apiVersion: KARGO_API_VERSION,
      kind: 'Stage',
      namespaced: true,
      read: ({ spec }) => {
        const parsed = stageSchema.safeParse(spec);
        if (!parsed.success)
          return { problems: zodProblems('spec', parsed.error) };
        const data = parsed.data as StageDocumentSpec;
        return {
          spec: data,
          problems: [
            ...stepProblems(data.promotionTemplate?.spec.steps ?? [], 'spec.promotionTemplate.spec.steps'),
            ...aliasProblems(data.promotionTemplate?.spec.steps ?? [], 'spec.promotionTemplate.spec.steps'),
            ...expressionProblemsAt(data, ['vars'], ['promotionTemplate', 'spec', 'vars'], ['verification', 'args']),
          ],
        };
      },
    },
    promotionTask: {
      apiVersion: KARGO_API_VERSION,
      kind: 'PromotionTask',
      namespaced: true,
      read: ({ spec }) => {
        const parsed = promotionTaskSpecSchema.safeParse(spec);
        if (!parsed.success)
          return { problems: zodProblems('spec', parsed.error) };
        return {
          spec: parsed.data,
          problems: [
            ...stepProblems(parsed.data.steps, 'spec.steps'),
            ...aliasProblems(parsed.data.steps, 'spec.steps'),
            ...expressionProblemsAt(parsed.data, ['vars']),
          ],
        };
      },
    },
    projectConfig: {
      apiVersion: KARGO_API_VERSION,
      kind: 'ProjectConfig',
      namespaced: true,
      read: ({ name, spec }, { project, earlier }) => {
        const problems: DocumentProblem[] = [];
        if (name !== project) {
          problems.push({
            path: 'metadata.name',
            message: `is "${name}" but a ProjectConfig is named after its project: "${project}"`,
          });
        }
        const parsed = projectConfigSpecSchema.safeParse(spec ?? {});
        if (!parsed.success)
          return {
            problems: [...problems, ...zodProblems('spec', parsed.error)],
          };
        if (earlier.length > 0) {
          problems.push({
            path: 'kind',
            message: `a project has one ProjectConfig; document ${earlier[0].document} is one already`,
          });
          return { problems };
        }
        return { spec: parsed.data, problems };
      },
    },
  };
}
