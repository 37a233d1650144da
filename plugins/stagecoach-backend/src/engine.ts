import os from 'node:os';
import path from 'node:path';
import { Knex } from 'knex';
import { ConflictError, InputError } from '@backstage/errors';
import type {
  ApplyManifestsResult,
  CreateFreightRequest,
  EntityPipeline,
  Freight,
  ProjectSummary,
  Promotion,
  Stage,
  Warehouse,
} from '@stagecoach/plugin-stagecoach-common';
import { DiscoveryService, mergeQuietCheck, Subscribers } from './discovery/DiscoveryService';
import { ChartSubscriber } from './discovery/chart/ChartSubscriber';
import { ImageSubscriber } from './discovery/image/ImageSubscriber';
import { assembleFreight, parseCreateFreightRequest } from './discovery/manualFreight';
import { parseImageRepository, RegistryClient, RegistryClientOptions } from './integrations/registry';
import { GitSubscriber } from './discovery/git/GitSubscriber';
import { GitIdentity } from './integrations/git/GitCli';
import type { StagecoachEvent } from './engineEvents';
import { parseManifests, pipelineOrder } from './manifests/parseManifests';
import type { Subscription } from './manifests/schemas';
import { PromotionRunner } from './promotion/PromotionRunner';
import { PromotionWorker } from './promotion/PromotionWorker';
import { qualifies } from './stages/qualification';
import { GroupCommit } from './store/GroupCommit';
import { tuneSqlite } from './store/sqliteTuning';
import { FreightStore, StoredFreight } from './store/FreightStore';
import { applyMigrations } from './store/migrations';
import { PipelineStore, StoredStage, StoredWarehouse } from './store/PipelineStore';
import { PromotionStore } from './store/PromotionStore';
import { Clock, Logger, systemClock } from './util/types';

const ALIAS = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

export interface StagecoachEngineOptions {
  knex: Knex;
  logger: Logger;
  clock?: Clock;
  /** Folder for promotion work directories and discovery caches (default: OS temp). */
  workDir?: string;
  gitIdentity?: GitIdentity;
  /** Skip running migrations (when the host runs them). */
  skipMigrations?: boolean;
  worker?: { concurrency?: number; pollIntervalMs?: number; claimTtlMs?: number };
  /** Registry credentials, transport and limits (images and oci:// charts). */
  registry?: RegistryClientOptions;
  /** Replaces the default artifact sources besides git (images, charts). */
  subscribers?: Omit<Subscribers, 'git'>;
  /**
   * Told about freight once it is created and about promotions once they reach a final phase
   * (see StagecoachEvent), in the background: a slow or failing host delays or fails neither
   * discovery nor the promotion; a failure is logged as a warning.
   */
  onEvent?: (event: StagecoachEvent) => void | Promise<void>;
}


/**
 * Stagecoach's engine: everything the REST API, the scheduler and the tests drive. It
 * needs a Knex, a logger and a clock, and nothing from Backstage.
 */
export class StagecoachEngine {
  readonly pipelines: PipelineStore;
  readonly freight: FreightStore;
  readonly promotions: PromotionStore;
  readonly discovery: DiscoveryService;
  readonly worker: PromotionWorker;
  /** One client for every registry: its per-host limits and digest caches are shared. */
  readonly registry: RegistryClient;
  private readonly clock: Clock;
  private readonly logger: Logger;
  /** The artifact sources, shared by discovery and freight assembled by hand. */
  private readonly subscribers: Subscribers;
  private readonly onEvent?: (event: StagecoachEvent) => void | Promise<void>;
  /** Events being handed to onEvent; close() waits for them. */
  private readonly reporting = new Set<Promise<void>>();

  static async create(options: StagecoachEngineOptions): Promise<StagecoachEngine> {
    await tuneSqlite(options.knex);
    if (!options.skipMigrations) await applyMigrations(options.knex);
    return new StagecoachEngine(options);
  }

