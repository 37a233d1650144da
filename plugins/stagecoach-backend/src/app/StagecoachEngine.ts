import os from 'node:os';
import path from 'node:path';
import { DiscoveryService } from '../discovery/DiscoveryService';
import { builtinKinds } from '../discovery/kinds';
import { SubscriptionKinds } from '../discovery/SubscriptionKinds';
import {
  argoCdNamespaces,
  DEFAULT_ARGOCD_SETTINGS,
} from '../integrations/argocd/types';
import { unconfiguredClusters } from '../integrations/kubernetes/unconfigured';
import { RegistryClient } from '../integrations/registry';
import { PromotionRunner } from '../promotion/PromotionRunner';
import { PromotionWorker } from '../promotion/PromotionWorker';
import { builtinSteps } from '../promotion/steps';
import { AUTO_PROMOTION_ACTOR, AutoPromoter } from '../stages/autoPromotion';
import { StageHealthMonitor } from '../stages/StageHealthMonitor';
import { StagePolicies } from '../stages/StagePolicies';
import { FreightStore } from '../store/FreightStore';
import { GroupCommit } from '../store/GroupCommit';
import { ManifestApplyStore } from '../store/ManifestApplyStore';
import { CatalogPipelineStore } from '../store/CatalogPipelineStore';
import { MetadataStore } from '../store/MetadataStore';
import { applyMigrations } from '../store/migrations';
import { CredentialStore } from '../store/CredentialStore';
import { describeCredential, ProjectCredentials } from '../credentials/ProjectCredentials';
import { noScmCredentials } from '../integrations/scm/ScmCredentials';
import type { SubscriptionContext } from '../discovery/types';
import { PipelineStore } from '../store/PipelineStore';
import { PromotionStore } from '../store/PromotionStore';
import { tuneSqlite } from '../store/sqliteTuning';
import { VerificationStore } from '../store/VerificationStore';
import { systemClock } from '../util/types';
import {
  builtinProviders,
  moduleProviderSchemas,
} from '../verification/providers';
import { VerificationWorker } from '../verification/VerificationWorker';
import { EntityPipelineService } from './EntityPipelineService';
import { DomainEventBus } from './events/DomainEventBus';
import { reportStagecoachEvents } from './events/StagecoachEvent';
import { FreightService } from './FreightService';
import { manifestExtensions } from './manifestExtensions';
import { ProjectService } from './ProjectService';
import { ClusterService } from './ClusterService';
import { ProjectData } from './projectData';
import { WebhookReceiverStore } from '../store/WebhookReceiverStore';
import { ClusterStore } from '../store/ClusterStore';
import { DEFAULT_GIT_IDENTITY } from '../integrations/git/GitCli';
import { PromotionService } from './PromotionService';
import { subscribeReactions } from './reactions';
import { StageService } from './StageService';
import type { StagecoachEngineOptions } from './StagecoachEngineOptions';
import { VerificationService } from './VerificationService';
import { Views } from './views';
import { WarehouseService } from './WarehouseService';

/** The Knex stores, one per aggregate. */
export interface EngineStores {
  pipelines: PipelineStore;
  freight: FreightStore;
  promotions: PromotionStore;
  verifications: VerificationStore;
  /** Who applied which manifests (the apply history). */
  manifestApplies: ManifestApplyStore;
  /** The projects' credentials, sealed. */
  credentials: CredentialStore;
  /** The cluster scope: ClusterPromotionTasks, the ClusterConfig, their apply history. */
  cluster: ClusterStore;
  /** Projects whose pipeline a catalog entity names (`stagecoach.io/pipeline-ref`): owner and state. */
  catalogPipelines: CatalogPipelineStore;
}

/** What runs in the background; the host starts the workers and schedules the rest. */
export interface EngineWorkers {
  /** Discovery of due warehouses: the host's schedule calls runDue. */
  discovery: DiscoveryService;
  /** Claims and runs promotions. */
  promotion: PromotionWorker;
  /** Runs verifications. */
  verification: VerificationWorker;
  /** Stage health: checked before verifications start, and by the host's schedule (checkAll). */
  health: StageHealthMonitor;
  /** Auto-promotion per ProjectConfig policies: run by the schedule and on the events that may move freight. */
  autoPromotion: AutoPromoter;
}

