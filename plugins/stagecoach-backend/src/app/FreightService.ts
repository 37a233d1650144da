import { InputError } from '@backstage/errors';
import type {
  CreateFreightRequest,
  Freight,
} from '@stagecoach/plugin-stagecoach-common';
import {
  assembleFreight,
  parseCreateFreightRequest,
} from '../discovery/manualFreight';
import type {
  Subscribers,
  SubscriptionKinds,
} from '../discovery/SubscriptionKinds';
import type { StagePolicies } from '../stages/StagePolicies';
import { FREIGHT_ALIAS_RULE, isFreightAlias } from '../store/freightAlias';
import type { FreightStore } from '../store/FreightStore';
import type { PipelineStore } from '../store/PipelineStore';
import type { Clock, Logger } from '../util/types';
import type { SubscriptionContext } from '../discovery/types';
import type { DomainEventBus } from './events/DomainEventBus';
import type { Views } from './views';
import {
  collectFreightPage,
  mayEnterFilter,
  FREIGHT_PAGE_MAX,
  FreightPageRequest,
  freightPageCursor,
  freightPageLimit,
} from './freightPages';

/** How a freight list may be narrowed: each filter applied on the server. */
export interface FreightListFilter {
  /** The origin warehouse. */
  warehouse?: string;
  /** Matches, ignoring case, the alias, the ID's start or the artifacts' text (tag, commit, version, repository). */
  q?: string;
  /** Only freight that may enter this stage now. */
  stage?: string;
  /** Only freight this stage holds now. */
  inStage?: string;
  /** Only freight verified in this stage. */
  verifiedIn?: string;
}

/** A page of freight and, when more follows, the cursor of the next. */
export interface FreightPage {
  items: Freight[];
  nextCursor?: string;
}

export interface FreightServiceOptions {
  pipelines: PipelineStore;
  freight: FreightStore;
  policies: StagePolicies;
  /** What warehouses subscribe to: how a request names their artifacts. */
  kinds: SubscriptionKinds;
  /** The kinds' subscribers, shared with discovery: freight assembled by hand resolves through them. */
  subscribers: Subscribers;
  /** A project and its credentials, for the subscribers that look an artifact up. */
  contextFor?: (project: string) => SubscriptionContext;
  views: Views;
  events: DomainEventBus;
  clock: Clock;
  logger: Logger;
}

/** Freight: listing, assembling by hand, approving for a stage, renaming, collecting garbage. */
export class FreightService {
  constructor(private readonly o: FreightServiceOptions) {}

  /** The newest freight (of a warehouse), or with `stage` the newest that may enter it: at most `limit`. */
  async list(
    project: string,
    filter: { stage?: string; origin?: string; limit?: number } = {},
  ): Promise<Freight[]> {
    const page = await this.page(project, {
      stage: filter.stage,
      warehouse: filter.origin,
      limit: Math.min(filter.limit ?? FREIGHT_PAGE_MAX, FREIGHT_PAGE_MAX),
    });
    return page.items;
  }