  private constructor(options: StagecoachEngineOptions) {
    const { knex, logger } = options;
    this.registry = new RegistryClient(options.registry);
    this.clock = options.clock ?? systemClock;
    this.logger = logger;
    this.onEvent = options.onEvent;
    const workDir = options.workDir ?? path.join(os.tmpdir(), 'stagecoach');
    this.pipelines = new PipelineStore(knex);
    this.freight = new FreightStore(knex);
    this.promotions = new PromotionStore(knex);
    this.subscribers = {
      git: new GitSubscriber(path.join(workDir, 'cache')),
      image: new ImageSubscriber(this.registry),
      chart: new ChartSubscriber({ listOciTags: repo => this.registry.listTags(parseImageRepository(repo)) }),
      ...options.subscribers,
    };
    this.discovery = new DiscoveryService({
      pipelines: this.pipelines,
      freight: this.freight,
      subscribers: this.subscribers,
      clock: this.clock,
      logger,
      writes: new GroupCommit(knex),
      onFreightCreated: created =>
        this.reportFreight(created.project, created.warehouse, created.createdFreightId!, 'discovery'),
    });
    const runner = new PromotionRunner({
      promotions: this.promotions,
      freight: this.freight,
      clock: this.clock,
      logger,
      workRoot: path.join(workDir, 'promotions'),
      gitIdentity: options.gitIdentity,
    });
    this.worker = new PromotionWorker({
      promotions: this.promotions,
      runner,
      clock: this.clock,
      logger,
      ...options.worker,
      onFinished: p => this.reportPromotion(p.project, p.id),
    });
  }

  /** Stops the worker and releases connections. */
  async close(): Promise<void> {
    await this.worker.stop();
    await Promise.allSettled([...this.reporting]);
    this.registry.close();
  }

  /** Hands an event to options.onEvent without waiting for it; a failure is logged, never thrown. */
  private report(what: string, build: () => Promise<StagecoachEvent>): void {
    const onEvent = this.onEvent;
    if (!onEvent) return;
    const done = (async () => {
      try {
        await onEvent(await build());
      } catch (e) {
        this.logger.warn(`could not report ${what}: ${e instanceof Error ? e.message : String(e)}`);
      }
    })();
    this.reporting.add(done);
    void done.then(() => this.reporting.delete(done));
  }

  private reportFreight(project: string, warehouse: string, id: string, source: 'discovery' | 'manual', createdBy?: string) {
    this.report(`freight.created (freight ${id} of warehouse ${project}/${warehouse})`, async () => ({
      type: 'freight.created',
      project,
      warehouse,
      source,
      ...(createdBy ? { createdBy } : {}),
      freight: await this.getFreight(project, id),
    }));
  }

  private reportPromotion(project: string, id: string) {
    this.report(`promotion.finished (promotion ${id} in project ${project})`, async () => {
      const promotion = await this.promotions.get(project, id);
      return { type: 'promotion.finished', project, stage: promotion.stage, phase: promotion.phase, promotion };
    });
  }

  private now(): string {
    return this.clock.now().toISOString();
  }

  /** Validates a multi-document YAML set and, only if all of it is valid, makes it the project's pipeline. */
  async applyManifests(project: string, yamlText: string): Promise<ApplyManifestsResult> {
    const manifests = parseManifests(project, yamlText);
    await this.pipelines.applyManifests(manifests, this.now());
    return {
      project,
      warehouses: manifests.warehouses.map(w => w.name),
      stages: pipelineOrder(manifests.stages),
    };
  }

  listProjects(): Promise<ProjectSummary[]> {
    return this.pipelines.listProjects();
  }

  async getProject(project: string): Promise<ProjectSummary> {
    await this.pipelines.assertProject(project);
    return (await this.pipelines.listProjects()).find(p => p.name === project)!;
  }

  async listWarehouses(project: string): Promise<Warehouse[]> {
    await this.pipelines.assertProject(project);
    return (await this.pipelines.listWarehouses(project)).map(w => this.warehouseView(w));
  }

  async getWarehouse(project: string, name: string): Promise<Warehouse> {
    return this.warehouseView(await this.pipelines.getWarehouse(project, name));
  }

  private warehouseView(w: StoredWarehouse): Warehouse {
    const view = toWarehouseView(w);
    const times = mergeQuietCheck(view.status, this.discovery.quietCheck(w.project, w.name));
    return { ...view, status: { ...view.status, ...times } };
  }

  /** Makes a warehouse due for discovery now; the caller triggers the discovery task. */
  async refreshWarehouse(project: string, name: string): Promise<void> {
    await this.pipelines.requestDiscovery(project, name, this.now());
  }

  /**
   * Discovers now every warehouse with a subscription the predicate selects (a webhook said
   * that source changed). Returns `project/warehouse` of each; discovery runs in the background.
   */
  async refreshMatching(matches: (subscription: Subscription) => boolean): Promise<string[]> {
    const hit = (await this.pipelines.listAllWarehouses()).filter(w => w.spec.subscriptions.some(matches));
    const now = this.now();
    for (const w of hit) await this.pipelines.requestDiscovery(w.project, w.name, now);
    for (const w of hit) {
      this.pipelines
        .getWarehouse(w.project, w.name)
        .then(fresh => this.discovery.discover(fresh))
        .catch(() => undefined); // recorded on the warehouse by discover()
    }
    return hit.map(w => `${w.project}/${w.name}`);
  }

