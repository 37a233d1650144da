import type { Measurement, MetricResult, VerificationPhase } from '@stagecoach/plugin-stagecoach-common';
import { parseDuration } from '../util/duration';
import type { AnalysisTick, MeasureContext, Metric, MetricProvider, ResolvedAnalysis } from './types';

/**
 * Runs an analysis one tick at a time, as Argo Rollouts' AnalysisRun controller does: the
 * caller keeps the state (the metric results so far), calls `advanceAnalysis` when the last
 * tick's `nextAt` has come, and stores what it returns. Nothing here keeps time or state of
 * its own: time is `ctx.now()`, and all work outside is the providers'.
 *
 * Per metric: the first measurement is taken `initialDelay` after the analysis started; each
 * next one `interval` after the previous one finished (10s after an Error, which is retried
 * and not counted). Successful, Failed and Inconclusive measurements count towards `count`.
 * The metric is Failed once more than `failureLimit` measurements failed, Inconclusive once
 * more than `inconclusiveLimit` were inconclusive, Error once more than
 * `consecutiveErrorLimit` errored in a row, and Successful once `count` measurements are in.
 *
 * Overall: as soon as a metric that is not a dry run ends Failed, Error or Inconclusive, the
 * analysis ends with the worst of them (Failed, then Error, then Inconclusive) and every
 * other running measurement is stopped; when every metric is done, it is Successful.
 */

/** An errored measurement is retried after this long, whatever the interval (Rollouts' default). */
export const ERROR_RETRY_MS = 10_000;
/** A measurement left Running (a job) is looked at again after this long. */
export const RESUME_POLL_MS = 5_000;

const FINAL_METRIC_PHASES: ReadonlySet<MetricResult['phase']> = new Set([
  'Successful',
  'Failed',
  'Error',
  'Inconclusive',
  'Aborted',
]);
/** Worst first: the phase of an analysis that a metric ended. */
const DECISIVE: readonly MetricResult['phase'][] = ['Failed', 'Error', 'Inconclusive'];

export interface AnalysisState {
  /** When the analysis started (ISO-8601): initialDelay counts from here. */
  startedAt: string;
  /** The results of the last tick (none before the first). */
  metrics?: MetricResult[];
}

function providerName(metric: Metric): string {
  return Object.keys(metric.provider).find(k => (metric.provider as Record<string, unknown>)[k] !== undefined) ?? 'unknown';
}

function freshResult(metric: Metric): MetricResult {
  return {
    name: metric.name,
    provider: providerName(metric),
    phase: 'Pending',
    count: 0,
    successful: 0,
    failed: 0,
    inconclusive: 0,
    error: 0,
    consecutiveError: 0,
    ...(metric.dryRun ? { dryRun: true } : {}),
    measurements: [],
  };
}

function copyResult(r: MetricResult): MetricResult {
  return { ...r, measurements: r.measurements.map(m => ({ ...m })) };
}

function last(r: MetricResult): Measurement | undefined {
  return r.measurements[r.measurements.length - 1];
}

function ms(text: string | undefined): number {
  return text ? parseDuration(text) : 0;
}

/** When the metric's next measurement is due (ms since epoch), or undefined if none is. */
function dueAt(metric: Metric, r: MetricResult, startedAt: number): number | undefined {
  if (FINAL_METRIC_PHASES.has(r.phase) || r.count >= metric.count) return undefined;
  const prev = last(r);
  if (!prev) return startedAt + ms(metric.initialDelay);
  if (prev.phase === 'Running') return undefined;
  const finished = Date.parse(prev.finishedAt ?? prev.startedAt);
  return finished + (prev.phase === 'Error' ? ERROR_RETRY_MS : ms(metric.interval));
}

