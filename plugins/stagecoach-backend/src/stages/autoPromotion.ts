import { randomUUID } from 'node:crypto';
import os from 'node:os';
import type { FreightStore, StoredFreight } from '../store/FreightStore';
import type { PipelineStore, StoredStage } from '../store/PipelineStore';
import { pipelineOrder } from '../manifests/parseManifests';
import type { Clock, Logger } from '../util/types';
import { freightInStage, PolicyContext, StagePolicies } from './StagePolicies';

/** The actor auto-promotions are created by. */
export const AUTO_PROMOTION_ACTOR = 'stagecoach:auto-promotion';

/** How long one replica may take to decide a stage's auto-promotion before another may. */
const LEASE_MS = 60_000;

type Requested = StoredStage['spec']['requestedFreight'][number];

/**
 * The freight auto-promotion would promote to a stage for one requested origin:
 * NewestFreight (the default), the newest freight available to the stage; MatchUpstream,
 * the freight now in the one upstream stage, when it is available to the stage.
 * `freightOfOrigin` is the origin's freight, newest first.
 */
export function autoPromotionCandidate(
  policies: StagePolicies,
  ctx: PolicyContext,
  stage: StoredStage,
  requested: Requested,
  freightOfOrigin: readonly StoredFreight[],
): StoredFreight | undefined {
  const available = (f: StoredFreight) => policies.availability(ctx, stage, f).available;
  if (requested.sources.autoPromotionOptions?.selectionPolicy === 'MatchUpstream') {
    const upstream = ctx.stage(requested.sources.stages?.[0] ?? '');
    if (!upstream) return undefined;
    const there = freightInStage(ctx, upstream, requested.origin.name, freightOfOrigin);
    return there && available(there) ? there : undefined;
  }
  return freightOfOrigin.find(available);
}

/** A manual promotion's effect on its stage's auto-promotion hold. */
export interface HoldDecision {
  origin: string;
  /** True: the candidate itself was promoted, and a hold is released. */
  release: boolean;
  reason?: string;
}

/** What one auto-promotion pass decided for one stage and origin. */
export interface AutoPromotionOutcome {
  stage: string;
  origin: string;
  /** The candidate, when there is one. */
  freightId?: string;
  /** The promotion created. */
  promotionId?: string;
  /** Why nothing was promoted. */
  skipped?: string;
}

export interface AutoPromoterOptions {
  pipelines: PipelineStore;
  freight: FreightStore;
  policies: StagePolicies;
  clock: Clock;
  logger: Logger;
  /** The engine's promote path, for an automatic promotion; resolves to the promotion's ID. */
  promote(project: string, stage: string, freightId: string): Promise<string>;
}

/**
 * Auto-promotion: for every stage a ProjectConfig policy enables it for, and every origin
 * the stage requests, promotes the candidate freight when it is not in the stage yet, no
 * promotion of it to that stage is queued or running, its last promotion there did not
 * fail, and no hold pauses the origin. Safe with several replicas: a stage is decided under
 * a lease (a conditional insert or update) and the checks are made again while holding it.
 */
