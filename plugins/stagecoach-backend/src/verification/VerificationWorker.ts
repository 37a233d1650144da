import { randomUUID } from 'node:crypto';
import os from 'node:os';
import type { Knex } from 'knex';
import { NotFoundError } from '@backstage/errors';
import type { MetricResult, StageHealth, VerificationPhase } from '@stagecoach/plugin-stagecoach-common';
import type { EgressPolicy } from '../integrations/http/egress';
import type { KubeClusters } from '../integrations/kubernetes/types';
import type { FreightStore } from '../store/FreightStore';
import type { PipelineStore, StoredStage } from '../store/PipelineStore';
import type { ClaimedVerification, VerificationStore } from '../store/VerificationStore';
import { redactSecrets, redactValues } from '../util/secrets';
import { Clock, Logger } from '../util/types';
import { abortAnalysis, advanceAnalysis } from './analysisRun';
import type { VerificationCredentials } from './credentials';
import type { JobSettings } from './jobSettings';
import type { AnalysisTick, MeasureContext, MetricProvider } from './types';

/**
 * Measurements as they are stored and shown: credentials in URLs and Authorization headers
 * that a check's answer or a job's log carried, and the configured credentials' values, are
 * blanked out.
 */
export function scrubbed(metrics: MetricResult[], secrets: readonly string[] = []): MetricResult[] {
  const clean = (text: string) => redactValues(redactSecrets(text), secrets);
  return metrics.map(m => ({
    ...m,
    ...(m.message ? { message: clean(m.message) } : {}),
    measurements: m.measurements.map(x => ({
      ...x,
      ...(x.message ? { message: clean(x.message) } : {}),
      ...(x.value ? { value: clean(x.value) } : {}),
      ...(x.metadata ? { metadata: Object.fromEntries(Object.entries(x.metadata).map(([k, val]) => [k, clean(val)])) } : {}),
    })),
  }));
}

/**
 * How the worker learns whether a stage is healthy (stages/StageHealthMonitor): a verification
 * starts once its stage is Healthy. Only what the worker asks, so verification needs no stages/ code.
 */
export interface StageHealthCheck {
  check(stage: StoredStage): Promise<StageHealth | undefined>;
}

export interface VerificationWorkerOptions {
  verifications: VerificationStore;
  pipelines: PipelineStore;
  freight: FreightStore;
  health: StageHealthCheck;
  providers: ReadonlyMap<string, MetricProvider>;
  kube: KubeClusters;
  /** Where job metrics run. */
  /** Where job metrics may run, and with which service accounts (app-config `stagecoach.verification.jobs`). */
  jobs: JobSettings;
  fetch?: typeof fetch;
  /** Where the web and prometheus metrics may send requests (default: production's policy). */
  egress?: EgressPolicy;
  /** The most a measurement's value may take (default 64 KiB). */
  maxResultBytes?: number;
  /** Headers for the web and prometheus metrics, per URL prefix (app-config). */
  credentials?: VerificationCredentials;
  clock: Clock;
  logger: Logger;
  /** How often an idle worker looks for due verifications (default 2 s). */
  pollIntervalMs?: number;
  /** How long a claim holds while a tick runs (default 2 min: longer than any one measurement). */
  claimTtlMs?: number;
  /** How often a verification waiting for its stage to be healthy looks again (default 10 s). */
  healthPollMs?: number;
  /** Verifications advanced side by side in one tick (default 8). */
  concurrency?: number;
  /** Told when a verification ends (any final phase). Must not throw. */
  onFinished?: (v: { id: string; project: string; stage: string; phase: VerificationPhase }) => void;
}

/**
 * Runs verifications a tick at a time. Each tick claims the verifications that are due:
 * a Pending one checks its stage's health and starts once the stage is Healthy; a Running
 * one takes the measurements that are due (or looks again at a running job) and is let go
 * until its next measurement. No worker is held between measurements, so one verification
 * measuring every five minutes costs nothing in between, a long one never delays another
 * stage, and backends sharing a database share the work (claims are conditional updates;
 * an expired claim is simply claimed again).
 */
export class VerificationWorker {
  readonly id = `${os.hostname()}:${process.pid}:verify:${randomUUID().slice(0, 8)}`;
  private stopped = true;
  private timer?: NodeJS.Timeout;
  private ticking?: Promise<void>;
  private wakeAgain = false;
  /** The earliest time a verification this worker let go of is due again (ms), within this tick. */
  private soonest?: number;

