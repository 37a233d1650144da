import type { Measurement, MetricResult, VerificationPhase } from '@stagecoach/plugin-stagecoach-common';
import type { EgressPolicy } from '../integrations/http/egress';
import type { KubeClusters } from '../integrations/kubernetes/types';
import type { VerificationCredentials } from './credentials';
import type { Logger } from '../util/types';
import type { JobSettings } from './jobSettings';

/**
 * Verification: Argo Rollouts AnalysisTemplates, merged per stage and run as one analysis.
 * The manifests side (schemas, merging, args) is in `analysisTemplate.ts`; running an
 * analysis one tick at a time is `analysisRun.ts`; metric providers are in `providers/`.
 */

/** A metric as the analysis runs it: args substituted (`{{args.name}}`), defaults applied. */
export interface Metric {
  name: string;
  /** Go duration between measurements (`30s`), if more than one is taken. */
  interval?: string;
  initialDelay?: string;
  /** Measurements to take (default 1). */
  count: number;
  successCondition?: string;
  failureCondition?: string;
  /** Failed measurements tolerated (default 0): one more fails the metric. */
  failureLimit: number;
  inconclusiveLimit: number;
  /** Errors in a row tolerated (default 4). */
  consecutiveErrorLimit: number;
  dryRun?: boolean;
  /** Exactly one provider (web, prometheus or job), its config as written, args substituted. */
  provider: { web?: Record<string, unknown>; prometheus?: Record<string, unknown>; job?: Record<string, unknown> };
}

/** What a verification runs: its metrics (the merged templates, args applied). */
export interface ResolvedAnalysis {
  templates: string[];
  args: Record<string, string>;
  metrics: Metric[];
}

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
