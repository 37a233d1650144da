import type {
  PromotionStep,
  PromotionStepContext,
  PromotionStepResult,
} from '@stagecoach/plugin-stagecoach-node';
import type {
  ArgoCdSettings,
  HealthCheck,
} from '../../integrations/argocd/types';
import type { GitIdentity } from '../../integrations/git/GitCli';
import type { EgressPolicy } from '../../integrations/http/egress';
import type { KubeClusters } from '../../integrations/kubernetes/types';
import type { RegistryClient } from '../../integrations/registry';
import type { CallOptions } from '../../integrations/registry/RegistryClient';
import type { ScmCredentials } from '../../integrations/scm/ScmCredentials';
import type { StoredFreight } from '../../store/FreightStore';

/** What `set-metadata` writes: free-form values on a stage or a freight of the project. */
export interface MetadataWriter {
  set(
    kind: 'Stage' | 'Freight',
    name: string,
    values: Record<string, unknown>,
  ): Promise<void>;
}

/** What `set-freight-alias` changes: the alias of a freight of the project. */
export interface FreightAliasWriter {
  /**
   * Renames freight `name` (its ID or current alias) to `alias`; ConflictError when another
   * freight of the project has it, NotFoundError when there is no such freight.
   */
  set(name: string, alias: string): Promise<{ id: string; previous: string; alias: string }>;
}

/**
 * What a built-in step is given: the public context of @stagecoach/plugin-stagecoach-node
 * (what a module's step may use) and the engine's own fields (credentials, clusters, the clone
 * store, ...). `resolvePath` and `request` are the public face of `confinedPath` and
 * `stepExchange`, which the built-in steps call with the fields below; the adapter for
 * modules' steps (moduleSteps.ts) makes them from these fields.
 */
export interface StepContext
  extends Omit<PromotionStepContext, 'resolvePath' | 'request'> {
  /**
   * Where git-clone keeps its bare clones: beside workDir, never inside it, so that no
   * step's path reaches a repository's config or hooks (see attemptFolders).
   */
  cloneStore: string;
  /** The freight being promoted, as stored. */
  freight: StoredFreight;
  gitIdentity: GitIdentity;
  /** Credentials for Git over HTTP(S) and for SCM APIs, from Backstage's `integrations` config. */
  credentials: ScmCredentials;
  /** For set-metadata. */
  metadata: MetadataWriter;
  /** For set-freight-alias. */
  freightAliases: FreightAliasWriter;
  /** `fetch`, injectable for tests; the SCM steps (pull requests) use it for their API requests. */
  fetch: typeof fetch;
  /**
   * Where requests that a manifest names may go (app-config `stagecoach.egress`): the `http`
   * and `http-download` steps send every request and redirect through it.
   */
  egress: EgressPolicy;
  /**
   * The engine's OCI registry client (credentials and limits from `stagecoach.registries`),
   * for the oci-* steps; they pass `egress` with every call.
   */
  registry: RegistryClient;
  /**
   * The project's own credential for an OCI repository (`host/path`), as a registry call takes
   * it (the values, and what messages call them): its image credential Secret, else its helm
   * one for `oci://host/path`. Undefined: the registry client's, from `stagecoach.registries`.
   */
  registryCredentials?: (repository: string) => Promise<Pick<CallOptions, 'credentials' | 'credentialsName'> | undefined>;
  /** The Kubernetes clusters (app-config `stagecoach.kubernetes`), for the argocd-* steps. */
  kube: KubeClusters;
  /** Argo CD's default namespace and UI address. */
  argocd: ArgoCdSettings;
}

/** What a step's run ends with; a built-in step may also say what the stage's health is made of. */
export interface StepResult extends PromotionStepResult {
  /**
   * Succeeded only: what the stage's health is made of from now on (argocd-update: the apps
   * it drove). Kept with the step; the stage re-checks it until its next promotion.
   */
  healthCheck?: HealthCheck;
}

/**
 * A promotion step as the engine runs it: a public PromotionStep whose run gets the internal
 * context and may answer with a health check. Modules' steps become one through moduleSteps.ts.
 */
export interface StepDefinition<Config = any>
  extends Omit<PromotionStep<Config>, 'run'> {
  /**
   * Throw StepConfigError (or return Failed) for a problem retrying cannot fix: the step fails
   * at once. Any other error counts against the step's `retry.errorThreshold`.
   */
  run(ctx: StepContext, config: Config): Promise<StepResult>;
}
