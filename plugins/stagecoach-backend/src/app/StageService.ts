import { InputError, NotFoundError } from '@backstage/errors';
import type {
  Stage,
  StageFreightList,
} from '@stagecoach/plugin-stagecoach-common';
import { autoPromotionCandidate } from '../stages/autoPromotion';
import type { StagePolicies } from '../stages/StagePolicies';
import type { FreightStore } from '../store/FreightStore';
import type { PipelineStore } from '../store/PipelineStore';
import type { Logger } from '../util/types';
import type { DomainEventBus } from './events/DomainEventBus';
import type { Views } from './views';

export interface StageServiceOptions {
  pipelines: PipelineStore;
  freight: FreightStore;
  policies: StagePolicies;
  views: Views;
  events: DomainEventBus;
  logger: Logger;
}

/** Stages: their state, the freight each may take and why, and auto-promotion holds. */
export class StageService {
  constructor(private readonly o: StageServiceOptions) {}

  /** The project's stages in pipeline order. */
  async list(project: string): Promise<Stage[]> {
    await this.o.pipelines.assertProject(project);
    return this.o.views.stages(
      project,
      await this.o.pipelines.listStages(project),
    );
  }

  async get(project: string, name: string): Promise<Stage> {
    const stage = await this.o.pipelines.getStage(project, name);
    return (await this.o.views.stages(project, [stage]))[0];
  }

  /**
   * Every freight of the stage's warehouses, newest first, with whether it may enter the
   * stage now and why (not), and which one auto-promotion would promote.
   */
  async freight(
    project: string,
    stageName: string,
    filter: { limit?: number } = {},
  ): Promise<StageFreightList> {
    const { pipelines, freight, policies, views } = this.o;
    const stage = await pipelines.getStage(project, stageName);
    const all = await freight.list(project, {
      warehouses: stage.spec.requestedFreight.map(r => r.origin.name),
    });
    const ctx = await policies.context(project, {
      freightIds: all.map(f => f.id),
    });
    const candidates = new Set<string>();
    if (policies.autoPromotion(ctx, stage).enabled) {
      for (const r of stage.spec.requestedFreight) {
        const c = autoPromotionCandidate(
          policies,
          ctx,
          stage,
          r,
          all.filter(f => f.warehouse === r.origin.name),
        );
        if (c) candidates.add(c.id);
      }
    }
    const items = all.slice(0, filter.limit ?? all.length).map(f => {
      const a = policies.availability(ctx, stage, f);
      return {
        freight: views.freight(f, ctx),
        available: a.available,
        reason: a.reason,
        ...(a.availableAt ? { availableAt: a.availableAt } : {}),
        ...(candidates.has(f.id) ? { autoPromotionCandidate: true } : {}),
      };
    });
    return { stage: stageName, items };
  }

  /** Releases a stage's auto-promotion hold (of one origin, or all), so that auto-promotion resumes. */
  async releaseAutoPromotionHold(
    project: string,
    stageName: string,
    origin?: string,
    actor?: string,
  ): Promise<Stage> {
    const stage = await this.o.pipelines.getStage(project, stageName);
    if (
      origin !== undefined &&
      !stage.spec.requestedFreight.some(r => r.origin.name === origin)
    ) {
      throw new InputError(
        `stage ${stageName} takes no freight from warehouse ${origin}, so it has no hold for it`,
      );
    }
    const released = await this.o.pipelines.releaseHolds(
      project,
      stageName,
      origin,
    );
    if (released.length === 0) {
      throw new NotFoundError(
        `stage ${stageName} has no auto-promotion hold${
          origin ? ` for warehouse ${origin}` : ''
        }`,
      );
    }
    const origins = released.map(h => h.origin);
    this.o.logger.info(
      `auto-promotion hold of ${project}/${stageName} (${origins.join(
        ', ',
      )}) released by ${actor ?? 'an unnamed caller'}`,
    );
    this.o.events.publish({
      type: 'AutoPromotionHoldReleased',
      project,
      stage: stageName,
      origins,
      actor,
    });
    return this.get(project, stageName);
  }
}
