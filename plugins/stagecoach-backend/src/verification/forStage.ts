import type { ExprFunction } from '../expressions/expressions';
import type { StoredStage } from '../store/PipelineStore';
import { resolveAnalysis } from './args';
import type { ResolvedAnalysis } from './types';

/**
 * What a new verification of a stage runs: its merged AnalysisTemplates with the stage's
 * args applied, or why it cannot run (a VerificationConfigError: an arg whose expression
 * fails, a count that is not a number once substituted). No templates: no
 * metrics, and the stage is verified once it is healthy.
 */
export function analysisForStage(
  stage: StoredStage,
  /** `commitFrom`, `imageFrom`, … over the freight being verified. */
  functions?: Record<string, ExprFunction>,
): { templates: string[]; analysis?: ResolvedAnalysis; error?: string } {
  const v = stage.spec.verification;
  const templates = (v?.analysisTemplates ?? []).map(t => t.name);
  if (!v?.analysis) return { templates, analysis: { templates, args: {}, metrics: [] } };
  const vars = Object.fromEntries((stage.spec.vars ?? []).map(x => [x.name, x.value]));
  try {
    return { templates, analysis: resolveAnalysis(templates, v.analysis, v, { project: stage.project, stage: stage.name, vars, functions }) };
  } catch (e) {
    // recorded as the verification's Error: it runs inside the promotion's last transaction, which must not fail for it
    const message = e instanceof Error ? e.message : String(e);
    return { templates, error: `the verification cannot run: ${message}` };
  }
}
