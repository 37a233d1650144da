import { createHash } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { Knex } from 'knex';
import { ConflictError, InputError, NotFoundError } from '@backstage/errors';
import type {
  ApplyManifestsResult,
  CreateFreightRequest,
  EntityPipeline,
  Freight,
  ManifestApply,
  ProjectSummary,
  Promotion,
  Stage,
  StageFreightList,
  Verification,
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
import { builtinSteps, StepDefinition } from './promotion/steps';
import type { ScmCredentials } from './integrations/scm/ScmCredentials';
import type { EgressPolicy } from './integrations/http/egress';
import { MetadataStore } from './store/MetadataStore';
import { AUTO_PROMOTION_ACTOR, AutoPromoter, autoPromotionCandidate } from './stages/autoPromotion';
import { PolicyContext, StagePolicies } from './stages/StagePolicies';
import { GroupCommit } from './store/GroupCommit';
import { tuneSqlite } from './store/sqliteTuning';
import { FreightStore, StoredFreight } from './store/FreightStore';
import { applyMigrations } from './store/migrations';
import { PipelineStore, StoredStage, StoredWarehouse } from './store/PipelineStore';
import { ClaimedPromotion, PromotionStore } from './store/PromotionStore';
import { VerificationStore } from './store/VerificationStore';
import { ManifestApplyStore } from './store/ManifestApplyStore';
import { argoCdNamespaces, ArgoCdSettings, DEFAULT_ARGOCD_SETTINGS } from './integrations/argocd/types';
import type { KubeClusters } from './integrations/kubernetes/types';
import { unconfiguredClusters } from './integrations/kubernetes/unconfigured';
import { entityApps, EntityArgoCdAnnotations } from './integrations/argocd/entityApps';
import { StageHealthMonitor } from './stages/StageHealthMonitor';
import { analysisForStage } from './verification/forStage';
import { builtinProviders } from './verification/providers';
import type { VerificationCredentials } from './verification/credentials';
import type { MetricProvider } from './verification/types';
import { VerificationWorker } from './verification/VerificationWorker';
import type { JobSettings } from './verification/jobSettings';
import { Clock, Logger, systemClock } from './util/types';

const ALIAS = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/** Who applies a set of manifests, from which revision, and whether it may remove warehouses and stages. */
export interface ApplyManifestsOptions {
  /** Remove the project's warehouses and stages that the set does not define (`?prune=true`). */
  prune?: boolean;
  /** The user or service applying (recorded in the apply history). */
  actor?: string;
  /** The source revision the manifests come from, when the caller knows it (a commit SHA, a tag). */
  revision?: string;
}

/** A revision as recorded: one line of at most 255 characters, or none. */
function checkRevision(revision: string | undefined): string | undefined {
  if (revision === undefined || revision === '') return undefined;
  if (revision.length > 255 || !/^[\x21-\x7e]+$/.test(revision)) {
    throw new InputError('revision must be at most 255 printable characters without spaces, such as a commit SHA or a tag');
  }
  return revision;
}

export interface StagecoachEngineOptions {
  knex: Knex;
  logger: Logger;
  clock?: Clock;
  /** Folder for promotion work directories and discovery caches (default: OS temp). */
  workDir?: string;
  gitIdentity?: GitIdentity;
  /** Skip running migrations (when the host runs them). */
  skipMigrations?: boolean;
  worker?: { concurrency?: number; pollIntervalMs?: number; claimTtlMs?: number; maxAttempts?: number };
  /** Credentials for Git over HTTP(S) and SCM APIs (pull requests); default: none. */
  credentials?: ScmCredentials;
  /** Replaces the built-in promotion steps (tests). */
  steps?: ReadonlyMap<string, StepDefinition>;
  /** Unused: pull-request steps, http steps and metrics all send their requests through `egress`. */
  fetch?: typeof fetch;
  /**
   * Where the `http` and `http-download` steps, the `web` and `prometheus` metrics, Git remotes
   * (git steps, warehouses) and pull-request APIs may send requests (app-config
   * `stagecoach.egress`); default production's: loopback, link-local and
   * cloud metadata denied. Tests that talk to loopback servers pass one that allows loopback.
   */
  egress?: EgressPolicy;
  /** The most a step's outputs may take, as JSON (app-config `stagecoach.promotions.maxOutputBytes`; default 1 MiB). */
  maxOutputBytes?: number;
  /** Whether a new promotion aborts the stage's older pending ones (default false; a request may ask). */
  supersedePending?: boolean;
  /** Kubernetes clusters, for Argo CD (argocd-* steps, stage health) and job metrics (default: none). */
  kube?: KubeClusters;
  /** Argo CD's default namespace and UI address (default namespace `argocd`). */
  argocd?: ArgoCdSettings;
  verification?: {
    /** Where job metrics run (default: the project's name as namespace, on the default cluster). */
    jobs?: JobSettings;
    pollIntervalMs?: number;
    /** How often a verification waiting for a healthy stage looks again (default 10 s). */
    healthPollMs?: number;
    /** Verifications advanced side by side by this backend (default 8). */
    concurrency?: number;
    claimTtlMs?: number;
    /** Headers for the web and prometheus metrics, per URL prefix (app-config). */
    credentials?: VerificationCredentials;
    /** The most a measurement's value may take (app-config `stagecoach.verification.maxResultBytes`; default 64 KiB). */
    maxResultBytes?: number;
    /** Replaces the metric providers (tests). */
    providers?: ReadonlyMap<string, MetricProvider>;
  };
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
  /**
   * Told about the changes the engine makes on its own (auto-promotions), for the audit log;
   * the REST API audits the changes people ask for. Must not throw.
   */
  onAutomaticChange?: (change: AutomaticChange) => void;
}

/** A change the engine made without anyone asking: who (an engine actor), what, and how it ended. */
export interface AutomaticChange {
  eventId: 'promotion-create';
  actor: string;
  meta: { project: string; stage: string; freight: string; promotion?: string };
  error?: Error;
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
  readonly verifications: VerificationStore;
  /** Who applied which manifests (the apply history). */
  readonly manifestApplies: ManifestApplyStore;
  /** Runs verifications: started by the host, like the promotion worker. */
  readonly verificationWorker: VerificationWorker;
  /** Stage health: checked before verifications start, and by the host's schedule (checkAll). */
  readonly health: StageHealthMonitor;
  private readonly kube: KubeClusters;
  private readonly argocd: ArgoCdSettings;
  /** Where job metrics may run and with which service accounts (checked at apply and at run). */
  private readonly jobs: JobSettings;
  /** Auto-promotion per ProjectConfig policies: run by the scheduler and after freight or promotions change. */
  readonly autoPromotion: AutoPromoter;
  private readonly policies: StagePolicies;
  /** One client for every registry: its per-host limits and digest caches are shared. */
  readonly registry: RegistryClient;
  private readonly clock: Clock;
  private readonly logger: Logger;
  /** The artifact sources, shared by discovery and freight assembled by hand. */
  private readonly subscribers: Subscribers;
  private readonly onEvent?: (event: StagecoachEvent) => void | Promise<void>;
  private readonly supersedePending: boolean;
  /** The steps promotions run, and manifests may name. */
  private readonly steps: ReadonlyMap<string, StepDefinition>;
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
    this.supersedePending = options.supersedePending ?? false;
    this.steps = options.steps ?? builtinSteps;
    const workDir = options.workDir ?? path.join(os.tmpdir(), 'stagecoach');
    this.pipelines = new PipelineStore(knex);
    this.freight = new FreightStore(knex);
    this.promotions = new PromotionStore(knex);
    this.verifications = new VerificationStore(knex);
    this.manifestApplies = new ManifestApplyStore(knex);
    this.kube = options.kube ?? unconfiguredClusters;
    this.argocd = options.argocd ?? DEFAULT_ARGOCD_SETTINGS;
    // a project named after Argo CD's namespace must not get to run job pods there
    const jobs = options.verification?.jobs ?? {};
    this.jobs = { ...jobs, protectedNamespaces: [...(jobs.protectedNamespaces ?? []), ...argoCdNamespaces(this.argocd)] };
    this.policies = new StagePolicies({ pipelines: this.pipelines, freight: this.freight, clock: this.clock });
    this.subscribers = {
      git: new GitSubscriber(path.join(workDir, 'cache'), { egress: options.egress }),
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
      onFreightCreated: created => {
        this.reportFreight(created.project, created.warehouse, created.createdFreightId!, 'discovery');
        this.autoPromotion.kick(created.project);
      },
    });
    const runner = new PromotionRunner({
      promotions: this.promotions,
      freight: this.freight,
      metadata: new MetadataStore(knex),
      clock: this.clock,
      logger,
      workRoot: path.join(workDir, 'promotions'),
      gitIdentity: options.gitIdentity,
      credentials: options.credentials,
      steps: this.steps,
      fetch: options.fetch,
      egress: options.egress,
      maxOutputBytes: options.maxOutputBytes,
      kube: this.kube,
      argocd: this.argocd,
      onSucceeded: (p, tx) => this.promotionSucceeded(p, tx),
      onStarted: async p => {
        // what is being verified is about to change: the verification in progress would judge the wrong thing
        const n = await this.verifications.supersedeActive(p.project, p.stage, this.now(), `promotion ${p.id}`).catch(() => 0);
        if (n > 0) this.verificationWorker.wake();
      },
    });
    this.health = new StageHealthMonitor({
      pipelines: this.pipelines,
      promotions: this.promotions,
      kube: this.kube,
      argocd: this.argocd,
      clock: this.clock,
      logger,
    });
    this.verificationWorker = new VerificationWorker({
      verifications: this.verifications,
      pipelines: this.pipelines,
      freight: this.freight,
      health: this.health,
      providers: options.verification?.providers ?? builtinProviders,
      kube: this.kube,
      jobs: this.jobs,
      fetch: options.fetch,
      egress: options.egress,
      maxResultBytes: options.verification?.maxResultBytes,
      credentials: options.verification?.credentials,
      clock: this.clock,
      logger,
      pollIntervalMs: options.verification?.pollIntervalMs,
      healthPollMs: options.verification?.healthPollMs,
      claimTtlMs: options.verification?.claimTtlMs,
      concurrency: options.verification?.concurrency,
      onFinished: v => {
        this.reportVerification(v.project, v.id);
        // freight verified here may now go on to the next stages
        if (v.phase === 'Successful') this.autoPromotion.kick(v.project);
      },
    });
    this.worker = new PromotionWorker({
      promotions: this.promotions,
      runner,
      clock: this.clock,
      logger,
      ...options.worker,
      onFinished: p => {
        this.reportPromotion(p.project, p.id);
        this.autoPromotion.kick(p.project);
      },
    });
    this.autoPromotion = new AutoPromoter({
      pipelines: this.pipelines,
      freight: this.freight,
      policies: this.policies,
      clock: this.clock,
      logger,
      promote: async (project, stage, freightId) => {
        const change = { eventId: 'promotion-create', actor: AUTO_PROMOTION_ACTOR, meta: { project, stage, freight: freightId } } as const;
        try {
          const { id } = await this.promote(project, stage, freightId, AUTO_PROMOTION_ACTOR, { automatic: true });
          options.onAutomaticChange?.({ ...change, meta: { ...change.meta, promotion: id } });
          return id;
        } catch (error) {
          options.onAutomaticChange?.({ ...change, error: error as Error });
          throw error;
        }
      },
    });
  }

  /**
   * In the transaction that ends a promotion Succeeded: a control-flow stage (no steps) passes
   * its freight through verified, as Kargo does; any other stage queues a verification, which
   * starts once the stage is healthy and alone makes the freight verified there.
   */
  private async promotionSucceeded(p: ClaimedPromotion, tx: Knex.Transaction): Promise<void> {
    const now = this.now();
    if (p.steps.length === 0) {
      await this.freight.markVerified(p.project, p.freightId, p.stage, now, tx);
      return;
    }
    const stage = await this.pipelines.transacting(tx).getStage(p.project, p.stage);
    await this.verifications.create(
      { project: p.project, stage: p.stage, freightId: p.freightId, promotionId: p.id, createdBy: p.createdBy, ...analysisForStage(stage) },
      now,
      `promotion ${p.id}`,
      tx,
    );
    // after the commit: the worker would not see the new verification before it
    setImmediate(() => this.verificationWorker.wake());
  }

  /** Verifies the stage's current freight again (Kargo's reverify): a new verification, which supersedes any in progress. */
  async reverify(project: string, stageName: string, actor?: string): Promise<Verification> {
    const stage = await this.pipelines.getStage(project, stageName);
    if (!stage.currentFreightId) throw new ConflictError(`stage ${stageName} has no freight to verify: promote some first`);
    if ((stage.spec.promotionTemplate?.spec.steps.length ?? 0) === 0) {
      throw new ConflictError(`stage ${stageName} is a control-flow stage (no steps): its freight passes through verified, with nothing to verify`);
    }
    const id = await this.verifications.create(
      { project, stage: stageName, freightId: stage.currentFreightId, createdBy: actor, ...analysisForStage(stage) },
      this.now(),
      `a re-verification by ${actor ?? 'an unnamed caller'}`,
    );
    this.logger.info(`verification ${id} of ${project}/${stageName} requested by ${actor ?? 'an unnamed caller'}`);
    this.verificationWorker.wake();
    return this.verifications.get(project, id);
  }

  /** Aborts the stage's verification in progress; ConflictError when there is none. */
  async abortVerification(project: string, stageName: string, actor: string): Promise<Verification> {
    await this.pipelines.getStage(project, stageName);
    const id = await this.verifications.requestAbort(project, stageName, actor, this.now());
    this.verificationWorker.wake();
    const v = await this.verifications.get(project, id);
    if (v.phase === 'Aborted') this.reportVerification(project, id);
    return v;
  }

  async listVerifications(project: string, stageName: string, limit?: number): Promise<Verification[]> {
    await this.pipelines.getStage(project, stageName);
    return this.verifications.list(project, stageName, limit);
  }

  getVerification(project: string, id: string): Promise<Verification> {
    return this.verifications.get(project, id);
  }

  /** Starts the workers: promotions and verifications. */
  start(): void {
    this.worker.start();
    this.verificationWorker.start();
  }

  /** Stops the workers and releases connections. */
  async close(): Promise<void> {
    await this.autoPromotion.stop();
    await this.verificationWorker.stop();
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

  private reportVerification(project: string, id: string) {
    this.report(`verification.finished (verification ${id} in project ${project})`, async () => {
      const verification = await this.verifications.get(project, id);
      return { type: 'verification.finished', project, stage: verification.stage, phase: verification.phase, verification };
    });
  }

  private now(): string {
    return this.clock.now().toISOString();
  }

  /**
   * Validates a multi-document YAML set and, only if all of it is valid, makes it the
   * project's pipeline, and records who applied it (see ApplyManifestsOptions). Removing
   * warehouses or stages needs `prune` (PruneRequiredError, a 409, otherwise); a removed
   * stage's queued and running promotions and verifications are aborted, its history kept.
   */
  async applyManifests(project: string, yamlText: string, options: ApplyManifestsOptions = {}): Promise<ApplyManifestsResult> {
    const revision = checkRevision(options.revision);
    const manifests = parseManifests(project, yamlText, this.steps, this.jobs);
    const now = this.now();
    const digest = `sha256:${createHash('sha256').update(yamlText).digest('hex')}`;
    const changes = await this.pipelines.applyManifests(manifests, now, {
      prune: options.prune,
      record: { by: options.actor, revision, digest },
    });
    for (const stage of changes.stages.removed) await this.stopRemovedStage(project, stage, options.actor);
    return {
      project,
      warehouses: manifests.warehouses.map(w => w.name),
      stages: pipelineOrder(manifests.stages),
    };
  }

  /** What is still queued or running for a stage that an apply removed ends: Aborted, by whom and why. */
  private async stopRemovedStage(project: string, stage: string, actor = 'a manifest apply') {
    const by = `${actor} (stage ${stage} was removed from the project's manifests)`;
    for (const id of await this.promotions.activeIds(project, stage)) {
      const outcome = await this.promotions.requestAbort(project, id, by, this.now()).catch(() => undefined);
      if (outcome === 'aborted') this.reportPromotion(project, id);
    }
    await this.verifications.supersedeActive(project, stage, this.now(), by);
    this.worker.wake();
    this.verificationWorker.wake();
  }

  /** The project's last manifest applies, newest first. */
  async manifestHistory(project: string, limit?: number): Promise<ManifestApply[]> {
    await this.pipelines.assertProject(project);
    return this.manifestApplies.list(project, limit);
  }

  listProjects(): Promise<ProjectSummary[]> {
    return this.pipelines.listProjects();
  }

  async getProject(project: string): Promise<ProjectSummary> {
    await this.pipelines.assertProject(project);
    const summary = (await this.pipelines.listProjects()).find(p => p.name === project)!;
    const lastApplied = await this.manifestApplies.last(project);
    return { ...summary, ...(lastApplied ? { lastApplied } : {}) };
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
    let stage: StoredStage | undefined;
    if (filter.stage) stage = await this.pipelines.getStage(project, filter.stage);
    const all = await this.freight.list(project, {
      warehouses: filter.origin ? [filter.origin] : undefined,
      limit: stage ? undefined : filter.limit,
    });
    const ctx = await this.policies.context(project, { freightIds: all.map(f => f.id) });
    let items = all;
    if (stage) {
      items = all.filter(f => this.policies.availability(ctx, stage!, f).available);
      if (filter.limit) items = items.slice(0, filter.limit);
    }
    return items.map(f => this.freightView(f, ctx));
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
      this.autoPromotion.kick(project);
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
    const ctx = await this.policies.context(project, { freightIds: [f.id] });
    return this.freightView(f, ctx);
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
  async promote(
    project: string,
    stageName: string,
    freightRef: string,
    actor?: string,
    options: { supersede?: boolean; automatic?: boolean } = {},
  ): Promise<Promotion> {
    if (!freightRef) throw new InputError('name the freight to promote: {"freight": "<id or alias>"}');
    const stage = await this.pipelines.getStage(project, stageName);
    const freight = await this.freight.get(project, freightRef);
    const ctx = await this.policies.context(project, { freightIds: [freight.id] });
    const availability = this.policies.availability(ctx, stage, freight);
    if (!availability.available) {
      throw new ConflictError(`freight ${freight.alias} cannot be promoted to ${stageName}: ${availability.reason}`);
    }
    // auto-promotions never hold; a person promoting other freight than the candidate does
    const hold = options.automatic ? undefined : await this.autoPromotion.manualPromotionHold(stage, freight);
    if (hold) await this.autoPromotion.applyHold(hold, stage, freight, actor);
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
      { supersede: options.supersede ?? this.supersedePending },
    );
    if (hold && !hold.release) await this.pipelines.linkHold(project, stageName, hold.origin, freight.id, id);
    this.worker.wake();
    return this.promotions.get(project, id);
  }

  /**
   * The freight a promotion by origin takes (Kargo's Promotion with `origin` instead of
   * `freight`): the one auto-promotion would choose for that warehouse — the newest freight
   * available to the stage, or with MatchUpstream the freight in the upstream stage.
   * ConflictError naming why when there is none.
   */
  async candidateFreight(project: string, stageName: string, origin: string): Promise<Freight> {
    const stage = await this.pipelines.getStage(project, stageName);
    const requested = stage.spec.requestedFreight.find(r => r.origin.name === origin);
    if (!requested) {
      const known = stage.spec.requestedFreight.map(r => r.origin.name).join(', ');
      throw new InputError(`stage "${stageName}" takes freight from warehouse ${known}, not from "${origin}"`);
    }
    const ofOrigin = await this.freight.list(project, { warehouses: [origin] });
    const ctx = await this.policies.context(project, { freightIds: ofOrigin.map(f => f.id) });
    const candidate = autoPromotionCandidate(this.policies, ctx, stage, requested, ofOrigin);
    if (!candidate) {
      throw new ConflictError(
        `no freight of warehouse "${origin}" can be promoted to ${stageName} now ` +
          `(GET /api/stagecoach/projects/${project}/stages/${stageName}/freight says why for each)`,
      );
    }
    return this.getFreight(project, candidate.id);
  }

  /**
   * Aborts a promotion: a pending or waiting one ends at once; a running one stops within a
   * heartbeat (its running step is interrupted). ConflictError when it has already ended.
   */
  async abortPromotion(project: string, id: string, actor: string): Promise<Promotion> {
    const outcome = await this.promotions.requestAbort(project, id, actor, this.now());
    if (outcome === 'aborted') {
      const p = await this.promotions.get(project, id);
      this.reportPromotion(project, id);
      this.worker.wake();
      return p;
    }
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
  async entityPipeline(project: string, warehouses?: string[], argocd: EntityArgoCdAnnotations = {}): Promise<EntityPipeline> {
    await this.pipelines.assertProject(project);
    let stages = await this.pipelines.listStages(project);
    if (warehouses?.length) {
      stages = stages.filter(s => s.spec.requestedFreight.some(r => warehouses.includes(r.origin.name)));
    }
    const [stageViews, freight, allWarehouses, apps] = await Promise.all([
      this.stageViews(project, stages),
      this.listFreight(project, { limit: 100 }),
      this.listWarehouses(project),
      entityApps(this.kube, this.argocd, project, new Set(stages.map(s => s.name)), argocd),
    ]);
    const relevant = (name: string) => !warehouses?.length || warehouses.includes(name);
    return {
      project,
      stages: stageViews,
      freight: freight.filter(f => relevant(f.origin.name)),
      warehouses: allWarehouses.filter(w => relevant(w.name)),
      ...apps,
    };
  }

  private freightView(f: StoredFreight, ctx: PolicyContext): Freight {
    const facts = ctx.facts(f.id);
    const verifiedIn = [...facts.records.values()].filter(r => r.verifiedAt).map(r => r.stage);
    return FreightStore.toView(f, [...facts.currentlyIn], verifiedIn, this.policies.freightStatus(ctx, f));
  }

  /**
   * Approves freight for a stage by hand: it may then enter the stage without being verified
   * or soaked upstream. Approving again keeps the first approval.
   */
  async approveFreight(project: string, idOrAlias: string, stageName: unknown, actor?: string): Promise<Freight> {
    if (typeof stageName !== 'string' || !stageName) {
      throw new InputError('name the stage to approve the freight for: {"stage": "<stage>"}');
    }
    const freight = await this.freight.get(project, idOrAlias);
    const stage = await this.pipelines.getStage(project, stageName);
    if (!stage.spec.requestedFreight.some(r => r.origin.name === freight.warehouse)) {
      const origins = stage.spec.requestedFreight.map(r => r.origin.name).join(', ');
      throw new InputError(
        `stage ${stageName} takes freight from warehouse ${origins}, not from warehouse ${freight.warehouse}: ` +
          `freight ${freight.alias} cannot be approved for it`,
      );
    }
    if (await this.freight.approve(project, freight.id, stageName, actor, this.now())) {
      this.logger.info(`freight ${freight.alias} (${freight.id}) approved for ${project}/${stageName} by ${actor ?? 'an unnamed caller'}`);
      this.autoPromotion.kick(project);
    }
    return this.getFreight(project, freight.id);
  }

  /**
   * Every freight of the stage's warehouses, newest first, with whether it may enter the
   * stage now and why (not), and which one auto-promotion would promote.
   */
  async stageFreight(project: string, stageName: string, filter: { limit?: number } = {}): Promise<StageFreightList> {
    const stage = await this.pipelines.getStage(project, stageName);
    const all = await this.freight.list(project, { warehouses: stage.spec.requestedFreight.map(r => r.origin.name) });
    const ctx = await this.policies.context(project, { freightIds: all.map(f => f.id) });
    const candidates = new Set<string>();
    if (this.policies.autoPromotion(ctx, stage).enabled) {
      for (const r of stage.spec.requestedFreight) {
        const c = autoPromotionCandidate(this.policies, ctx, stage, r, all.filter(f => f.warehouse === r.origin.name));
        if (c) candidates.add(c.id);
      }
    }
    const items = all.slice(0, filter.limit ?? all.length).map(f => {
      const a = this.policies.availability(ctx, stage, f);
      return {
        freight: this.freightView(f, ctx),
        available: a.available,
        reason: a.reason,
        ...(a.availableAt ? { availableAt: a.availableAt } : {}),
        ...(candidates.has(f.id) ? { autoPromotionCandidate: true } : {}),
      };
    });
    return { stage: stageName, items };
  }

  /** Releases a stage's auto-promotion hold (of one origin, or all), so that auto-promotion resumes. */
  async releaseAutoPromotionHold(project: string, stageName: string, origin?: string, actor?: string): Promise<Stage> {
    const stage = await this.pipelines.getStage(project, stageName);
    if (origin !== undefined && !stage.spec.requestedFreight.some(r => r.origin.name === origin)) {
      throw new InputError(`stage ${stageName} takes no freight from warehouse ${origin}, so it has no hold for it`);
    }
    const released = await this.pipelines.releaseHolds(project, stageName, origin);
    if (released.length === 0) {
      throw new NotFoundError(`stage ${stageName} has no auto-promotion hold${origin ? ` for warehouse ${origin}` : ''}`);
    }
    this.logger.info(
      `auto-promotion hold of ${project}/${stageName} (${released.map(h => h.origin).join(', ')}) released by ${actor ?? 'an unnamed caller'}`,
    );
    this.autoPromotion.kick(project);
    return this.getStage(project, stageName);
  }

  private async stageViews(project: string, stages: StoredStage[]): Promise<Stage[]> {
    const order = pipelineOrder(stages);
    const byName = new Map(stages.map(s => [s.name, s]));
    const [last, config, holds, verifications] = await Promise.all([
      this.promotions.lastPerStage(project),
      this.pipelines.getProjectConfig(project),
      this.pipelines.listHolds(project),
      this.verifications.latestPerStage(project),
    ]);
    const freightIds = [
      ...new Set([...stages.map(s => s.currentFreightId), ...holds.map(h => h.freightId)].filter((x): x is string => !!x)),
    ];
    const aliases = new Map<string, string>();
    for (const id of freightIds) {
      aliases.set(id, await this.freight.get(project, id).then(f => f.alias, () => id));
    }
    return order.map(name => {
      const s = byName.get(name)!;
      return {
        project,
        name,
        requestedFreight: s.spec.requestedFreight.map(r => ({
          origin: r.origin,
          sources: {
            direct: !!r.sources.direct,
            stages: r.sources.stages ?? [],
            ...(r.sources.availabilityStrategy ? { availabilityStrategy: r.sources.availabilityStrategy } : {}),
            ...(r.sources.requiredSoakTime ? { requiredSoakTime: r.sources.requiredSoakTime } : {}),
            ...(r.sources.autoPromotionOptions ? { autoPromotionOptions: r.sources.autoPromotionOptions } : {}),
          },
        })),
        stepCount: s.spec.promotionTemplate?.spec.steps.length ?? 0,
        currentFreight: s.currentFreightId
          ? { id: s.currentFreightId, alias: aliases.get(s.currentFreightId) ?? s.currentFreightId }
          : undefined,
        lastPromotion: last.get(name),
        ...this.policies.stageExtras({ config }, s, holds, id => aliases.get(id) ?? id),
        ...(s.health ? { health: s.health } : {}),
        ...(verifications.has(name) ? { verification: verifications.get(name) } : {}),
        analysisTemplates: (s.spec.verification?.analysisTemplates ?? []).map(t => t.name),
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
