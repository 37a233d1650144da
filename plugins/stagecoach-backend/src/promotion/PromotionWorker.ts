import { randomUUID } from 'node:crypto';
import os from 'node:os';
import { PromotionStore } from '../store/PromotionStore';
import { Clock, Logger } from '../util/types';
import { PromotionRunner } from './PromotionRunner';

export interface PromotionWorkerOptions {
  promotions: PromotionStore;
  runner: PromotionRunner;
  clock: Clock;
  logger: Logger;
  /** How many promotions (of different stages) this process runs at once. */
  concurrency?: number;
  /** How often an idle worker looks for work. */
  pollIntervalMs?: number;
  /** A claim not renewed for this long is considered abandoned. */
  claimTtlMs?: number;
  /** Called once a promotion this worker ran, or ended as abandoned, is in a final phase. Must not throw. */
  onFinished?: (promotion: { id: string; project: string; stage: string }) => void;
}

/**
 * Claims pending promotions from the database and runs them. Several workers (in one
 * process or in several backend replicas sharing a database) never run the same promotion
 * or two promotions of one stage at once. A running promotion's claim is renewed while it
 * runs; one whose claim expired (its backend died) is ended as Errored, never left Running.
 */
export class PromotionWorker {
  readonly id = `${os.hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  private running = 0;
  private stopped = true;
  private timer?: NodeJS.Timeout;
  private readonly inFlight = new Set<Promise<unknown>>();
  private lastJanitor = 0;

  constructor(private readonly options: PromotionWorkerOptions) {}

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.wake();
  }

  /** Looks for work now (called when a promotion is created). */
  wake(): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.tick().catch(e => this.options.logger.error(`promotion worker: ${e}`)), 0);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await Promise.allSettled([...this.inFlight]);
  }

  /** Claims and starts as many promotions as capacity allows. Resolves once they are started. */
  async tick(): Promise<void> {
    const { promotions, clock } = this.options;
    const concurrency = this.options.concurrency ?? 4;
    const ttl = this.options.claimTtlMs ?? 60_000;
    try {
      if (clock.now().getTime() - this.lastJanitor > Math.min(ttl / 2, 15_000)) {
        this.lastJanitor = clock.now().getTime();
        await this.endAbandoned();
      }
      while (!this.stopped && this.running < concurrency) {
        const claimed = await promotions.claimNext(this.id, clock.now().toISOString(), ttl);
        if (!claimed) break;
        this.running++;
        const heartbeat = setInterval(() => {
          const expires = new Date(clock.now().getTime() + ttl).toISOString();
          promotions.heartbeat(claimed.id, this.id, expires).catch(() => undefined);
        }, Math.max(ttl / 4, 250));
        heartbeat.unref();
        const run = this.options.runner
          .run(claimed)
          .then(() => this.options.onFinished?.(claimed))
          .catch(e => this.options.logger.error(`promotion ${claimed.id} could not be run: ${e}`))
          .finally(() => {
            clearInterval(heartbeat);
            this.running--;
            this.inFlight.delete(run);
            this.wake();
          });
        this.inFlight.add(run);
      }
    } finally {
      if (!this.stopped) {
        clearTimeout(this.timer);
        this.timer = setTimeout(
          () => this.tick().catch(e => this.options.logger.error(`promotion worker: ${e}`)),
          this.options.pollIntervalMs ?? 1000,
        );
        this.timer.unref();
      }
    }
  }

  /** Waits until no promotion started by this worker is running (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  private async endAbandoned(): Promise<void> {
    const { promotions, clock, logger } = this.options;
    const now = clock.now().toISOString();
    for (const row of await promotions.expiredClaims(now)) {
      const message =
        `the backend running this promotion (${row.claimed_by}) stopped answering before it finished; ` +
        'check the stage\'s Git repository and promote again';
      logger.warn(`promotion ${row.id}: ${message}`);
      const ended = await promotions.finish(
        { id: row.id, project: row.project, stage: row.stage, freightId: row.freight_id },
        'Errored',
        message,
        now,
      );
      if (ended) this.options.onFinished?.({ id: row.id, project: row.project, stage: row.stage });
    }
  }
}