/** A measurement as kept: timestamps filled in, and nothing but its own fields. */
function settle(m: Measurement, startedAt: Date, now: Date): Measurement {
  const out: Measurement = {
    phase: m.phase,
    startedAt: m.startedAt ?? startedAt.toISOString(),
  };
  if (m.value !== undefined) out.value = typeof m.value === 'string' ? m.value : JSON.stringify(m.value);
  if (m.message) out.message = m.message;
  if (m.phase !== 'Running') out.finishedAt = m.finishedAt ?? now.toISOString();
  if (m.metadata && Object.keys(m.metadata).length) out.metadata = { ...m.metadata };
  return out;
}

function failedWith(message: string, startedAt: Date, now: Date, base?: Measurement): Measurement {
  return {
    ...(base?.metadata ? { metadata: base.metadata } : {}),
    phase: 'Error',
    message,
    startedAt: base?.startedAt ?? startedAt.toISOString(),
    finishedAt: now.toISOString(),
  };
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Runs (or resumes) one measurement; a provider that throws gives an Error measurement. */
async function takeMeasurement(
  provider: MetricProvider | undefined,
  providerLabel: string,
  metric: Metric,
  running: Measurement | undefined,
  ctx: MeasureContext,
): Promise<Measurement> {
  const startedAt = ctx.now();
  if (!provider) {
    return failedWith(`no metric provider named ${providerLabel} is installed`, startedAt, ctx.now(), running);
  }
  try {
    let m: Measurement;
    if (running) {
      if (!provider.resume) {
        return failedWith(`the ${provider.name} provider cannot resume a running measurement`, startedAt, ctx.now(), running);
      }
      m = await provider.resume(ctx, metric, running);
    } else {
      m = await provider.run(ctx, metric);
    }
    if (!m || typeof m.phase !== 'string') {
      return failedWith(`the ${provider.name} provider returned no measurement`, startedAt, ctx.now(), running);
    }
    return settle(m, startedAt, ctx.now());
  } catch (e) {
    return failedWith(`the ${provider.name} provider failed: ${messageOf(e)}`, startedAt, ctx.now(), running);
  }
}

/** Counts a finished measurement into its metric's result, as Rollouts counts. */
function count(r: MetricResult, m: Measurement): void {
  switch (m.phase) {
    case 'Successful':
      r.successful++;
      r.count++;
      r.consecutiveError = 0;
      break;
    case 'Failed':
      r.failed++;
      r.count++;
      r.consecutiveError = 0;
      break;
    case 'Inconclusive':
      r.inconclusive++;
      r.count++;
      r.consecutiveError = 0;
      break;
    case 'Error':
      r.error++;
      r.consecutiveError++;
      break;
    default:
      break;
  }
}

function lastWith(r: MetricResult, phase: Measurement['phase']): Measurement | undefined {
  for (let i = r.measurements.length - 1; i >= 0; i--) if (r.measurements[i].phase === phase) return r.measurements[i];
  return undefined;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** The metric's phase from its counts, and why, in words. */
function assess(metric: Metric, r: MetricResult): { phase: MetricResult['phase']; message?: string } {
  if (FINAL_METRIC_PHASES.has(r.phase)) return { phase: r.phase, message: r.message };
  const prev = last(r);
  if (!prev) return { phase: 'Pending' };
  if (prev.phase === 'Running') return { phase: 'Running', message: prev.message };
  const detail = (m: Measurement | undefined) => (m?.message ? `: ${m.message}` : '');
  // Rollouts checks these in this order, a later one winning
  let verdict: { phase: MetricResult['phase']; message?: string } | undefined;
  if (r.failed > metric.failureLimit) {
    verdict = {
      phase: 'Failed',
      message: `${r.failed} of ${plural(r.count, 'measurement')} failed (failureLimit ${metric.failureLimit})${detail(lastWith(r, 'Failed'))}`,
    };
  }
  if (r.inconclusive > metric.inconclusiveLimit) {
    verdict = {
      phase: 'Inconclusive',
      message: `${r.inconclusive} of ${plural(r.count, 'measurement')} inconclusive (inconclusiveLimit ${metric.inconclusiveLimit})${detail(lastWith(r, 'Inconclusive'))}`,
    };
  }
  if (r.consecutiveError > metric.consecutiveErrorLimit) {
    verdict = {
      phase: 'Error',
      message: `${plural(r.consecutiveError, 'measurement')} in a row errored (consecutiveErrorLimit ${metric.consecutiveErrorLimit})${detail(lastWith(r, 'Error'))}`,
    };
  }
  if (verdict) return verdict;
  if (r.count >= metric.count) {
    const tolerated = [
      r.failed ? `${r.failed} failed (failureLimit ${metric.failureLimit})` : '',
      r.inconclusive ? `${r.inconclusive} inconclusive (inconclusiveLimit ${metric.inconclusiveLimit})` : '',
      r.error ? `${plural(r.error, 'error')} retried` : '',
    ].filter(Boolean);
    return {
      phase: 'Successful',
      message: `${r.successful} of ${plural(r.count, 'measurement')} successful${tolerated.length ? `; ${tolerated.join(', ')}` : ''}`,
    };
  }
  if (prev.phase === 'Error') {
    return {
      phase: 'Running',
      message: `last measurement errored, retrying (${r.consecutiveError} of ${metric.consecutiveErrorLimit} errors in a row tolerated)${detail(prev)}`,
    };
  }
  return { phase: 'Running' };
}

const VERB: Partial<Record<MetricResult['phase'], string>> = {
  Failed: 'failed',
  Error: 'errored',
  Inconclusive: 'was inconclusive',
  Aborted: 'was aborted',
};

function metricSentence(r: MetricResult): string {
  const verb = VERB[r.phase] ?? r.phase.toLowerCase();
  return `metric ${r.name} ${verb}${r.message ? `: ${r.message}` : ''}`;
}

/** Stops a measurement left Running; whatever happens, it ends finished. */
async function stop(
  provider: MetricProvider | undefined,
  metric: Metric,
  m: Measurement,
  reason: string,
  ctx: MeasureContext,
): Promise<Measurement> {
  const now = ctx.now();
  let outcome: Measurement | undefined;
  let problem: string | undefined;
  if (provider?.terminate) {
    try {
      outcome = await provider.terminate(ctx, metric, m);
    } catch (e) {
      problem = messageOf(e);
    }
  }
  const base = outcome && typeof outcome.phase === 'string' ? settle(outcome, now, ctx.now()) : { ...m };
  const stopped = `stopped: ${reason}${problem ? ` (stopping it failed: ${problem})` : ''}`;
  if (base.phase === 'Running' || base.phase === 'Successful' || base.phase === 'Inconclusive') {
    // a measurement cut short says nothing about the metric
    return { ...base, phase: 'Error', message: stopped, finishedAt: ctx.now().toISOString() };
  }
  return { ...base, finishedAt: base.finishedAt ?? ctx.now().toISOString() };
}

/** Stops everything still going: running measurements are terminated, unfinished metrics Aborted. */
async function stopAll(
  analysis: ResolvedAnalysis,
  results: MetricResult[],
  providers: ReadonlyMap<string, MetricProvider>,
  ctx: MeasureContext,
  reason: string,
): Promise<void> {
  await Promise.all(
    analysis.metrics.map(async (metric, i) => {
      const r = results[i];
      if (FINAL_METRIC_PHASES.has(r.phase)) return;
      const prev = last(r);
      if (prev?.phase === 'Running') {
        r.measurements[r.measurements.length - 1] = await stop(providers.get(r.provider), metric, prev, reason, {
          ...ctx,
          measurement: r.measurements.length,
        });
      }
      r.phase = 'Aborted';
      r.message = reason;
    }),
  );
}

function resultsFor(analysis: ResolvedAnalysis, state: AnalysisState): MetricResult[] {
  const byName = new Map((state.metrics ?? []).map(r => [r.name, r]));
  return analysis.metrics.map(m => {
    const kept = byName.get(m.name);
    return kept ? copyResult(kept) : freshResult(m);
  });
}

/**
 * One tick of an analysis: resumes running measurements, takes those that are due, and
 * judges each metric and the whole. Never throws for a provider's sake: a provider that
 * throws gives an Error measurement with its message.
 */
export async function advanceAnalysis(
  analysis: ResolvedAnalysis,
  state: AnalysisState,
  providers: ReadonlyMap<string, MetricProvider>,
  ctx: MeasureContext,
): Promise<AnalysisTick> {
  const results = resultsFor(analysis, state);
  const started = Date.parse(state.startedAt);
  const now = ctx.now().getTime();

  await Promise.all(
    analysis.metrics.map(async (metric, i) => {
      const r = results[i];
      if (FINAL_METRIC_PHASES.has(r.phase)) return;
      const prev = last(r);
      const provider = providers.get(r.provider);
      if (prev?.phase === 'Running') {
        const m = await takeMeasurement(provider, r.provider, metric, prev, { ...ctx, measurement: r.measurements.length });
        r.measurements[r.measurements.length - 1] = m;
        count(r, m);
      } else {
        const due = dueAt(metric, r, started);
        if (due === undefined || due > now) return;
        // numbered from 1 among the metric's measurements (a job's name carries it)
        const m = await takeMeasurement(provider, r.provider, metric, undefined, { ...ctx, measurement: r.measurements.length + 1 });
        r.measurements.push(m);
        count(r, m);
      }
    }),
  );

  for (const [i, metric] of analysis.metrics.entries()) {
    const verdict = assess(metric, results[i]);
    results[i].phase = verdict.phase;
    if (verdict.message) results[i].message = verdict.message;
    else delete results[i].message;
  }

  const deciding = results.filter(r => !r.dryRun && DECISIVE.includes(r.phase));
  if (deciding.length) {
    const worst = DECISIVE.find(p => deciding.some(r => r.phase === p))!;
    deciding.sort((a, b) => DECISIVE.indexOf(a.phase) - DECISIVE.indexOf(b.phase));
    const first = deciding[0];
    await stopAll(analysis, results, providers, ctx, `metric ${first.name} ${VERB[first.phase]}`);
    return { metrics: results, phase: worst as VerificationPhase, message: deciding.map(metricSentence).join('; ') };
  }

  if (results.every(r => FINAL_METRIC_PHASES.has(r.phase))) {
    const dry = results.filter(r => r.dryRun && DECISIVE.includes(r.phase));
    const deciders = results.filter(r => !r.dryRun).length;
    const message =
      (deciders ? `${plural(deciders, 'metric')} successful` : 'every metric is a dry run') +
      (dry.length ? `; dry run: ${dry.map(metricSentence).join('; ')}` : '');
    return { metrics: results, phase: 'Successful', message };
  }

  // next tick: the earliest time something is due
  const after = ctx.now().getTime();
  let next: number | undefined;
  for (const [i, metric] of analysis.metrics.entries()) {
    const r = results[i];
    if (FINAL_METRIC_PHASES.has(r.phase)) continue;
    const at = last(r)?.phase === 'Running' ? after + RESUME_POLL_MS : dueAt(metric, r, started);
    if (at !== undefined && (next === undefined || at < next)) next = at;
  }
  const waiting = results.filter(r => r.phase === 'Running' && r.message).map(r => `metric ${r.name}: ${r.message}`);
  return {
    metrics: results,
    phase: 'Running',
    ...(waiting.length ? { message: waiting.join('; ') } : {}),
    nextAt: new Date(Math.max(next ?? after + RESUME_POLL_MS, after)).toISOString(),
  };
}

/**
 * Aborts an analysis: every running measurement is terminated (through its provider), every
 * metric not done yet is Aborted, and so is the analysis. Metrics already done keep their phase.
 */
export async function abortAnalysis(
  analysis: ResolvedAnalysis,
  state: AnalysisState,
  providers: ReadonlyMap<string, MetricProvider>,
  ctx: MeasureContext,
  reason = 'the verification was aborted',
): Promise<AnalysisTick> {
  const results = resultsFor(analysis, state);
  await stopAll(analysis, results, providers, ctx, reason);
  return { metrics: results, phase: 'Aborted', message: reason };
}