  constructor(private readonly options: VerificationWorkerOptions) {}

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.schedule(0);
  }

  /** Looks for due verifications now (one was created or asked to abort). */
  wake(): void {
    if (this.stopped) return;
    if (this.ticking) {
      this.wakeAgain = true;
      return;
    }
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.ticking;
  }

  private schedule(ms: number) {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.ticking = this.tick()
        .then(() => undefined)
        .catch(e => this.options.logger.error(`verification worker: ${e instanceof Error ? e.message : e}`))
        .finally(() => {
          this.ticking = undefined;
          if (this.stopped) return;
          const again = this.wakeAgain;
          this.wakeAgain = false;
          // a measurement due before the next poll (a short interval) is taken when it is due
          const poll = this.options.pollIntervalMs ?? 2000;
          const dueIn = this.soonest === undefined ? poll : this.soonest - this.options.clock.now().getTime();
          this.soonest = undefined;
          this.schedule(again ? 0 : Math.max(0, Math.min(poll, dueIn)));
        });
    }, ms);
    this.timer.unref();
  }

  private now(): string {
    return this.options.clock.now().toISOString();
  }

  /** One pass: claims what is due and advances each. Returns how many were advanced. */
  async tick(): Promise<number> {
    const { verifications } = this.options;
    const max = this.options.concurrency ?? 8;
    const claimed = await verifications.claimDue(this.id, this.now(), this.options.claimTtlMs ?? 120_000, max);
    // a full batch: more may be due already, and the next tick comes at once
    if (claimed.length === max) this.wakeAgain = true;
    await Promise.all(
      claimed.map(v =>
        this.advance(v).catch(e =>
          // the claim runs out and the next tick tries again
          this.options.logger.warn(`verification ${v.id} of ${v.project}/${v.stage}: ${e instanceof Error ? e.message : e}`),
        ),
      ),
    );
    return claimed.length;
  }

  private context(v: ClaimedVerification): MeasureContext {
    return {
      project: v.project,
      stage: v.stage,
      verificationId: v.id,
      fetch: this.options.fetch ?? globalThis.fetch,
      kube: this.options.kube,
      // the job provider picks the namespace: the project's by default (as Kargo), as app-config allows
      jobs: this.options.jobs,
      logger: this.options.logger,
      now: () => this.options.clock.now(),
      credentials: this.options.credentials,
      egress: this.options.egress,
      maxResultBytes: this.options.maxResultBytes,
    };
  }

  private async advance(v: ClaimedVerification): Promise<void> {
    const ctx = this.context(v);
    if (v.abortRequestedBy) {
      const message = `aborted by ${v.abortRequestedBy}`;
      if (v.phase === 'Running') {
        const tick = await abortAnalysis(v.analysis, { startedAt: v.startedAt!, metrics: v.metrics }, this.options.providers, ctx);
        await this.end(v, 'Aborted', message, tick.metrics);
      } else await this.end(v, 'Aborted', message, v.metrics);
      return;
    }
    let startedAt = v.startedAt;
    if (v.phase === 'Pending') {
      let stage;
      try {
        stage = await this.options.pipelines.getStage(v.project, v.stage);
      } catch (e) {
        if (!(e instanceof NotFoundError)) throw e;
        await this.end(v, 'Aborted', 'the stage was removed from the project');
        return;
      }
      if (stage.currentFreightId !== v.freightId) {
        await this.end(v, 'Aborted', 'the freight is no longer in the stage: a newer promotion replaced it');
        return;
      }
      const health = await this.options.health.check(stage);
      if (health?.status !== 'Healthy') {
        const why = health ? `${health.status}: ${health.reason}` : 'no promotion has run';
        await this.options.verifications.progress(
          v,
          { phase: 'Pending', message: `waiting for the stage to be healthy (${why})`, nextAt: this.later(this.options.healthPollMs ?? 10_000) },
          this.now(),
        );
        return;
      }
      if (v.analysis.metrics.length === 0) {
        await this.end(v, 'Successful', 'the stage has no AnalysisTemplates: verified once it was healthy');
        return;
      }
      startedAt = this.now();
    }
    const tick: AnalysisTick = await advanceAnalysis(v.analysis, { startedAt: startedAt!, metrics: v.metrics }, this.options.providers, ctx);
    if (tick.phase === 'Pending' || tick.phase === 'Running') {
      const nextAt = tick.nextAt ?? this.later(5000);
      if (await this.options.verifications.progress(v, { phase: 'Running', message: tick.message, metrics: scrubbed(tick.metrics, this.secrets()), startedAt, nextAt }, this.now())) {
        this.soonest = Math.min(this.soonest ?? Infinity, Date.parse(nextAt));
      }
      return;
    }
    await this.end(v, tick.phase, tick.message, tick.metrics, startedAt);
  }

  private secrets(): string[] {
    return this.options.credentials?.secretValues() ?? [];
  }

  private later(ms: number): string {
    return new Date(this.options.clock.now().getTime() + ms).toISOString();
  }

  private async end(v: ClaimedVerification, phase: VerificationPhase, message?: string, metrics?: MetricResult[], startedAt?: string) {
    const now = this.now();
    const text = message ? redactValues(redactSecrets(message), this.secrets()) : undefined;
    const ended = await this.options.verifications.finish(
      v,
      { phase, message: text, metrics: metrics && scrubbed(metrics, this.secrets()), startedAt },
      now,
      async (tx: Knex.Transaction) => {
        await this.options.freight.markVerified(v.project, v.freightId, v.stage, now, tx);
      },
    );
    if (!ended) return;
    this.options.logger.info(`verification ${v.id} of ${v.project}/${v.stage}: ${phase}${text ? ` (${text})` : ''}`);
    this.options.onFinished?.({ id: v.id, project: v.project, stage: v.stage, phase });
  }
}
