import type { Knex } from 'knex';
import type { SubscriptionKind } from '../discovery/SubscriptionKind';
import type { ArgoCdSettings } from '../integrations/argocd/types';
import type { GitIdentity } from '../integrations/git/GitCli';
import type { EgressPolicy } from '../integrations/http/egress';
import type { KubeClusters } from '../integrations/kubernetes/types';
import type { RegistryClientOptions } from '../integrations/registry';
import type { ScmCredentials } from '../integrations/scm/ScmCredentials';
import type { StepDefinition } from '../promotion/steps';
import type { VerificationCredentials } from '../verification/credentials';
import type { JobSettings } from '../verification/jobSettings';
import type { MetricProvider } from '../verification/types';
import type { Clock, Logger } from '../util/types';
import type { StagecoachEvent } from './events/StagecoachEvent';

export interface StagecoachEngineOptions {
  knex: Knex;
  logger: Logger;
  clock?: Clock;
  /** Folder for promotion work directories and discovery caches (default: OS temp). */
  workDir?: string;
  gitIdentity?: GitIdentity;
  /** Skip running migrations (when the host runs them). */
  skipMigrations?: boolean;
  worker?: {
    concurrency?: number;
    pollIntervalMs?: number;
    claimTtlMs?: number;
    maxAttempts?: number;
  };
  /** Credentials for Git over HTTP(S) and SCM APIs (pull requests); default: none. */
  credentials?: ScmCredentials;
  /**
   * Projects' own credentials (Secrets labelled kargo.akuity.io/cred-type in their manifests):
   * the key they are sealed with (app-config `stagecoach.credentials.encryptionKey`, 32 bytes in
   * base64; without one, manifests with such Secrets are refused), and the hosts besides
   * loopback ones they may be sent to over plain HTTP (`stagecoach.git.allowInsecureCredentials`).
   */
  projectCredentials?: { encryptionKey?: string; insecureHosts?: readonly string[] };
  /**
   * The steps manifests may use, instead of the built-in ones: tests give their own, and the
   * plugin gives the built-in steps with those backend modules added (PromotionStepRegistry).
   */
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
  /** Where people open the UI (Backstage's app.baseUrl): `ctx.uiBaseUrl` in promotion steps. */
  uiBaseUrl?: string;
  /** The backend's base URL (Backstage's backend.baseUrl): the URLs of projects' webhook receivers. */
  backendBaseUrl?: string;
  /**
   * Existing projects an administrator hands over to pipelines from the catalog
   * (`stagecoach.catalogPipelines.adopt`); any other project not made by the catalog stays out of its reach.
   */
  catalogAdopt?: string[];
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
    /**
     * The metric providers: the built-in ones with those modules add (the plugin passes them),
     * or others (tests). Default: the built-in ones.
     */
    providers?: ReadonlyMap<string, MetricProvider>;
  };
  /** Registry credentials, transport and limits (images and oci:// charts). */
  registry?: RegistryClientOptions;
  /**
   * What warehouses may subscribe to: the built-in kinds with those modules add (the plugin
   * passes them), or others (tests give kinds whose subscriber is their own). Default: the
   * built-in kinds (git, image, chart).
   */
  kinds?: readonly SubscriptionKind[];
  /**
   * Told about freight once it is created and about promotions once they reach a final phase
   * (see StagecoachEvent), in the background: a slow or failing host delays or fails neither
   * discovery nor the promotion; a failure is logged as a warning.
   */
  onEvent?: (event: StagecoachEvent) => void | Promise<void>;
  /**
   * Told about the changes the engine makes on its own (auto-promotions, freight renamed by a
   * promotion's set-freight-alias step), for the audit log; the REST API audits the changes
   * people ask for. Must not throw.
   */
  onAutomaticChange?: (change: AutomaticChange) => void;
}

/**
 * A change the engine made without anyone asking at that moment: who (an engine actor, or the
 * creator of the promotion that made it), what, and how it ended. `freight-update`: a
 * promotion's set-freight-alias step renamed freight.
 */
export type AutomaticChange =
  | {
      eventId: 'promotion-create';
      actor: string;
      meta: { project: string; stage: string; freight: string; promotion?: string };
      error?: Error;
    }
  | {
      eventId: 'freight-update';
      actor: string;
      meta: {
        project: string;
        stage: string;
        promotion: string;
        freight: string;
        previousAlias: string;
        alias: string;
      };
      error?: undefined;
    };
