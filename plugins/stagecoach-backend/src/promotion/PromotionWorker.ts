import { randomUUID } from 'node:crypto';
import os from 'node:os';
import { ClaimedPromotion, PromotionStore } from '../store/PromotionStore';
import { Clock, Logger } from '../util/types';
import { PromotionRunner, RunControl, StopReason } from './PromotionRunner';

/** How often left-over work directories are looked for (see PromotionRunner.sweepWorkDirs). */
const WORK_DIR_SWEEP_MS = 10 * 60_000;

const STOP_WORDS: Record<StopReason, string> = {
  abort: 'promotion aborted',
  shutdown: 'promotion given back at shutdown',
  lost: 'promotion taken over by another worker',
};

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
  /**
   * How many times a promotion is started over after its backend died before it is ended
   * as Errored (default 3).
   */
  maxAttempts?: number;
  /** Called once a promotion this worker ran, or ended as abandoned, is in a final phase. Must not throw. */
  onFinished?: (promotion: { id: string; project: string; stage: string }) => void;
}

/**
 * Claims promotions from the database and runs them. Several workers (in one process or in
 * several backend replicas sharing a database) never run the same promotion or two
 * promotions of one stage at once. A running promotion's claim is renewed while it runs;
 * the renewal also carries abort requests. A promotion whose claim expired (its backend
 * died) is started over from its first step, up to maxAttempts times; steps are idempotent,
 * so a second run does not commit or push twice.
 */
export class PromotionWorker {
  readonly id = `${os.hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  private running = 0;
  private stopped = true;
  private timer?: NodeJS.Timeout;
  private readonly inFlight = new Set<Promise<unknown>>();
  private readonly controllers = new Map<string, { abort(reason: StopReason): void }>();
  private lastJanitor = 0;
  private lastSweep = 0;
  /** The tick under way: ticks never overlap (see tick). */
  private ticking?: Promise<void>;
  /** Work may have appeared while a tick was under way: the next tick comes at once. */
  private wakeAgain = false;

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

  /**
   * Stops claiming work. Promotions still running are given back to the queue (they start
   * over on any worker), so a rolling restart loses none and waits for none.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    // a claim the tick under way wins is started by it: give that one back too
    await this.ticking?.catch(() => undefined);
    for (const c of this.controllers.values()) c.abort('shutdown');
    await Promise.allSettled([...this.inFlight]);
  }

  /**
   * Claims and starts as many promotions as capacity allows. Resolves once they are started.
   * One tick at a time: every promotion that ends wakes the worker, and overlapping ticks
   * would race each other for the same candidates (and could claim past the concurrency).
   */
  tick(): Promise<void> {
    if (this.ticking) {
      this.wakeAgain = true;
      return this.ticking;
    }
    this.ticking = this.claimAndStart().finally(() => {
      this.ticking = undefined;
      if (this.stopped) return;
      const delay = this.wakeAgain ? 0 : this.options.pollIntervalMs ?? 1000;
      this.wakeAgain = false;
      clearTimeout(this.timer);
      this.timer = setTimeout(() => this.tick().catch(e => this.options.logger.error(`promotion worker: ${e}`)), delay);
      this.timer.unref();
    });
    return this.ticking;
  }

  private async claimAndStart(): Promise<void> {
    const { promotions, clock } = this.options;
    const concurrency = this.options.concurrency ?? 4;
    const ttl = this.options.claimTtlMs ?? 60_000;
    if (clock.now().getTime() - this.lastJanitor > Math.min(ttl / 2, 15_000)) {
      this.lastJanitor = clock.now().getTime();
      await this.recoverAbandoned();
    }
    if (clock.now().getTime() - this.lastSweep > WORK_DIR_SWEEP_MS) {
      this.lastSweep = clock.now().getTime();
      const removed = await this.options.runner.sweepWorkDirs().catch(e => {
        this.options.logger.warn(`could not clean up promotion work directories: ${e}`);
        return 0;
      });
      if (removed > 0) this.options.logger.info(`removed ${removed} work directories of promotions that ended elsewhere`);
    }
    while (!this.stopped && this.running < concurrency) {
      const claimed = await promotions.claimBatch(this.id, clock.now().toISOString(), ttl, concurrency - this.running);
      if (!claimed.length) break;
      for (const c of claimed) this.start1(c, ttl);
    }
  }

  /** Runs one claimed promotion in the background, renewing its claim until it returns. */
  private start1(claimed: ClaimedPromotion, ttl: number): void {
    const { promotions, clock, logger } = this.options;
    this.running++;
    const abort = new AbortController();
    let reason: StopReason | undefined;
    let abortedBy: string | undefined;
    const stop = (why: StopReason) => {
      if (reason) return;
      reason = why;
      abort.abort(new Error(STOP_WORDS[why]));
    };
    this.controllers.set(claimed.id, { abort: stop });
    const control: RunControl = { signal: abort.signal, reason: () => reason, abortedBy: () => abortedBy };
    const heartbeat = setInterval(() => {
      const expires = new Date(clock.now().getTime() + ttl).toISOString();
      promotions
        .heartbeat(claimed.id, this.id, expires)
        .then(s => {
          if (!s.held) stop('lost');
          else if (s.abortRequestedBy) {
            abortedBy = s.abortRequestedBy;
            stop('abort');
          }
        })
        .catch(() => undefined);
    }, Math.max(Math.min(ttl / 4, 5000), 100));
    heartbeat.unref();
    const run = this.options.runner
      .run(claimed, control)
      .then(outcome => {
        if (outcome === 'lost') logger.warn(`promotion ${claimed.id}: another worker took it over`);
        else if (outcome !== 'waiting' && outcome !== 'requeued') this.options.onFinished?.(claimed);
      })
      .catch(e => logger.error(`promotion ${claimed.id} could not be run: ${e}`))
      .finally(() => {
        clearInterval(heartbeat);
        this.controllers.delete(claimed.id);
        this.running--;
        this.inFlight.delete(run);
        this.wake();
      });
    this.inFlight.add(run);
  }

  /** Waits until no promotion started by this worker is running (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  /** Starts over the promotions whose backend stopped renewing its claim; ends those tried too often. */
  private async recoverAbandoned(): Promise<void> {
    const { promotions, clock, logger } = this.options;
    const maxAttempts = this.options.maxAttempts ?? 3;
    const now = clock.now().toISOString();
    for (const row of await promotions.expiredClaims(now)) {
      const who = row.claimed_by!;
      if (row.attempts < maxAttempts) {
        const message = `the backend running it (${who}) stopped answering: starting over (attempt ${row.attempts + 1} of ${maxAttempts})`;
        if (await promotions.requeue(row.id, { claimedBy: who, expiredBefore: now }, now, message)) {
          logger.warn(`promotion ${row.id}: ${message}`);
        }
        continue;
      }
      const message =
        `the backend running this promotion (${who}) stopped answering ${row.attempts} time${row.attempts === 1 ? '' : 's'}; ` +
        "check the stage's Git repository and promote again";
      const ended = await promotions.finish(
        { id: row.id, project: row.project, stage: row.stage, freightId: row.freight_id },
        'Errored',
        message,
        now,
        { claimedBy: who },
      );
      if (ended) {
        logger.warn(`promotion ${row.id}: ${message}`);
        this.options.onFinished?.({ id: row.id, project: row.project, stage: row.stage });
      }
    }
  }
}