export class AutoPromoter {
  private readonly instance = `${os.hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  private readonly running = new Map<string, Promise<void>>();
  private readonly again = new Set<string>();
  private stopped = false;

  constructor(private readonly options: AutoPromoterOptions) {}

  /** Every project with a ProjectConfig (the scheduled task). */
  async runAll(): Promise<AutoPromotionOutcome[]> {
    const projects = [...(await this.options.pipelines.listProjectConfigs()).keys()];
    const out: AutoPromotionOutcome[] = [];
    for (const project of projects) {
      if (this.stopped) break;
      try {
        out.push(...(await this.runProject(project)));
      } catch (e) {
        this.options.logger.warn(`auto-promotion in project ${project} failed: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    return out;
  }

  /**
   * Runs a project's auto-promotion soon, in the background (freight was created, a
   * promotion ended, a hold was released). Calls while a run is going on make one more run.
   */
  kick(project: string): void {
    if (this.stopped) return;
    if (this.running.has(project)) {
      this.again.add(project);
      return;
    }
    const run = (async () => {
      do {
        this.again.delete(project);
        try {
          await this.runProject(project);
        } catch (e) {
          this.options.logger.warn(`auto-promotion in project ${project} failed: ${e instanceof Error ? e.message : String(e)}`);
        }
      } while (this.again.has(project) && !this.stopped);
    })().finally(() => this.running.delete(project));
    this.running.set(project, run);
  }

  /** Waits for background runs (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.allSettled([...this.running.values()]);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.idle();
  }

  /** One pass over a project. */
  async runProject(project: string): Promise<AutoPromotionOutcome[]> {
    const { pipelines, freight, policies } = this.options;
    const config = await pipelines.getProjectConfig(project);
    if (!config?.promotionPolicies?.some(p => p.autoPromotionEnabled)) return [];
    const stages = await pipelines.listStages(project);
    const enabled = stages.filter(s => policies.autoPromotion({ config }, s).enabled);
    if (enabled.length === 0) return [];
    const origins = [...new Set(enabled.flatMap(s => s.spec.requestedFreight.map(r => r.origin.name)))];
    const all = await freight.list(project, { warehouses: origins });
    const ctx = await policies.context(project, { stages, freightIds: all.map(f => f.id) });
    const holds = await pipelines.listHolds(project);
    const order = pipelineOrder(enabled);
    const byName = new Map(enabled.map(s => [s.name, s]));

    const out: AutoPromotionOutcome[] = [];
    for (const name of order) {
      const stage = byName.get(name)!;
      for (const requested of stage.spec.requestedFreight) {
        const origin = requested.origin.name;
        const outcome = (o: Omit<AutoPromotionOutcome, 'stage' | 'origin'>) => out.push({ stage: name, origin, ...o });
        if (holds.some(h => h.stage === name && h.origin === origin)) {
          outcome({ skipped: 'an auto-promotion hold pauses this origin' });
          continue;
        }
        const ofOrigin = all.filter(f => f.warehouse === origin);
        const candidate = autoPromotionCandidate(policies, ctx, stage, requested, ofOrigin);
        if (!candidate) {
          outcome({ skipped: 'no freight is available to promote' });
          continue;
        }
        if (freightInStage(ctx, stage, origin, ofOrigin)?.id === candidate.id) {
          outcome({ freightId: candidate.id, skipped: 'the candidate is in the stage already' });
          continue;
        }
        outcome(await this.promoteUnderLease(project, name, origin, candidate));
      }
    }
    return out;
  }

  /**
   * What a promotion by hand means for auto-promotion of its stage (only where auto-promotion
   * is enabled): freight other than the candidate (a rollback, say) holds the origin, so that
   * auto-promotion does not undo it; the candidate itself releases a hold, as in Kargo.
   */
  async manualPromotionHold(stage: StoredStage, promoted: StoredFreight): Promise<HoldDecision | undefined> {
    const { pipelines, freight, policies } = this.options;
    const config = await pipelines.getProjectConfig(stage.project);
    if (!policies.autoPromotion({ config }, stage).enabled) return undefined;
    const requested = stage.spec.requestedFreight.find(r => r.origin.name === promoted.warehouse);
    if (!requested) return undefined;
    const ofOrigin = await freight.list(stage.project, { warehouses: [promoted.warehouse] });
    const ctx = await policies.context(stage.project, { freightIds: ofOrigin.map(f => f.id) });
    const candidate = autoPromotionCandidate(policies, ctx, stage, requested, ofOrigin);
    if (candidate?.id === promoted.id) return { origin: promoted.warehouse, release: true };
    let reason: string;
    if (!candidate) reason = `freight ${promoted.alias} was promoted by hand while auto-promotion had no candidate`;
    else {
      const older = promoted.createdAt < candidate.createdAt;
      reason =
        `${older ? 'older ' : ''}freight ${promoted.alias} was promoted by hand instead of the auto-promotion ` +
        `candidate ${candidate.alias}${older ? ' (a rollback)' : ''}`;
    }
    return { origin: promoted.warehouse, release: false, reason };
  }

  /**
   * Records what manualPromotionHold decided. Written before the promotion is created: it may
   * finish, and auto-promotion run, before its creation returns; the promotion's ID is
   * linked to the hold afterwards (PipelineStore.linkHold).
   */
  async applyHold(decision: HoldDecision, stage: StoredStage, promoted: StoredFreight, actor: string | undefined): Promise<void> {
    const { pipelines, clock, logger } = this.options;
    if (decision.release) {
      const released = await pipelines.releaseHolds(stage.project, stage.name, decision.origin);
      if (released.length > 0) {
        logger.info(`auto-promotion of ${stage.project}/${stage.name} resumes: ${actor ?? 'someone'} promoted the candidate ${promoted.alias}`);
      }
      return;
    }
    await pipelines.putHold({
      project: stage.project,
      stage: stage.name,
      origin: decision.origin,
      freightId: promoted.id,
      createdBy: actor,
      createdAt: clock.now().toISOString(),
      reason: decision.reason!,
    });
    logger.info(`auto-promotion of ${stage.project}/${stage.name} (warehouse ${decision.origin}) is on hold: ${decision.reason}`);
  }

  /** Decides one stage under its lease: the checks are made again, then the promotion is created. */
  private async promoteUnderLease(
    project: string,
    stage: string,
    origin: string,
    candidate: StoredFreight,
  ): Promise<Omit<AutoPromotionOutcome, 'stage' | 'origin'>> {
    const { pipelines, freight, clock, logger } = this.options;
    const holder = `${this.instance}:${randomUUID().slice(0, 8)}`;
    const now = clock.now();
    const leased = await pipelines.acquireLease(
      project,
      stage,
      holder,
      now.toISOString(),
      new Date(now.getTime() + LEASE_MS).toISOString(),
    );
    if (!leased) return { freightId: candidate.id, skipped: 'another backend is deciding this stage' };
    try {
      if ((await pipelines.listHolds(project, stage)).some(h => h.origin === origin)) {
        return { freightId: candidate.id, skipped: 'an auto-promotion hold pauses this origin' };
      }
      const fresh = await pipelines.getStage(project, stage);
      if (fresh.currentFreightId === candidate.id) return { freightId: candidate.id, skipped: 'the candidate is in the stage already' };
      const phases = await freight.promotionPhases(project, stage, candidate.id);
      if (phases.some(p => p === 'Pending' || p === 'Running')) {
        return { freightId: candidate.id, skipped: 'a promotion of the candidate is queued or running' };
      }
      const last = phases.find(p => p !== 'Pending' && p !== 'Running');
      if (last && last !== 'Succeeded') {
        // promoting it again would fail again, every tick: a person looks first
        return { freightId: candidate.id, skipped: `the last promotion of the candidate to this stage ended ${last}` };
      }
      const promotionId = await this.options.promote(project, stage, candidate.id);
      logger.info(`auto-promotion: promoting freight ${candidate.alias} (${candidate.id}) to ${project}/${stage}: ${promotionId}`);
      return { freightId: candidate.id, promotionId };
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      logger.warn(`auto-promotion of freight ${candidate.alias} to ${project}/${stage} failed: ${message}`);
      return { freightId: candidate.id, skipped: message };
    } finally {
      await pipelines.releaseLease(project, stage, holder);
    }
  }
}
