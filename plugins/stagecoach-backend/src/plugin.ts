import fs from 'node:fs/promises';
import express from 'express';
import path from 'node:path';
import {
  coreServices,
  createBackendPlugin,
} from '@backstage/backend-plugin-api';
import { ScmIntegrations } from '@backstage/integration';
import { catalogServiceRef } from '@backstage/plugin-catalog-node';
import { eventsServiceRef } from '@backstage/plugin-events-node';
import {
  stagecoachPromotionStepsExtensionPoint,
  stagecoachSubscriptionKindsExtensionPoint,
  stagecoachVerificationProvidersExtensionPoint,
} from '@stagecoach/plugin-stagecoach-node';
import { StagecoachEngine } from './app';
import { builtinKinds } from './discovery/kinds';
import { SubscriptionKindRegistry } from './discovery/moduleKinds';
import { readArgoCdSettings } from './integrations/argocd/types';
import { readEgressPolicy } from './integrations/http/egress';
import { kubeClustersFromConfig } from './integrations/kubernetes/KubeClusters';
import {
  readRegistryHostSettings,
  registryAccessFromSettings,
} from './integrations/registry';
import { scmCredentialsFromConfig } from './integrations/scm/fromIntegrations';
import { ManifestValidationError } from './manifests/ManifestValidationError';
import { builtinSteps, PromotionStepRegistry } from './promotion/steps';
import {
  createEventPublisher,
  readEventsSettings,
  subscribeToEvents,
} from './service/events';
import { CatalogPipelineSync } from './service/catalogPipelines/CatalogPipelineSync';
import { ProjectOwners, StagecoachAccess } from './service/permissions';
import { createRouter } from './service/router';
import { readByteLimit } from './util/bytes';
import { readVerificationCredentials } from './verification/credentials';
import { readJobSettings } from './verification/jobSettings';
import {
  builtinProviders,
  VerificationProviderRegistry,
} from './verification/providers';
import {
  createWebhookRouter,
  readWebhookReceivers,
  WebhookEvent,
} from './service/webhooks';

const DISCOVERY_TASK = 'stagecoach-discovery';
const CATALOG_PIPELINES_TASK = 'stagecoach-catalog-pipelines';

