import type { Measurement, MetricResult, VerificationPhase } from '@stagecoach/plugin-stagecoach-common';
import type { EgressPolicy } from '../integrations/http/egress';
import type { KubeClusters } from '../integrations/kubernetes/types';
import type { VerificationCredentials } from './credentials';
import type { Logger } from '../util/types';
import type { JobSettings } from './jobSettings';
import type { Metric } from '../store/analysisRows';

/**
 * Verification: Argo Rollouts AnalysisTemplates, merged per stage and run as one analysis.
 * The manifests side (schemas, merging, args) is in `analysisTemplate.ts`; running an
 * analysis one tick at a time is `analysisRun.ts`; metric providers are in `providers/`.
 */

// A verification's analysis is stored with it (analysis_json): the store owns its shape.
export type { Metric, ResolvedAnalysis } from '../store/analysisRows';

/** What a provider needs besides the metric. */
export interface MeasureContext {
  project: string;
  stage: string;
  verificationId: string;
  fetch: typeof fetch;
  kube: KubeClusters;
  /** Where job metrics may run, and with which service accounts (app-config `stagecoach.verification.jobs`). */
  jobs: JobSettings;
  logger: Logger;
  now(): Date;
  signal?: AbortSignal;
  /** Headers from app-config for the web and prometheus metrics' URLs (default: none). */
  credentials?: VerificationCredentials;
  /** Where the web and prometheus metrics may send requests (default: production's egress policy). */
  egress?: EgressPolicy;
  /** The most a measured value may take, as text (default 64 KiB). */
  maxResultBytes?: number;
  /** Which measurement of the metric this is, from 1 (set for run, not for resume). */
  measurement?: number;
}

/** A metric provider: web, prometheus, job. */
export interface MetricProvider {
  name: string;
  /**
   * Takes a measurement. Quick providers (web, prometheus) return it finished; job returns it
   * `Running` with metadata (the job's name) and is asked again through `resume`.
   */
  run(ctx: MeasureContext, metric: Metric): Promise<Measurement>;
  /** Looks again at a measurement left Running. */
  resume?(ctx: MeasureContext, metric: Metric, measurement: Measurement): Promise<Measurement>;
  /** Stops a Running measurement (the analysis was aborted). */
  terminate?(ctx: MeasureContext, metric: Metric, measurement: Measurement): Promise<Measurement>;
}

/** The outcome of one tick of an analysis. */
export interface AnalysisTick {
  metrics: MetricResult[];
  phase: VerificationPhase;
  message?: string;
  /** When the next tick is due (ISO-8601); undefined when the phase is final. */
  nextAt?: string;
}
