import { InputError, NotFoundError } from '@backstage/errors';
import type {
  Stage,
  StageFreightList,
} from '@stagecoach/plugin-stagecoach-common';
import { autoPromotionCandidate } from '../stages/autoPromotion';
import type { StagePolicies } from '../stages/StagePolicies';
import type { FreightStore } from '../store/FreightStore';
import type { PipelineStore, StoredStage } from '../store/PipelineStore';
import type { Logger } from '../util/types';
import type { DomainEventBus } from './events/DomainEventBus';
import type { Views } from './views';
import {
  collectFreightPage,
  FreightPageRequest,
  mayEnterFilter,
  freightPageCursor,
  freightPageLimit,
} from './freightPages';

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
   * A page of the freight of the stage's warehouses, newest first, each with whether it may
   * enter the stage now and why (not), and which one auto-promotion would promote. Filtered
   * on the server: `warehouse` (one of the stage's), `q` (alias, ID or artifact text),
   * `available` (only the freight that may enter now).
   */
  async freight(
    project: string,
    stageName: string,
    filter: FreightPageRequest & {
      warehouse?: string;
      q?: string;
      available?: boolean;
    } = {},
  ): Promise<StageFreightList> {
    const { pipelines, freight, policies, views } = this.o;
    const limit = freightPageLimit(filter.limit);
    const after = freightPageCursor(filter.cursor);
    const stage = await pipelines.getStage(project, stageName);
    const origins = stage.spec.requestedFreight.map(r => r.origin.name);
    if (filter.warehouse !== undefined && !origins.includes(filter.warehouse)) {
      throw new InputError(
        `warehouse ${
          filter.warehouse
        } is not one stage ${stageName} takes freight from (${origins.join(
          ', ',
        )})`,
      );
    }
    const stages = await pipelines.listStages(project);
    const page = await collectFreightPage({
      project,
      policies,
      limit,
      after,
      read: (from, n) =>
        freight.page(project, {
          warehouses: filter.warehouse ? [filter.warehouse] : origins,
          q: filter.q,
          mayEnter: filter.available ? mayEnterFilter(stage) : undefined,
          after: from,
          limit: n,
        }),
      stages,
      keep: filter.available
        ? (f, ctx) => policies.availability(ctx, stage, f).available
        : undefined,
    });
    const candidates = await this.autoPromotionCandidates(
      project,
      stage,
      stages,
    );
    const items = page.items.map(({ freight: f, ctx }) => {
      const a = policies.availability(ctx, stage, f);
      return {
        freight: views.freight(f, ctx),
        available: a.available,
        reason: a.reason,
        ...(a.availableAt ? { availableAt: a.availableAt } : {}),
        ...(candidates.has(f.id) ? { autoPromotionCandidate: true } : {}),
      };
    });
    return {
      stage: stageName,
      items,
      ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}),
    };
  }

  /**
   * The freight auto-promotion would promote to the stage, one per origin, whatever page is
   * shown: with MatchUpstream the freight the upstream stage holds (read by ID), else the
   * newest available, found reading the origin's freight a batch at a time.
   */
  private async autoPromotionCandidates(
    project: string,
    stage: StoredStage,
    stages: StoredStage[],
  ): Promise<Set<string>> {
    const { freight, policies } = this.o;
    const candidates = new Set<string>();
    const ctx0 = await policies.context(project, { freightIds: [], stages });
    if (!policies.autoPromotion(ctx0, stage).enabled) return candidates;
    for (const r of stage.spec.requestedFreight) {
      if (r.sources.autoPromotionOptions?.selectionPolicy === 'MatchUpstream') {
        const upstream = ctx0.stage(r.sources.stages?.[0] ?? '');
        if (!upstream) continue;
        const held = await freight.heldInStage(project, upstream.name);
        const ids = [
          ...new Set(
            [upstream.currentFreightId, held.get(r.origin.name)?.id].filter(
              (x): x is string => !!x,
            ),
          ),
        ];
        const ofOrigin = (await freight.getMany(project, ids)).filter(
          f => f.warehouse === r.origin.name,
        );
        const ctx = await policies.context(project, {
          stages,
          freightIds: ofOrigin.map(f => f.id),
        });
        const c = autoPromotionCandidate(policies, ctx, stage, r, ofOrigin);
        if (c) candidates.add(c.id);
        continue;
      }
      const first = await collectFreightPage({
        project,
        policies,
        limit: 1,
        read: (from, n) =>
          freight.page(project, {
            warehouses: [r.origin.name],
            mayEnter: mayEnterFilter(stage),
            after: from,
            limit: n,
          }),
        stages,
        keep: (f, ctx) => policies.availability(ctx, stage, f).available,
      });
      if (first.items[0]) candidates.add(first.items[0].freight.id);
    }
    return candidates;
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