/** The Stagecoach backend plugin: wires Backstage's core services into the engine; nothing else. */
export const stagecoachPlugin = createBackendPlugin({
  pluginId: 'stagecoach',
  register(env) {
    // modules add promotion steps before init runs: the engine gets them with the built-in ones
    const steps = new PromotionStepRegistry(builtinSteps);
    env.registerExtensionPoint(
      stagecoachPromotionStepsExtensionPoint,
      steps.extensionPoint,
    );
    // and verification providers: AnalysisTemplates may name them beside web, prometheus and job
    const providers = new VerificationProviderRegistry(builtinProviders);
    env.registerExtensionPoint(
      stagecoachVerificationProvidersExtensionPoint,
      providers.extensionPoint,
    );
    // and subscription kinds: Warehouses may subscribe to them beside git, image and chart
    const kinds = new SubscriptionKindRegistry(builtinKinds);
    env.registerExtensionPoint(
      stagecoachSubscriptionKindsExtensionPoint,
      kinds.extensionPoint,
    );
    env.registerInit({
      deps: {
        auth: coreServices.auth,
        auditor: coreServices.auditor,
        config: coreServices.rootConfig,
        database: coreServices.database,
        httpAuth: coreServices.httpAuth,
        httpRouter: coreServices.httpRouter,
        lifecycle: coreServices.lifecycle,
        logger: coreServices.logger,
        permissions: coreServices.permissions,
        permissionsRegistry: coreServices.permissionsRegistry,
        scheduler: coreServices.scheduler,
        urlReader: coreServices.urlReader,
        catalog: catalogServiceRef,
        events: eventsServiceRef,
      },
      async init({
        auth,
        auditor,
        config,
        database,
        httpAuth,
        httpRouter,
        lifecycle,
        logger,
        permissions,
        permissionsRegistry,
        scheduler,
        urlReader,
        catalog,
        events,
      }) {
        const eventsSettings = readEventsSettings(config);
        const engine = await StagecoachEngine.create({
          knex: await database.getClient(),
          logger,
          skipMigrations: database.migrations?.skip,
          steps: steps.seal(),
          kinds: kinds.seal(),
          workDir: config.getOptionalString('stagecoach.workDir'),
          uiBaseUrl: config.getOptionalString('app.baseUrl'),
          backendBaseUrl: config.getOptionalString('backend.baseUrl'),
          catalogAdopt: config.getOptionalStringArray(
            'stagecoach.catalogPipelines.adopt',
          ),
          gitIdentity: {
            name:
              config.getOptionalString('stagecoach.gitClient.name') ??
              'Stagecoach',
            email:
              config.getOptionalString('stagecoach.gitClient.email') ??
              'stagecoach@localhost',
          },
          worker: {
            concurrency: config.getOptionalNumber(
              'stagecoach.worker.concurrency',
            ),
            claimTtlMs: config.getOptionalNumber(
              'stagecoach.worker.claimTtlMs',
            ),
            maxAttempts: config.getOptionalNumber(
              'stagecoach.worker.maxAttempts',
            ),
          },
          supersedePending: config.getOptionalBoolean(
            'stagecoach.promotions.supersedePending',
          ),
          // where requests that manifests name (http steps, web and prometheus metrics) may go
          egress: readEgressPolicy(config),
          maxOutputBytes: readByteLimit(
            config,
            'stagecoach.promotions.maxOutputBytes',
          ),
          // Git over HTTP(S) and pull requests authenticate with Backstage's `integrations`
          credentials: scmCredentialsFromConfig(config),
          // Secrets labelled kargo.akuity.io/cred-type in a project's manifests: sealed with this key
          projectCredentials: {
            encryptionKey: config.getOptionalString(
              'stagecoach.credentials.encryptionKey',
            ),
            insecureHosts: config.getOptionalStringArray(
              'stagecoach.git.allowInsecureCredentials',
            ),
          },
          registry: registryAccessFromSettings(
            readRegistryHostSettings(config),
          ),
          // freight.created, promotion.finished and verification.finished, on the events topic `stagecoach`
          onEvent: eventsSettings.enabled
            ? createEventPublisher(events)
            : undefined,
          // auto-promotions are audited like the promotions people ask for, with the engine as actor
          onAutomaticChange: change => {
            auditor
              .createEvent({
                eventId: change.eventId,
                severityLevel: 'medium',
                meta: { actor: change.actor, ...change.meta },
              })
              .then(event =>
                change.error
                  ? event.fail({ error: change.error })
                  : event.success(),
              )
              .catch(e =>
                logger.warn(
                  `could not record the audit event ${change.eventId}: ${e}`,
                ),
              );
          },
          kube: kubeClustersFromConfig(config, { logger }),
          argocd: readArgoCdSettings(config),
          verification: {
            credentials: readVerificationCredentials(config),
            concurrency: config.getOptionalNumber(
              'stagecoach.verification.concurrency',
            ),
            maxResultBytes: readByteLimit(
              config,
              'stagecoach.verification.maxResultBytes',
            ),
            jobs: readJobSettings(config),
            providers: providers.seal(),
          },
        });
        // tenancy: permissions on projects and stages, with rules a policy combines (docs/permissions.md)
        const owners = new ProjectOwners(catalog, auth);
        const pipelineLookup = {
          listProjects: async () =>
            (await engine.projects.list()).map(p => p.name),
          stageLabels: async (project: string, stage: string) =>
            (await engine.stores.pipelines.getStage(project, stage)).labels ??
            {},
        };
        const access = StagecoachAccess.register(
          permissions,
          permissionsRegistry,
          owners,
          pipelineLookup,
        );

        // app-config's manifests are the source of truth for their projects: what they no longer define is removed
        for (const entry of config.getOptionalConfigArray(
          'stagecoach.manifests',
        ) ?? []) {
          const project = entry.getString('project');
          const file = path.resolve(entry.getString('file'));
          try {
            const result = await engine.projects.applyManifests(
              project,
              await fs.readFile(file, 'utf8'),
              { prune: true, actor: 'app-config' },
            );
            logger.info(
              `applied ${file} to project ${project}: warehouses ${result.warehouses.join(
                ', ',
              )}; stages ${result.stages.join(', ')}`,
            );
          } catch (e) {
            const detail =
              e instanceof ManifestValidationError ? e.message : `${e}`;
            logger.error(
              `could not apply the manifests in ${file} to project ${project}: ${detail}`,
            );
          }
        }

        await scheduler.scheduleTask({
          id: DISCOVERY_TASK,
          scope: 'global',
          frequency: { seconds: 5 },
          timeout: { minutes: 10 },
          fn: async () => {
            await engine.workers.discovery.runDue();
          },
        });

        // auto-promotion per ProjectConfig policies; engine hooks also run it when freight or promotions change
        await scheduler.scheduleTask({
          id: 'stagecoach-auto-promotion',
          scope: 'global',
          frequency: { seconds: 10 },
          timeout: { minutes: 5 },
          fn: async () => {
            await engine.workers.autoPromotion.runAll();
          },
        });

        const keep =
          config.getOptionalNumber('stagecoach.freight.keepPerWarehouse') ?? 20;
        await scheduler.scheduleTask({
          id: 'stagecoach-freight-gc',
          scope: 'global',
          frequency: { minutes: 10 },
          timeout: { minutes: 5 },
          fn: async () => {
            const deleted = await engine.freight.collectGarbage(keep);
            if (deleted > 0)
              logger.info(
                `freight garbage collection deleted ${deleted} freight`,
              );
          },
        });

        // stage health: what the last promotion of each stage touched, checked again and again
        await scheduler.scheduleTask({
          id: 'stagecoach-stage-health',
          scope: 'global',
          frequency: {
            seconds:
              config.getOptionalNumber('stagecoach.health.intervalSeconds') ??
              30,
          },
          timeout: { minutes: 5 },
          fn: async () => {
            await engine.workers.health.checkAll();
          },
        });

        // pipelines from the catalog: entities' stagecoach.io/pipeline-ref, read and applied when they change
        const catalogPipelines = new CatalogPipelineSync({
          catalog,
          auth,
          reader: urlReader,
          integrations: ScmIntegrations.fromConfig(config),
          projects: engine.projects,
          adopt: config.getOptionalStringArray(
            'stagecoach.catalogPipelines.adopt',
          ),
          store: engine.stores.catalogPipelines,
          logger: logger.child({ task: 'catalog-pipelines' }),
          auditor,
        });
        await scheduler.scheduleTask({
          id: CATALOG_PIPELINES_TASK,
          scope: 'global',
          frequency: {
            seconds:
              config.getOptionalNumber(
                'stagecoach.catalogPipelines.intervalSeconds',
              ) ?? 60,
          },
          timeout: { minutes: 10 },
          fn: async () => {
            await catalogPipelines.syncAll();
          },
        });

        engine.start();
        lifecycle.addShutdownHook(() => engine.close());

        // a webhook receiver and an event from Backstage's events system refresh the same way:
        // the warehouses with a subscription the change concerns (each kind says which)
        const refreshFor = async (event: WebhookEvent, context?: object) => {
          // a push may change a pipeline from the catalog: its pass runs now (an unchanged source is a 304)
          if (event.kind === 'git')
            scheduler
              .triggerTask(CATALOG_PIPELINES_TASK)
              .catch(() => undefined);
          return {
            // a project's own receiver refreshes that project's warehouses only
            warehouses: await engine.warehouses.refreshChanged(
              event,
              context && 'project' in context
                ? (context.project as string)
                : undefined,
            ),
          };
        };
        await subscribeToEvents({
          events,
          topics: eventsSettings.topics,
          logger,
          onEvent: refreshFor,
        });

        // webhooks read the raw body (signatures): mounted ahead of the API's body parsers
        const webhooks = express.Router();
        webhooks.use(
          '/webhooks',
          createWebhookRouter({
            receivers: readWebhookReceivers(config),
            logger,
            onEvent: refreshFor,
            projectReceiver: hash => engine.projects.webhookReceiver(hash),
          }),
        );
        httpRouter.use(webhooks);
        httpRouter.addAuthPolicy({
          path: '/webhooks',
          allow: 'unauthenticated',
        });

        httpRouter.use(
          await createRouter({
            engine,
            httpAuth,
            access,
            auditor,
            catalog,
            logger,
            onRefresh: () =>
              scheduler.triggerTask(DISCOVERY_TASK).catch(() => undefined),
          }),
        );
        // The OpenAPI document the router serves is the public contract, not data: the
        // catalog's URL reader fetches it without credentials for the API entity.
        httpRouter.addAuthPolicy({
          path: '/openapi.json',
          allow: 'unauthenticated',
        });
      },
    });
  },
});
