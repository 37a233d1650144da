import type { z } from 'zod';
import type { ArgoCdSettings, HealthCheck } from '../../integrations/argocd/types';
import type { GitIdentity } from '../../integrations/git/GitCli';
import type { EgressPolicy } from '../../integrations/http/egress';
import type { KubeClusters } from '../../integrations/kubernetes/types';
import type { ScmCredentials } from '../../integrations/scm/ScmCredentials';
import type { StoredFreight } from '../../store/FreightStore';
import type { Logger } from '../../util/types';

/** What `set-metadata` writes: free-form values on a stage or a freight of the project. */
export interface MetadataWriter {
  set(kind: 'Stage' | 'Freight', name: string, values: Record<string, unknown>): Promise<void>;
}

export interface StepContext {
  /** The promotion's own directory; every path in config is inside it. */
  workDir: string;
  /**
   * Where git-clone keeps its bare clones: beside workDir, never inside it, so that no
   * step's path reaches a repository's config or hooks (see attemptFolders).
   */
  cloneStore: string;
  project: string;
  stage: string;
  promotionId: string;
  /** The freight being promoted. */
  freight: StoredFreight;
  /** The step's alias (`as`, or `step-<n>`; `task::step` inside a PromotionTask). */
  alias: string;
  gitIdentity: GitIdentity;
  logger: Logger;
  /**
   * Outputs of the steps that ran before this one, by alias. Older manifests' `*FromStep`
   * fields (`messageFromSteps`, `prNumberFromStep`, ...) read them.
   */
  outputs: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
  /** Aborted when the promotion is aborted or the backend shuts down; steps pass it on to what they run. */
  signal: AbortSignal;
  /** Credentials for Git over HTTP(S) and for SCM APIs, from Backstage's `integrations` config. */
  credentials: ScmCredentials;
  /**
   * What this step returned as `state` the last time it reported `Running` (a step polled
   * again later, such as git-wait-for-pr); undefined on its first run.
   */
  state?: Readonly<Record<string, unknown>>;
  /** For set-metadata. */
  metadata: MetadataWriter;
  /** `fetch`, injectable for tests; the SCM steps (pull requests) use it for their API requests. */
  fetch: typeof fetch;
  /**
   * Where requests that a manifest names may go (app-config `stagecoach.egress`): the `http`
   * and `http-download` steps send every request and redirect through it.
   */
  egress: EgressPolicy;
  /** The Kubernetes clusters (app-config `stagecoach.kubernetes`), for the argocd-* steps. */
  kube: KubeClusters;
  /** Argo CD's default namespace and UI address. */
  argocd: ArgoCdSettings;
  /** Who started the promotion (a user, a CI token, or auto-promotion). */
  actor?: string;
}

export interface StepResult {
  /**
   * `Running`: not done yet (a pull request is still open); the promotion is put aside and
   * this step runs again after `retryAfterMs`, on any worker, with `state` handed back.
   */
  status: 'Succeeded' | 'Failed' | 'Running';
  message?: string;
  /** Addressable by later steps as `outputs.<alias>.<name>`. */
  outputs?: Record<string, unknown>;
  /** Running only: when to look again (default 30 s, at least 1 s). */
  retryAfterMs?: number;
  /** Running only: handed back to the next run of this step as ctx.state (JSON). */
  state?: Record<string, unknown>;
  /**
   * Succeeded only: what the stage's health is made of from now on (argocd-update: the apps
   * it drove). Kept with the step; the stage re-checks it until its next promotion.
   */
  healthCheck?: HealthCheck;
}

/** A promotion step: its name, its configuration's schema and what it does. */
export interface StepDefinition<Config = any> {
  name: string;
  description: string;
  schema: z.ZodType<Config, z.ZodTypeDef, unknown>;
  /**
   * How long the step may keep answering `Running` before it fails (a step's `retry.timeout`
   * overrides it). Undefined: no limit.
   */
  defaultTimeoutMs?: number;
  /**
   * Throw StepConfigError (or return Failed) for a problem retrying cannot fix: the step fails
   * at once. Any other error counts against the step's `retry.errorThreshold`.
   */
  run(ctx: StepContext, config: Config): Promise<StepResult>;
}
