import type {
  ApplyClusterManifestsResult,
  ClusterManifestApply,
  ClusterManifests as ClusterManifestsView,
  ClusterTaskUse,
} from '@stagecoach/plugin-stagecoach-common';
import type { ClusterConfigSpec } from '../manifests/clusterConfig';
import { parseClusterManifests } from '../manifests/clusterManifests';
import type { ManifestExtension } from '../manifests/ManifestExtension';
import type { PromotionTaskSpec } from '../manifests/schemas';
import type { ClusterStore, SealedSharedSecret } from '../store/ClusterStore';
import type { CredentialDefinition } from '../manifests/secrets';
import { manifestDigest } from '../manifests/manifestDigest';
import type { PipelineStore } from '../store/PipelineStore';
import type { GitIdentity } from '../integrations/git/GitCli';
import type { Clock } from '../util/types';
import { checkRevision } from './revision';

export interface ClusterServiceOptions {
  cluster: ClusterStore;
  pipelines: PipelineStore;
  /** What the features add to the manifests: the step checks a ClusterPromotionTask's steps pass. */
  manifestExtensions: readonly ManifestExtension[];
  /** Seals the set's generic Secrets (credentials/ProjectCredentials.sealShared); throws a ManifestValidationError without an encryption key. */
  sealSecrets(secrets: readonly (CredentialDefinition & { document: number })[]): SealedSharedSecret[];
  clock: Clock;
}

/** Who applies a cluster set, from which revision, and whether it may remove what the set does not define. */
export interface ApplyClusterManifestsOptions {
  prune?: boolean;
  /**
   * Add and update the set's documents and leave every other stored one as it is, as
   * `kubectl apply` does (`?merge=true`); `prune` then has no meaning (the route refuses both).
   */
  merge?: boolean;
  actor?: string;
  revision?: string;
}

/**
 * The cluster scope: Kargo's ClusterPromotionTasks and ClusterConfig, shared by every project.
 *
 * A stage stores the steps of the ClusterPromotionTasks it calls as they were when its project
 * was applied (Kargo resolves them at each promotion instead): a change of a task reaches a
 * stage when its project is applied again. The apply's answer lists those stages
 * (`staleStages`), so that whoever changes a task knows which projects to apply again.
 */
export class ClusterService {
  constructor(private readonly o: ClusterServiceOptions) {}

  /** The cluster scope as stored. */
  async get(): Promise<ClusterManifestsView> {
    const [scope, lastApplied] = await Promise.all([this.o.cluster.scope(), this.o.cluster.lastApplied()]);
    return {
      clusterPromotionTasks: scope.tasks.map(t => ({ name: t.name, spec: t.spec, appliedAt: t.appliedAt })),
      ...(scope.config ? { clusterConfig: { spec: scope.config.spec, appliedAt: scope.config.appliedAt } } : {}),
      ...(scope.configMaps.length ? { configMaps: scope.configMaps.map(c => ({ name: c.name, data: c.spec, appliedAt: c.appliedAt })) } : {}),
      ...(scope.secrets.length ? { secrets: scope.secrets } : {}),
      ...(lastApplied ? { lastApplied } : {}),
    };
  }

  /**
   * Validates a cluster set and, only if all of it is valid, makes it the cluster scope, and
   * records who applied it. Removing a ClusterPromotionTask or the ClusterConfig needs `prune`.
   * With `merge`, the set's documents are added or updated and the rest is kept: validating
   * the documents sent is validating the merged scope, since no cluster document refers to
   * another (a ClusterConfig replaces the stored one, a task replaces its namesake).
   */
  async apply(yamlText: string, options: ApplyClusterManifestsOptions = {}): Promise<ApplyClusterManifestsResult> {
    const revision = checkRevision(options.revision);
    const manifests = parseClusterManifests(yamlText, this.o.manifestExtensions);
    // sealed before anything is written; the digest leaves the Secrets' values out, as a project's does
    const secrets = this.o.sealSecrets(manifests.secrets);
    const digest = manifestDigest(yamlText);
    const changes = await this.o.cluster.apply(manifests, this.o.clock.now().toISOString(), {
      prune: options.prune,
      merge: options.merge,
      record: { by: options.actor, revision, digest },
      secrets,
    });
    const touched = new Set([...changes.clusterPromotionTasks.changed, ...changes.clusterPromotionTasks.removed]);
    return {
      clusterPromotionTasks: manifests.tasks.map(t => t.name),
      clusterConfig: manifests.config !== undefined,
      ...(manifests.configMaps.length ? { configMaps: manifests.configMaps.map(c => c.name) } : {}),
      ...(secrets.length ? { secrets: secrets.map(c => c.name) } : {}),
      changes,
      staleStages: touched.size ? await this.stagesCalling(touched) : [],
      ...(manifests.warnings.length ? { warnings: manifests.warnings } : {}),
    };
  }

  /** The cluster applies, newest first. */
  history(limit?: number): Promise<ClusterManifestApply[]> {
    return this.o.cluster.history(limit);
  }

  /** The ClusterPromotionTasks by name: what a project's stages may call when the project is applied. */
  tasks(): Promise<Map<string, PromotionTaskSpec>> {
    return this.o.cluster.tasks();
  }

  /** The ClusterConfig's spec, if one is applied. */
  config(): Promise<ClusterConfigSpec | undefined> {
    return this.o.cluster.config();
  }

  /**
   * Who commits: the ClusterConfig's gitClient when it has one (as in Kargo, the cluster's
   * document wins over the install's settings), else `fallback` (app-config's stagecoach.gitClient).
   */
  async gitIdentity(fallback: GitIdentity): Promise<GitIdentity> {
    const gitClient = (await this.o.cluster.config())?.gitClient;
    return gitClient ? { name: gitClient.name, email: gitClient.email } : fallback;
  }

  /** The stages whose stored steps come from one of these ClusterPromotionTasks. */
  private async stagesCalling(tasks: ReadonlySet<string>): Promise<ClusterTaskUse[]> {
    const uses: ClusterTaskUse[] = [];
    for (const stage of await this.o.pipelines.listAllStages()) {
      const called = new Set<string>();
      for (const step of stage.spec.promotionTemplate?.spec.steps ?? []) {
        const name = step.task?.clusterTask;
        if (name && tasks.has(name)) called.add(name);
      }
      if (called.size) uses.push({ project: stage.project, stage: stage.name, clusterPromotionTasks: [...called].sort() });
    }
    return uses;
  }
}