  async listFreight(
    project: string,
    filter: { stage?: string; origin?: string; limit?: number } = {},
  ): Promise<Freight[]> {
    await this.pipelines.assertProject(project);
    const stages = await this.pipelines.listStages(project);
    let stage: StoredStage | undefined;
    if (filter.stage) stage = await this.pipelines.getStage(project, filter.stage);
    const all = await this.freight.list(project, {
      warehouses: filter.origin ? [filter.origin] : undefined,
      limit: stage ? undefined : filter.limit,
    });
    const verified = await this.freight.verifiedIn(project);
    let items = all;
    if (stage) {
      items = all.filter(f => qualifies(stage!, f, verified.get(f.id) ?? []).ok);
      if (filter.limit) items = items.slice(0, filter.limit);
    }
    return items.map(f => this.freightView(f, stages, verified));
  }

  /** Renames freight. Aliases are unique per project and look like `brave-otter`. */
  async setFreightAlias(project: string, idOrAlias: string, alias: unknown): Promise<Freight> {
    const f = await this.freight.setAlias(project, idOrAlias, assertAlias(alias));
    return this.getFreight(project, f.id);
  }

  /**
   * Assembles freight by hand from artifacts its warehouse has discovered (whatever the
   * warehouse's freightCreationPolicy): one per subscription, each matched against the
   * warehouse's status listing, an image's digest looked up when the listing lacks it. The
   * ID is the one discovery would give the same artifacts, so asking twice gives the same
   * freight: `created` is false the second time. With `alias`, the freight gets (or is
   * renamed to) it.
   */
  async createFreight(
    project: string,
    request: CreateFreightRequest,
    actor?: string,
  ): Promise<{ freight: Freight; created: boolean }> {
    const req = parseCreateFreightRequest(request);
    const alias = req.alias === undefined ? undefined : assertAlias(req.alias);
    const warehouse = await this.pipelines.getWarehouse(project, req.origin.name);
    const artifacts = await assembleFreight(warehouse, req, {
      subscribers: this.subscribers,
      refreshHint: `refresh the warehouse (POST /api/stagecoach/projects/${project}/warehouses/${warehouse.name}/refresh)`,
    });
    const { freight, created } = await this.freight.ensure(project, warehouse.name, artifacts, this.now(), { alias });
    if (!created && alias && freight.alias !== alias) await this.freight.setAlias(project, freight.id, alias);
    if (created) {
      this.logger.info(
        `freight ${freight.alias} (${freight.id}) of warehouse ${project}/${warehouse.name} assembled by ${actor ?? 'an unnamed caller'}`,
      );
      this.reportFreight(project, warehouse.name, freight.id, 'manual', actor);
    }
    return { freight: await this.getFreight(project, freight.id), created };
  }

  /** Garbage collection: keeps the `keep` newest freight of each warehouse, and all freight in use. */
  async collectGarbage(keep: number): Promise<number> {
    let deleted = 0;
    for (const w of await this.pipelines.listAllWarehouses()) {
      deleted += (await this.freight.collectGarbage(w.project, w.name, keep)).length;
    }
    return deleted;
  }

  async getFreight(project: string, idOrAlias: string): Promise<Freight> {
    const f = await this.freight.get(project, idOrAlias);
    const [stages, verified] = await Promise.all([
      this.pipelines.listStages(project),
      this.freight.verifiedIn(project, [f.id]),
    ]);
    return this.freightView(f, stages, verified);
  }

  /** The project's stages in pipeline order. */
  async listStages(project: string): Promise<Stage[]> {
    await this.pipelines.assertProject(project);
    const stages = await this.pipelines.listStages(project);
    return this.stageViews(project, stages);
  }

  async getStage(project: string, name: string): Promise<Stage> {
    const stage = await this.pipelines.getStage(project, name);
    return (await this.stageViews(project, [stage]))[0];
  }