  /**
   * One page of freight, newest first, filtered on the database where it can be: `warehouse`
   * (the origin), `q` (alias, ID or artifact text), `inStage` (held by that stage now),
   * `verifiedIn` (verified in that stage); `stage` keeps the freight that may enter that
   * stage now. `cursor` is a previous page's `nextCursor`.
   */
  async page(
    project: string,
    filter: FreightListFilter & FreightPageRequest,
  ): Promise<FreightPage> {
    const { pipelines, freight, policies, views } = this.o;
    const limit = freightPageLimit(filter.limit);
    const after = freightPageCursor(filter.cursor);
    await pipelines.assertProject(project);
    const [available, holding, verified] = await Promise.all([
      filter.stage ? pipelines.getStage(project, filter.stage) : undefined,
      filter.inStage ? pipelines.getStage(project, filter.inStage) : undefined,
      filter.verifiedIn
        ? pipelines.getStage(project, filter.verifiedIn)
        : undefined,
    ]);
    let ids: string[] | undefined;
    if (holding) {
      const held = await freight.heldInStage(project, holding.name);
      ids = [
        ...new Set([
          ...(holding.currentFreightId ? [holding.currentFreightId] : []),
          ...[...held.values()].map(f => f.id),
        ]),
      ];
    }
    const page = await collectFreightPage({
      project,
      policies,
      limit,
      after,
      read: (from, n) =>
        freight.page(project, {
          warehouses: filter.warehouse ? [filter.warehouse] : undefined,
          q: filter.q,
          ids,
          verifiedIn: verified?.name,
          mayEnter: available ? mayEnterFilter(available) : undefined,
          after: from,
          limit: n,
        }),
      stages: await pipelines.listStages(project),
      keep: available
        ? (f, ctx) => policies.availability(ctx, available, f).available
        : undefined,
    });
    return {
      items: page.items.map(i => views.freight(i.freight, i.ctx)),
      ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}),
    };
  }

  /**
   * What a pipeline's page shows: the `limit` newest freight, then the older freight the
   * stages hold (read by ID, however old), newest first. Each freight's stages are its own.
   */
  async listWithHeld(
    project: string,
    stages: { currentFreightId?: string }[],
    limit: number,
  ): Promise<Freight[]> {
    const newest = await this.list(project, { limit });
    const shown = new Set(newest.map(f => f.id));
    const held = stages
      .map(s => s.currentFreightId)
      .filter((id): id is string => !!id && !shown.has(id));
    return [...newest, ...(await this.getMany(project, held))];
  }

  /** Freight by ID, as the API shows it, newest first (those that no longer exist left out). */
  async getMany(project: string, ids: string[]): Promise<Freight[]> {
    const found = await this.o.freight.getMany(project, ids);
    if (found.length === 0) return [];
    const ctx = await this.o.policies.context(project, {
      freightIds: found.map(f => f.id),
    });
    return found
      .sort((a, b) => {
        // newest first, then by ID, as pages are ordered
        if (a.createdAt === b.createdAt) return a.id.localeCompare(b.id);
        return a.createdAt < b.createdAt ? 1 : -1;
      })
      .map(f => this.o.views.freight(f, ctx));
  }

  async get(project: string, idOrAlias: string): Promise<Freight> {
    const f = await this.o.freight.get(project, idOrAlias);
    const ctx = await this.o.policies.context(project, { freightIds: [f.id] });
    return this.o.views.freight(f, ctx);
  }

  /**
   * Assembles freight by hand from artifacts its warehouse has discovered (whatever the
   * warehouse's freightCreationPolicy): one per subscription, each matched against the
   * warehouse's status listing, an image's digest looked up when the listing lacks it. The
   * ID is the one discovery would give the same artifacts, so asking twice gives the same
   * freight: `created` is false the second time. With `alias`, the freight gets (or is
   * renamed to) it.
   */
  async create(
    project: string,
    request: CreateFreightRequest,
    actor?: string,
  ): Promise<{ freight: Freight; created: boolean }> {
    const req = parseCreateFreightRequest(request, this.o.kinds);
    const alias = req.alias === undefined ? undefined : assertAlias(req.alias);
    const warehouse = await this.o.pipelines.getWarehouse(
      project,
      req.origin.name,
    );
    const artifacts = await assembleFreight(warehouse, req, {
      kinds: this.o.kinds,
      subscribers: this.o.subscribers,
      context: this.o.contextFor?.(project),
      refreshHint: `refresh the warehouse (POST /api/stagecoach/projects/${project}/warehouses/${warehouse.name}/refresh)`,
    });
    const { freight, created } = await this.o.freight.ensure(
      project,
      warehouse.name,
      artifacts,
      this.now(),
      { alias },
    );
    if (!created && alias && freight.alias !== alias)
      await this.o.freight.setAlias(project, freight.id, alias);
    if (created) {
      this.o.logger.info(
        `freight ${freight.alias} (${freight.id}) of warehouse ${project}/${
          warehouse.name
        } assembled by ${actor ?? 'an unnamed caller'}`,
      );
      this.o.events.publish({
        type: 'FreightCreated',
        project,
        warehouse: warehouse.name,
        freightId: freight.id,
        source: 'manual',
        actor,
      });
    }
    return { freight: await this.get(project, freight.id), created };
  }

  /**
   * Approves freight for a stage by hand: it may then enter the stage without being verified
   * or soaked upstream. Approving again keeps the first approval.
   */
  async approve(
    project: string,
    idOrAlias: string,
    stageName: unknown,
    actor?: string,
  ): Promise<Freight> {
    if (typeof stageName !== 'string' || !stageName) {
      throw new InputError(
        'name the stage to approve the freight for: {"stage": "<stage>"}',
      );
    }
    const freight = await this.o.freight.get(project, idOrAlias);
    const stage = await this.o.pipelines.getStage(project, stageName);
    if (
      !stage.spec.requestedFreight.some(
        r => r.origin.name === freight.warehouse,
      )
    ) {
      const origins = stage.spec.requestedFreight
        .map(r => r.origin.name)
        .join(', ');
      throw new InputError(
        `stage ${stageName} takes freight from warehouse ${origins}, not from warehouse ${freight.warehouse}: ` +
          `freight ${freight.alias} cannot be approved for it`,
      );
    }
    if (
      await this.o.freight.approve(
        project,
        freight.id,
        stageName,
        actor,
        this.now(),
      )
    ) {
      this.o.logger.info(
        `freight ${freight.alias} (${
          freight.id
        }) approved for ${project}/${stageName} by ${
          actor ?? 'an unnamed caller'
        }`,
      );
      this.o.events.publish({
        type: 'FreightApproved',
        project,
        stage: stageName,
        freightId: freight.id,
        actor,
      });
    }
    return this.get(project, freight.id);
  }

  /** Renames freight. Aliases are unique per project and look like `brave-otter`. */
  async setAlias(
    project: string,
    idOrAlias: string,
    alias: unknown,
  ): Promise<Freight> {
    const f = await this.o.freight.setAlias(
      project,
      idOrAlias,
      assertAlias(alias),
    );
    return this.get(project, f.id);
  }

  /** Garbage collection: keeps the `keep` newest freight of each warehouse, and all freight in use. */
  async collectGarbage(keep: number): Promise<number> {
    let deleted = 0;
    for (const w of await this.o.pipelines.listAllWarehouses()) {
      deleted += (await this.o.freight.collectGarbage(w.project, w.name, keep))
        .length;
    }
    return deleted;
  }

  private now(): string {
    return this.o.clock.now().toISOString();
  }
}

/** An alias as setAlias and create accept it. */
function assertAlias(alias: unknown): string {
  if (!isFreightAlias(alias)) {
    throw new InputError(`alias must be ${FREIGHT_ALIAS_RULE}`);
  }
  return alias;
}
