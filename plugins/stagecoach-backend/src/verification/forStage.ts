import type { StoredStage } from '../store/PipelineStore';
import { resolveAnalysis, VerificationConfigError } from './args';
import type { ResolvedAnalysis } from './types';

/**
 * What a new verification of a stage runs: its merged AnalysisTemplates with the stage's
 * args applied, or why it cannot run (an arg whose expression fails). No templates: no
 * metrics, and the stage is verified once it is healthy.
 */
export function analysisForStage(stage: StoredStage): { templates: string[]; analysis?: ResolvedAnalysis; error?: string } {
  const v = stage.spec.verification;
  const templates = (v?.analysisTemplates ?? []).map(t => t.name);
  if (!v?.analysis) return { templates, analysis: { templates, args: {}, metrics: [] } };
  const vars = Object.fromEntries((stage.spec.vars ?? []).map(x => [x.name, x.value]));
  try {
    return { templates, analysis: resolveAnalysis(templates, v.analysis, v, { project: stage.project, stage: stage.name, vars }) };
  } catch (e) {
    if (e instanceof VerificationConfigError) return { templates, error: `the verification cannot run: ${e.message}` };
    throw e;
  }
}
