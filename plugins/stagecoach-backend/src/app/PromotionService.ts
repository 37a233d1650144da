import { ConflictError, InputError } from '@backstage/errors';
import type { Freight, Promotion } from '@stagecoach/plugin-stagecoach-common';
import { AutoPromoter, autoPromotionCandidate } from '../stages/autoPromotion';
import type { StagePolicies } from '../stages/StagePolicies';
import type { FreightStore } from '../store/FreightStore';
import type { PipelineStore } from '../store/PipelineStore';
import type { PromotionStore } from '../store/PromotionStore';
import type { Clock } from '../util/types';
import type { DomainEventBus } from './events/DomainEventBus';
import type { FreightService } from './FreightService';

export interface PromotionServiceOptions {
  pipelines: PipelineStore;
  freight: FreightStore;
  promotions: PromotionStore;
  policies: StagePolicies;
  /** For the hold a person's promotion puts on auto-promotion. */
  autoPromotion: Pick<AutoPromoter, 'manualPromotionHold' | 'applyHold'>;
  freightViews: Pick<FreightService, 'get'>;
  events: DomainEventBus;
  clock: Clock;
  /** Whether a new promotion aborts the stage's older pending ones (default false; a request may ask). */
  supersedePending: boolean;
}

/** Promotions: queueing freight into a stage, aborting, and their history. */
export class PromotionService {
  constructor(private readonly o: PromotionServiceOptions) {}

  /**
   * Queues a promotion of freight (by ID or alias) into a stage. Freight the stage does not
   * accept is refused with a ConflictError that says why.
   */
  async promote(
    project: string,
    stageName: string,
    freightRef: string,
    actor?: string,
    options: { supersede?: boolean; automatic?: boolean } = {},
  ): Promise<Promotion> {
    const {
      pipelines,
      freight: freightStore,
      promotions,
      policies,
      autoPromotion,
    } = this.o;
    if (!freightRef)
      throw new InputError(
        'name the freight to promote: {"freight": "<id or alias>"}',
      );
    const stage = await pipelines.getStage(project, stageName);
    const freight = await freightStore.get(project, freightRef);
    const ctx = await policies.context(project, { freightIds: [freight.id] });
    const availability = policies.availability(ctx, stage, freight);
    if (!availability.available) {
      throw new ConflictError(
        `freight ${freight.alias} cannot be promoted to ${stageName}: ${availability.reason}`,
      );
    }
    // auto-promotions never hold; a person promoting other freight than the candidate does
    const hold = options.automatic
      ? undefined
      : await autoPromotion.manualPromotionHold(stage, freight);
    if (hold) await autoPromotion.applyHold(hold, stage, freight, actor);
    const template = stage.spec.promotionTemplate?.spec;
    const id = await promotions.create(
      {
        project,
        stage: stageName,
        freightId: freight.id,
        steps: template?.steps ?? [],
        vars: [...(stage.spec.vars ?? []), ...(template?.vars ?? [])],
        createdBy: actor,
      },
      this.now(),
      { supersede: options.supersede ?? this.o.supersedePending },
    );
    if (hold && !hold.release)
      await pipelines.linkHold(project, stageName, hold.origin, freight.id, id);
    this.o.events.publish({
      type: 'PromotionQueued',
      project,
      stage: stageName,
      promotionId: id,
      freightId: freight.id,
      actor,
      automatic: !!options.automatic,
    });
    return promotions.get(project, id);
  }

  /**
   * The freight a promotion by origin takes (Kargo's Promotion with `origin` instead of
   * `freight`): the one auto-promotion would choose for that warehouse — the newest freight
   * available to the stage, or with MatchUpstream the freight in the upstream stage.
   * ConflictError naming why when there is none.
   */
  async candidateFreight(
    project: string,
    stageName: string,
    origin: string,
  ): Promise<Freight> {
    const { pipelines, freight, policies } = this.o;
    const stage = await pipelines.getStage(project, stageName);
    const requested = stage.spec.requestedFreight.find(
      r => r.origin.name === origin,
    );
    if (!requested) {
      const known = stage.spec.requestedFreight
        .map(r => r.origin.name)
        .join(', ');
      throw new InputError(
        `stage "${stageName}" takes freight from warehouse ${known}, not from "${origin}"`,
      );
    }
    const ofOrigin = await freight.list(project, { warehouses: [origin] });
    const ctx = await policies.context(project, {
      freightIds: ofOrigin.map(f => f.id),
    });
    const candidate = autoPromotionCandidate(
      policies,
      ctx,
      stage,
      requested,
      ofOrigin,
    );
    if (!candidate) {
      throw new ConflictError(
        `no freight of warehouse "${origin}" can be promoted to ${stageName} now ` +
          `(GET /api/stagecoach/projects/${project}/stages/${stageName}/freight says why for each)`,
      );
    }
    return this.o.freightViews.get(project, candidate.id);
  }

  /**
   * Aborts a promotion: a pending or waiting one ends at once; a running one stops within a
   * heartbeat (its running step is interrupted). ConflictError when it has already ended.
   */
  async abort(project: string, id: string, actor: string): Promise<Promotion> {
    await this.requestAbort(project, id, actor);
    return this.o.promotions.get(project, id);
  }

  /** Aborts every promotion of the stage that is still queued or running (the stage was removed). */
  async abortAll(project: string, stage: string, actor: string): Promise<void> {
    for (const id of await this.o.promotions.activeIds(project, stage)) {
      await this.requestAbort(project, id, actor).catch(() => undefined);
    }
  }

  async list(
    project: string,
    filter: { stage?: string; limit?: number } = {},
  ): Promise<Promotion[]> {
    await this.o.pipelines.assertProject(project);
    return this.o.promotions.list(project, filter);
  }

  get(project: string, id: string): Promise<Promotion> {
    return this.o.promotions.get(project, id);
  }

  private async requestAbort(
    project: string,
    id: string,
    actor: string,
  ): Promise<void> {
    const outcome = await this.o.promotions.requestAbort(
      project,
      id,
      actor,
      this.now(),
    );
    const { stage } = await this.o.promotions.get(project, id);
    this.o.events.publish(
      outcome === 'aborted'
        ? { type: 'PromotionFinished', project, stage, promotionId: id }
        : {
            type: 'PromotionAbortRequested',
            project,
            stage,
            promotionId: id,
            actor,
          },
    );
  }

  private now(): string {
    return this.o.clock.now().toISOString();
  }
}
