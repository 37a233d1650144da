import type { Measurement, MetricResult, VerificationPhase } from '@stagecoach/plugin-stagecoach-common';
import type { VerificationProvider, VerificationProviderContext } from '@stagecoach/plugin-stagecoach-node';
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

/**
 * What a built-in provider needs besides the metric: the public context of
 * @stagecoach/plugin-stagecoach-node (what a module's provider may use) and the engine's own
 * fields (clusters, credentials, the egress policy). `request` and `measured` are the public
 * face of `exchange` and `judgedMeasurement`, which the built-in providers call with the
 * fields below; the adapter for modules' providers (providers/moduleProviders.ts) makes them
 * from these fields, with a signal and a measurement number of its own.
 */
export interface MeasureContext
  extends Omit<VerificationProviderContext, 'signal' | 'measurement' | 'request' | 'measured'> {
  fetch: typeof fetch;
  kube: KubeClusters;
  /** Where job metrics may run, and with which service accounts (app-config `stagecoach.verification.jobs`). */
  jobs: JobSettings;
  logger: Logger;
  signal?: AbortSignal;
  /** Headers from app-config for the web and prometheus metrics' URLs (default: none). */
  credentials?: VerificationCredentials;
  /** Where the web and prometheus metrics may send requests (default: production's egress policy). */
  egress?: EgressPolicy;
  /** The most a measured value may take, as text (default 64 KiB). */
  maxResultBytes?: number;
  /** Which measurement of the metric this is, from 1 (the one run, resumed or stopped). */
  measurement?: number;
}

/**
 * A metric provider as the engine runs it: web, prometheus, job, and those modules add
 * (providers/moduleProviders.ts makes their public VerificationProvider one of these).
 */
export interface MetricProvider
  extends Omit<VerificationProvider, 'description' | 'schema' | 'run' | 'resume' | 'terminate'> {
  /** What it measures, for messages. */
  description?: string;
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
