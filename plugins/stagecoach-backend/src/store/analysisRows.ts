/**
 * What a verification runs, as stored with it (`analysis_json`): the stage's AnalysisTemplates
 * merged and their args applied when the verification is created; a worker runs what is stored.
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
  provider: {
    web?: Record<string, unknown>;
    prometheus?: Record<string, unknown>;
    job?: Record<string, unknown>;
  };
}

/** What a verification runs: its metrics (the merged templates, args applied). */
export interface ResolvedAnalysis {
  templates: string[];
  args: Record<string, string>;
  metrics: Metric[];
}
