import type {
  ApplyManifestsResult,
  ManifestApply,
  ProjectCredential,
  ProjectSummary,
} from '@stagecoach/plugin-stagecoach-common';
import type { ProjectCredentials } from '../credentials/ProjectCredentials';
import { manifestDigest } from '../manifests/manifestDigest';
import type { ManifestExtension } from '../manifests/ManifestExtension';
import type { PromotionTaskSpec } from '../manifests/schemas';
import { parseManifests, pipelineOrder } from '../manifests/parseManifests';
import type { PipelineStore } from '../store/PipelineStore';
import type { ManifestApplyStore } from '../store/ManifestApplyStore';
import type { WebhookReceiverStore } from '../store/WebhookReceiverStore';
import type { ProjectReceiverProvider } from '../manifests/projectConfig';
import type { Clock } from '../util/types';
import type { DomainEventBus } from './events/DomainEventBus';
import type { PromotionService } from './PromotionService';
import type { VerificationService } from './VerificationService';
import { checkRevision } from './revision';

/** Who applies a set of manifests, from which revision, and whether it may remove warehouses and stages. */
export interface ApplyManifestsOptions {
  /** Remove the project's warehouses and stages that the set does not define (`?prune=true`). */
  prune?: boolean;
  /** The user or service applying (recorded in the apply history). */
  actor?: string;
  /** The source revision the manifests come from, when the caller knows it (a commit SHA, a tag). */
  revision?: string;
}

export interface ProjectServiceOptions {
  pipelines: PipelineStore;
  manifestApplies: ManifestApplyStore;
  /** The projects' credentials (Secrets in their manifests): sealed on apply, listed without values. */
  credentials: ProjectCredentials;
  promotions: PromotionService;
  verifications: VerificationService;
  /** What the features add to the manifests (their kinds, Stage fields, step checks). */
  manifestExtensions: readonly ManifestExtension[];
  /** The cluster scope's ClusterPromotionTasks, which stages may call (default: none). */
  clusterTasks?: () => Promise<ReadonlyMap<string, PromotionTaskSpec>>;
  /** The projects' webhook receivers (ProjectConfig webhookReceivers), their secrets sealed. */
  webhookReceivers?: WebhookReceiverStore;
  /** The backend's base URL (`backend.baseUrl`), for the receivers' URLs. */
  backendBaseUrl?: string;
  events: DomainEventBus;
  clock: Clock;
}

/** Where a project's receiver answers, under the plugin's base path. */
const RECEIVER_PATH = (hash: string) => `/api/stagecoach/webhooks/${hash}`;

/** Projects and their manifests: what the pipeline is, who applied it, from where. */
export class ProjectService {
  constructor(private readonly o: ProjectServiceOptions) {}

  list(): Promise<ProjectSummary[]> {
    return this.o.pipelines.listProjects();
  }

  async get(project: string): Promise<ProjectSummary> {
    await this.o.pipelines.assertProject(project);
    const summary = (await this.o.pipelines.listProjects()).find(
      p => p.name === project,
    )!;
    const lastApplied = await this.o.manifestApplies.last(project);
    const receivers = (await this.o.webhookReceivers?.list(project)) ?? [];
    const base = this.o.backendBaseUrl?.replace(/\/+$/, '');
    return {
      ...summary,
      ...(lastApplied ? { lastApplied } : {}),
      ...(receivers.length
        ? {
            webhookReceivers: receivers.map(r => ({
              name: r.name,
              path: RECEIVER_PATH(r.pathHash),
              ...(base ? { url: `${base}${RECEIVER_PATH(r.pathHash)}` } : {}),
            })),
          }
        : {}),
    };
  }

  /** The project receiver that answers at `/webhooks/<pathHash>`, with its secret (for the webhook router only). */
  async webhookReceiver(pathHash: string): Promise<{ project: string; name: string; type: ProjectReceiverProvider; secret: string } | undefined> {
    const r = await this.o.webhookReceivers?.byPath(pathHash);
    if (!r) return undefined;
    return { project: r.project, name: r.name, type: r.provider, secret: this.o.credentials.receiverSecret(r) };
  }

  /**
   * Validates a multi-document YAML set and, only if all of it is valid, makes it the
   * project's pipeline, and records who applied it (see ApplyManifestsOptions). Removing
   * warehouses or stages needs `prune` (PruneRequiredError, a 409, otherwise); a removed
   * stage's queued and running promotions and verifications are aborted, its history kept.
   */
  async applyManifests(
    project: string,
    yamlText: string,
    options: ApplyManifestsOptions = {},
  ): Promise<ApplyManifestsResult> {
    const revision = checkRevision(options.revision);
    const manifests = parseManifests(
      project,
      yamlText,
      this.o.manifestExtensions,
      await this.o.clusterTasks?.(),
    );
    // sealed before anything is written: without an encryption key, a set with credentials is refused whole
    const credentials = this.o.credentials.seal(project, manifests.credentials ?? []);
    const webhookReceivers = this.o.credentials.sealReceivers(project, manifests.webhookReceivers ?? []);
    const digest = manifestDigest(yamlText);
    const changes = await this.o.pipelines.applyManifests(
      manifests,
      this.now(),
      {
        prune: options.prune,
        record: { by: options.actor, revision, digest },
        credentials,
        webhookReceivers,
      },
    );
    const removedStages = changes.stages.removed;
    for (const stage of removedStages)
      await this.stopRemovedStage(project, stage, options.actor);
    const result = {
      project,
      warehouses: manifests.warehouses.map(w => w.name),
      stages: pipelineOrder(manifests.stages),
      ...(credentials.length ? { credentials: credentials.map(c => c.name) } : {}),
      ...(manifests.configMaps?.length ? { configMaps: manifests.configMaps.map(c => c.name) } : {}),
      ...(manifests.warnings?.length ? { warnings: manifests.warnings } : {}),
    };
    this.o.events.publish({
      type: 'ManifestsApplied',
      ...result,
      removedStages,
      actor: options.actor,
      revision,
    });
    return result;
  }

  /** The project's credentials: name, type and repository, never their values. */
  async credentials(project: string): Promise<ProjectCredential[]> {
    await this.o.pipelines.assertProject(project);
    return this.o.credentials.list(project);
  }

  /** The project's last manifest applies, newest first. */
  async manifestHistory(
    project: string,
    limit?: number,
  ): Promise<ManifestApply[]> {
    await this.o.pipelines.assertProject(project);
    return this.o.manifestApplies.list(project, limit);
  }

  /** What is still queued or running for a stage that an apply removed ends: Aborted, by whom and why. */
  private async stopRemovedStage(
    project: string,
    stage: string,
    actor = 'a manifest apply',
  ) {
    const by = `${actor} (stage ${stage} was removed from the project's manifests)`;
    await this.o.promotions.abortAll(project, stage, by);
    await this.o.verifications.supersede(project, stage, by);
  }

  private now(): string {
    return this.o.clock.now().toISOString();
  }
}