  /**
   * Queues a promotion of freight (by ID or alias) into a stage. Freight the stage does not
   * accept is refused with a ConflictError that says why.
   */
  async promote(project: string, stageName: string, freightRef: string, actor?: string): Promise<Promotion> {
    if (!freightRef) throw new InputError('name the freight to promote: {"freight": "<id or alias>"}');
    const stage = await this.pipelines.getStage(project, stageName);
    const freight = await this.freight.get(project, freightRef);
    const verified = await this.freight.verifiedIn(project, [freight.id]);
    const q = qualifies(stage, freight, verified.get(freight.id) ?? []);
    if (!q.ok) throw new ConflictError(q.reason);
    const template = stage.spec.promotionTemplate?.spec;
    const id = await this.promotions.create(
      {
        project,
        stage: stageName,
        freightId: freight.id,
        steps: template?.steps ?? [],
        vars: [...(stage.spec.vars ?? []), ...(template?.vars ?? [])],
        createdBy: actor,
      },
      this.now(),
    );
    this.worker.wake();
    return this.promotions.get(project, id);
  }

  async listPromotions(project: string, filter: { stage?: string; limit?: number } = {}): Promise<Promotion[]> {
    await this.pipelines.assertProject(project);
    return this.promotions.list(project, filter);
  }

  getPromotion(project: string, id: string): Promise<Promotion> {
    return this.promotions.get(project, id);
  }

  /** The stages and freight one catalog entity shows: optionally limited to some warehouses. */
  async entityPipeline(project: string, warehouses?: string[]): Promise<EntityPipeline> {
    await this.pipelines.assertProject(project);
    let stages = await this.pipelines.listStages(project);
    if (warehouses?.length) {
      stages = stages.filter(s => s.spec.requestedFreight.some(r => warehouses.includes(r.origin.name)));
    }
    const [stageViews, freight, allWarehouses] = await Promise.all([
      this.stageViews(project, stages),
      this.listFreight(project, { limit: 100 }),
      this.listWarehouses(project),
    ]);
    const relevant = (name: string) => !warehouses?.length || warehouses.includes(name);
    return {
      project,
      stages: stageViews,
      freight: freight.filter(f => relevant(f.origin.name)),
      warehouses: allWarehouses.filter(w => relevant(w.name)),
    };
  }

  private freightView(f: StoredFreight, stages: StoredStage[], verified: Map<string, string[]>): Freight {
    const currentlyIn = stages.filter(s => s.currentFreightId === f.id).map(s => s.name);
    return FreightStore.toView(f, currentlyIn, verified.get(f.id) ?? []);
  }

  private async stageViews(project: string, stages: StoredStage[]): Promise<Stage[]> {
    const order = pipelineOrder(stages);
    const byName = new Map(stages.map(s => [s.name, s]));
    const last = await this.promotions.lastPerStage(project);
    const freightIds = [...new Set(stages.map(s => s.currentFreightId).filter((x): x is string => !!x))];
    const aliases = new Map<string, string>();
    for (const id of freightIds) aliases.set(id, (await this.freight.get(project, id)).alias);
    return order.map(name => {
      const s = byName.get(name)!;
      return {
        project,
        name,
        requestedFreight: s.spec.requestedFreight.map(r => ({
          origin: r.origin,
          sources: { direct: !!r.sources.direct, stages: r.sources.stages ?? [] },
        })),
        stepCount: s.spec.promotionTemplate?.spec.steps.length ?? 0,
        currentFreight: s.currentFreightId
          ? { id: s.currentFreightId, alias: aliases.get(s.currentFreightId) ?? s.currentFreightId }
          : undefined,
        lastPromotion: last.get(name),
      };
    });
  }
}

/** An alias as setFreightAlias and createFreight accept it. */
function assertAlias(alias: unknown): string {
  if (typeof alias !== 'string' || !ALIAS.test(alias)) {
    throw new InputError(
      'alias must be 1 to 63 lowercase letters, digits and "-", starting and ending with a letter or digit',
    );
  }
  return alias;
}

function toWarehouseView(w: StoredWarehouse): Warehouse {
  return {
    project: w.project,
    name: w.name,
    interval: w.spec.interval,
    freightCreationPolicy: w.spec.freightCreationPolicy ?? 'Automatic',
    subscriptions: w.spec.subscriptions,
    status: {
      lastDiscoveryAt: w.row.last_discovery_at ?? undefined,
      nextDiscoveryAt: w.row.next_discovery_at ?? undefined,
      lastError: w.row.last_error ?? undefined,
      lastFreightId: w.row.last_freight_id ?? undefined,
      discovered: w.row.discovered_json ? JSON.parse(w.row.discovered_json) : undefined,
    },
  };
}