/**
 * Stagecoach's engine: the composition root. It builds the stores, the features' workers and
 * the use-case services over one domain-event bus, and connects them; it holds no use case
 * itself. It needs a Knex, a logger and a clock, and nothing from Backstage.
 */
export class StagecoachEngine {
  readonly projects: ProjectService;
  /** The cluster scope (ClusterPromotionTasks, ClusterConfig), shared by every project. */
  readonly cluster: ClusterService;
  readonly warehouses: WarehouseService;
  readonly freight: FreightService;
  readonly stages: StageService;
  readonly promotions: PromotionService;
  readonly verifications: VerificationService;
  /** What one catalog entity's page shows. */
  readonly entities: EntityPipelineService;
  /** Every change, once committed: subscribe to react to it. */
  readonly events: DomainEventBus;
  readonly workers: EngineWorkers;
  readonly stores: EngineStores;
  /** One client for every registry: its per-host limits and digest caches are shared. */
  private readonly registry: RegistryClient;

  static async create(
    options: StagecoachEngineOptions,
  ): Promise<StagecoachEngine> {
    await tuneSqlite(options.knex);
    if (!options.skipMigrations) await applyMigrations(options.knex);
    return new StagecoachEngine(options);
  }

  private constructor(options: StagecoachEngineOptions) {
    const { knex, logger } = options;
    const clock = options.clock ?? systemClock;
    const workDir = options.workDir ?? path.join(os.tmpdir(), 'stagecoach');
    const steps = options.steps ?? builtinSteps;
    // the built-in providers and the modules' (the plugin merges them); manifests may name them all
    const providers = options.verification?.providers ?? builtinProviders;
    const kube = options.kube ?? unconfiguredClusters;
    const argocd = options.argocd ?? DEFAULT_ARGOCD_SETTINGS;
    // a project named after Argo CD's namespace must not get to run job pods there
    const jobsOption = options.verification?.jobs ?? {};
    const jobs = {
      ...jobsOption,
      protectedNamespaces: [
        ...(jobsOption.protectedNamespaces ?? []),
        ...argoCdNamespaces(argocd),
      ],
    };
    const events = new DomainEventBus(logger);
    this.events = events;
    this.registry = new RegistryClient(options.registry);

    // what warehouses may subscribe to; their artifacts name the freight they make
    const kinds = new SubscriptionKinds(options.kinds ?? builtinKinds);

    const stores: EngineStores = {
      pipelines: new PipelineStore(knex),
      freight: new FreightStore(knex, artifacts => kinds.references(artifacts)),
      promotions: new PromotionStore(knex),
      verifications: new VerificationStore(knex),
      manifestApplies: new ManifestApplyStore(knex),
      credentials: new CredentialStore(knex),
      cluster: new ClusterStore(knex),
      catalogPipelines: new CatalogPipelineStore(knex),
    };
    this.stores = stores;
    // a project's own credentials first, then the backend's (Backstage integrations for git)
    const projectCredentials = new ProjectCredentials({ store: stores.credentials, ...options.projectCredentials });
    // configMap(), secret() and their shared variants in promotion steps and verification args
    const projectData = new ProjectData({ knex, credentials: projectCredentials });
    const scm = options.credentials ?? noScmCredentials;
    const subscriptionContext = (project: string): SubscriptionContext => ({
      project,
      credentials: async (type, url) => {
        if (type === 'git') return projectCredentials.scmFor(project, scm).git(url);
        const own = await projectCredentials.findNamed(project, type, url);
        // `from` names the Secret in a refusal's message
        return own && { ...own.credentials, from: describeCredential(project, own.name) };
      },
    });
    const policies = new StagePolicies({
      pipelines: stores.pipelines,
      freight: stores.freight,
      cluster: stores.cluster,
      clock,
    });

    // the artifact sources, shared by discovery and freight assembled by hand
    const subscribers = kinds.subscribers({
      cacheDir: path.join(workDir, 'cache'),
      egress: options.egress,
      registry: this.registry,
      logger,
    });
    const discovery = new DiscoveryService({
      pipelines: stores.pipelines,
      freight: stores.freight,
      kinds,
      subscribers,
      clock,
      logger,
      writes: new GroupCommit(knex),
      contextFor: subscriptionContext,
      onFreightCreated: created =>
        events.publish({
          type: 'FreightCreated',
          project: created.project,
          warehouse: created.warehouse,
          freightId: created.createdFreightId!,
          source: 'discovery',
        }),
      onFailed: failed =>
        events.publish({
          type: 'DiscoveryFailed',
          project: failed.project,
          warehouse: failed.warehouse,
          error: failed.error!,
        }),
    });

    const views = new Views({ ...stores, policies, discovery, kinds });
    this.verifications = new VerificationService({
      artifactFunctions: f =>
        kinds.expressionFunctions(f.artifacts, `freight ${f.alias}`, { warehouse: f.warehouse }),
      dataFunctions: (project, tx) => projectData.forVerification(project, tx),
      pipelines: stores.pipelines,
      freight: stores.freight,
      verifications: stores.verifications,
      events,
      clock,
      logger,
    });
    this.freight = new FreightService({
      pipelines: stores.pipelines,
      freight: stores.freight,
      policies,
      kinds,
      subscribers,
      contextFor: subscriptionContext,
      views,
      events,
      clock,
      logger,
    });
    this.warehouses = new WarehouseService({
      pipelines: stores.pipelines,
      discovery,
      kinds,
      views,
      clock,
    });
    this.stages = new StageService({
      pipelines: stores.pipelines,
      freight: stores.freight,
      policies,
      views,
      events,
      logger,
    });
    this.entities = new EntityPipelineService({
      pipelines: stores.pipelines,
      catalogPipelines: stores.catalogPipelines,
      catalogAdopt: options.catalogAdopt,
      freight: this.freight,
      warehouses: this.warehouses,
      views,
      kube,
      argocd,
    });

    const autoPromotion = new AutoPromoter({
      pipelines: stores.pipelines,
      freight: stores.freight,
      policies,
      clock,
      logger,
      promote: async (project, stage, freightId) => {
        try {
          return (
            await this.promotions.promote(
              project,
              stage,
              freightId,
              AUTO_PROMOTION_ACTOR,
              { automatic: true },
            )
          ).id;
        } catch (error) {
          events.publish({
            type: 'AutoPromotionFailed',
            project,
            stage,
            freightId,
            actor: AUTO_PROMOTION_ACTOR,
            error: error as Error,
          });
          throw error;
        }
      },
    });
    this.promotions = new PromotionService({
      pipelines: stores.pipelines,
      freight: stores.freight,
      promotions: stores.promotions,
      policies,
      autoPromotion,
      freightViews: this.freight,
      events,
      clock,
      supersedePending: options.supersedePending ?? false,
    });
    const extensions = manifestExtensions({
      kinds,
      steps,
      jobs,
      providers: moduleProviderSchemas(providers),
    });
    this.cluster = new ClusterService({
      cluster: stores.cluster,
      pipelines: stores.pipelines,
      manifestExtensions: extensions,
      sealSecrets: secrets => projectCredentials.sealShared(secrets),
      clock,
    });
    this.projects = new ProjectService({
      pipelines: stores.pipelines,
      manifestApplies: stores.manifestApplies,
      credentials: projectCredentials,
      promotions: this.promotions,
      verifications: this.verifications,
      manifestExtensions: extensions,
      clusterTasks: () => this.cluster.tasks(),
      webhookReceivers: new WebhookReceiverStore(knex),
      backendBaseUrl: options.backendBaseUrl,
      events,
      clock,
    });

    const runner = new PromotionRunner({
      promotions: stores.promotions,
      freight: stores.freight,
      metadata: new MetadataStore(knex),
      clock,
      logger,
      workRoot: path.join(workDir, 'promotions'),
      // the ClusterConfig's gitClient, else app-config's stagecoach.gitClient
      gitIdentity: () => this.cluster.gitIdentity(options.gitIdentity ?? DEFAULT_GIT_IDENTITY),
      credentials: options.credentials,
      credentialsFor: project => projectCredentials.scmFor(project, scm),
      steps,
      fetch: options.fetch,
      egress: options.egress,
      registry: this.registry,
      registryCredentialsFor: project => repository => projectCredentials.forRegistry(project, repository),
      maxOutputBytes: options.maxOutputBytes,
      kube,
      argocd,
      uiBaseUrl: options.uiBaseUrl,
      projectData: project => projectData.forPromotion(project),
      artifactFunctions: (artifacts, owner, collection) =>
        kinds.expressionFunctions(artifacts, owner, collection),
      // a rename by a promotion's set-freight-alias step is audited as the API's renames are
      // (freight-update), on behalf of whoever created the promotion
      onFreightAliasChanged: ({ actor, ...meta }) =>
        options.onAutomaticChange?.({
          eventId: 'freight-update',
          actor: actor ?? 'stagecoach:promotion',
          meta,
        }),
      onSucceeded: (p, tx) => this.verifications.promotionSucceeded(p, tx),
      onStarted: async p => {
        // what is being verified is about to change: the verification in progress would judge the wrong thing
        await this.verifications.supersede(
          p.project,
          p.stage,
          `promotion ${p.id}`,
        );
        events.publish({
          type: 'PromotionStarted',
          project: p.project,
          stage: p.stage,
          promotionId: p.id,
        });
      },
    });
    const health = new StageHealthMonitor({
      pipelines: stores.pipelines,
      promotions: stores.promotions,
      kube,
      argocd,
      clock,
      logger,
    });
    this.workers = {
      discovery,
      health,
      autoPromotion,
      promotion: new PromotionWorker({
        promotions: stores.promotions,
        runner,
        clock,
        logger,
        ...options.worker,
        onFinished: p =>
          events.publish({
            type: 'PromotionFinished',
            project: p.project,
            stage: p.stage,
            promotionId: p.id,
          }),
      }),
      verification: new VerificationWorker({
        verifications: stores.verifications,
        pipelines: stores.pipelines,
        freight: stores.freight,
        health,
        providers,
        kube,
        jobs,
        fetch: options.fetch,
        egress: options.egress,
        maxResultBytes: options.verification?.maxResultBytes,
        credentials: options.verification?.credentials,
        clock,
        logger,
        pollIntervalMs: options.verification?.pollIntervalMs,
        healthPollMs: options.verification?.healthPollMs,
        claimTtlMs: options.verification?.claimTtlMs,
        concurrency: options.verification?.concurrency,
        onFinished: v =>
          events.publish({
            type: 'VerificationFinished',
            project: v.project,
            stage: v.stage,
            verificationId: v.id,
            phase: v.phase,
          }),
      }),
    };

    subscribeReactions(events, {
      promotionWorker: this.workers.promotion,
      verificationWorker: this.workers.verification,
      autoPromotion,
    });
    if (options.onEvent)
      reportStagecoachEvents(events, this, options.onEvent, logger);
    const onAutomaticChange = options.onAutomaticChange;
    if (onAutomaticChange) {
      events.subscribe(
        'PromotionQueued',
        'the audit of automatic changes',
        e => {
          if (!e.automatic) return;
          onAutomaticChange({
            eventId: 'promotion-create',
            actor: e.actor ?? AUTO_PROMOTION_ACTOR,
            meta: {
              project: e.project,
              stage: e.stage,
              freight: e.freightId,
              promotion: e.promotionId,
            },
          });
        },
      );
      events.subscribe(
        'AutoPromotionFailed',
        'the audit of automatic changes',
        e =>
          onAutomaticChange({
            eventId: 'promotion-create',
            actor: e.actor,
            meta: { project: e.project, stage: e.stage, freight: e.freightId },
            error: e.error,
          }),
      );
    }
  }

  /** Starts the workers: promotions and verifications. */
  start(): void {
    this.workers.promotion.start();
    this.workers.verification.start();
  }

  /** Stops the workers, waits for what the events started, and releases connections. */
  async close(): Promise<void> {
    await this.workers.autoPromotion.stop();
    await this.workers.verification.stop();
    await this.workers.promotion.stop();
    await this.events.settle();
    this.registry.close();
  }
}
