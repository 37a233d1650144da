/**
 * The REST API's resource shapes (base path `/api/stagecoach`): the contract between the
 * backend, the frontend, the CLI and the scaffolder actions. Field names follow Kargo's
 * where Kargo has one.
 */

/** A Git commit discovered by a warehouse's git subscription. */
export interface GitCommit {
  repoURL: string;
  /** The full commit SHA. */
  id: string;
  tag?: string;
  /** The branch the commit was selected from (NewestFromBranch). */
  branch?: string;
  /** The commit message's subject (its first line). */
  message?: string;
  /** `Name <email>` */
  author?: string;
  /** `Name <email>` */
  committer?: string;
  /** The commit date (ISO-8601). */
  committedAt?: string;
}

/** A container image discovered by an image subscription (issue: discovery). */
export interface Image {
  repoURL: string;
  tag: string;
  /** The manifest digest (for multi-arch images: of the selected platform's manifest). */
  digest: string;
  /** When the image was built (its config's `created`), if known. */
  createdAt?: string;
}

/** A Helm chart discovered by a chart subscription (issue: discovery). */
export interface Chart {
  repoURL: string;
  name?: string;
  version: string;
}

export interface FreightOrigin {
  kind: 'Warehouse';
  name: string;
}

export interface FreightRef {
  id: string;
  alias: string;
}

/** Immutable, content-addressed set of artifact versions from one warehouse. */
export interface Freight extends FreightRef {
  project: string;
  origin: FreightOrigin;
  commits: GitCommit[];
  images: Image[];
  charts: Chart[];
  /** ISO-8601 */
  createdAt: string;
  /** Stages this freight is currently in. */
  currentlyIn: string[];
  /** Stages where a promotion of this freight succeeded (and, later, verification). */
  verifiedIn: string[];
  /** Stages this freight was approved for by hand: it may enter them unverified. */
  approvedFor?: string[];
  /** Per stage: since when it is there, when it was verified and how long it soaked, who approved it. */
  status?: FreightStatus;
}

/** Per-stage details of a freight, in the shape of Kargo's Freight status. */
export interface FreightStatus {
  currentlyIn: Record<string, { since?: string }>;
  verifiedIn: Record<string, FreightVerification>;
  approvedFor: Record<string, FreightApproval>;
}

export interface FreightVerification {
  /** When it was first verified in the stage (ISO-8601). */
  verifiedAt: string;
  /**
   * Kargo's longestSoak: the longest the freight has stayed in the stage since it was
   * verified there (the current stay, or an earlier one if it has left), as a Go duration
   * such as `1h2m3s`.
   */
  longestSoak: string;
  longestSoakSeconds: number;
}

export interface FreightApproval {
  approvedAt: string;
  /** The user or service that approved it. */
  approvedBy?: string;
}

export interface FreightSources {
  direct: boolean;
  stages: string[];
  /** `OneOf` (the default): verified in one upstream stage; `All`: in every one. */
  availabilityStrategy?: 'OneOf' | 'All';
  /** How long freight must have stayed in an upstream stage since it was verified there (`10m`). */
  requiredSoakTime?: string;
  autoPromotionOptions?: { selectionPolicy?: 'NewestFreight' | 'MatchUpstream' };
}

export interface RequestedFreight {
  origin: FreightOrigin;
  sources: FreightSources;
}

export type PromotionPhase =
  | 'Pending'
  | 'Running'
  | 'Succeeded'
  | 'Failed'
  | 'Errored'
  | 'Aborted';

export const FINAL_PROMOTION_PHASES: readonly PromotionPhase[] = [
  'Succeeded',
  'Failed',
  'Errored',
  'Aborted',
];

export type StepStatus =
  | 'Pending'
  | 'Running'
  | 'Succeeded'
  | 'Failed'
  | 'Errored'
  | 'Aborted'
  | 'Skipped';

export interface PromotionStep {
  index: number;
  uses: string;
  /** The step's alias: `as`, or `step-<index>`. */
  alias: string;
  status: StepStatus;
  message?: string;
  startedAt?: string;
  finishedAt?: string;
  /** Errors in a row so far (a step with `retry.errorThreshold` is tried again after an error). */
  errorCount?: number;
  /** What the step produced, addressable by later steps as `outputs.<alias>`. */
  outputs?: Record<string, unknown>;
}

export interface Promotion {
  id: string;
  project: string;
  stage: string;
  freight: FreightRef;
  phase: PromotionPhase;
  message?: string;
  createdBy?: string;
  createdAt: string;
  startedAt?: string;
  finishedAt?: string;
  /** How many times the promotion was started from its first step (more than 1 after its backend died). */
  attempts?: number;
  /** A running promotion whose step waits (a pull request still open) is looked at again then. */
  waitingUntil?: string;
  /** Who asked to abort it. */
  abortRequestedBy?: string;
  steps: PromotionStep[];
}

export interface Stage {
  project: string;
  name: string;
  requestedFreight: RequestedFreight[];
  /** Number of steps in the promotion template; 0 means a control-flow stage. */
  stepCount: number;
  currentFreight?: FreightRef;
  lastPromotion?: Promotion;
  /** The Stage's metadata.labels (matched by ProjectConfig stage selectors). */
  labels?: Record<string, string>;
  /** Whether a ProjectConfig promotion policy enables auto-promotion for this stage. */
  autoPromotionEnabled?: boolean;
  /** Which promotion policy applies, in words: `spec.promotionPolicies[0] (stage "dev")`. */
  autoPromotionPolicy?: string;
  /** Origins whose auto-promotion is paused because someone promoted other freight by hand. */
  autoPromotionHolds?: AutoPromotionHold[];
  /** Health of what the last promotion touched (its Argo CD apps), re-checked on a schedule. */
  health?: StageHealth;
  /** The newest verification of the stage (of its current freight, or an older one). */
  verification?: Verification;
  /** The AnalysisTemplates the stage verifies with (none: verified once healthy). */
  analysisTemplates?: string[];
}

/**
 * Healthy: everything the last promotion touched is synced to what it asked for and healthy.
 * Progressing: on its way (syncing, rolling out). Degraded: it failed or broke (or the last
 * promotion failed). Unknown: it cannot be told (cluster unreachable, app missing, health
 * reported before the last sync finished).
 */
export type StageHealthStatus = 'Healthy' | 'Progressing' | 'Degraded' | 'Unknown';

export interface StageHealth {
  status: StageHealthStatus;
  /** Why, in words a developer can act on: `app guestbook-dev is Progressing: Deployment rolling out`. */
  reason: string;
  /** When it was last checked (ISO-8601). */
  checkedAt: string;
  /** The promotion whose apps were checked. */
  promotionId?: string;
  /** Each app the last promotion touched, with its own verdict. */
  apps: ArgoCdAppHealth[];
}

/** An Argo CD Application as Stagecoach sees it. */
export interface ArgoCdApp {
  name: string;
  namespace: string;
  /** The cluster (from app-config `stagecoach.kubernetes.clusters`) it was read from. */
  cluster?: string;
  /** Argo CD's sync status: Synced, OutOfSync, Unknown. */
  sync?: string;
  /** Argo CD's health status: Healthy, Progressing, Degraded, Suspended, Missing, Unknown. */
  health?: string;
  /** Argo CD's own health message, if any. */
  healthMessage?: string;
  /** The revision(s) last synced, one per source. */
  revisions?: string[];
  /** The last sync operation. */
  operation?: { phase: string; message?: string; startedAt?: string; finishedAt?: string; initiatedBy?: string };
  /** `<project>:<stage>` entries of the authorized-stage annotation. */
  authorizedStages?: string[];
  /** A link to the app in Argo CD's UI (app-config `stagecoach.argocd.url`). */
  url?: string;
}

/** An app checked for a stage's health: what Argo CD says, and what Stagecoach makes of it. */
export interface ArgoCdAppHealth extends ArgoCdApp {
  status: StageHealthStatus;
  reason: string;
  /** The revisions the promotion asked for, per source ('' where it did not ask). */
  desiredRevisions?: string[];
}

/**
 * Argo Rollouts' AnalysisRun phases. Pending: waiting for the stage to be healthy.
 * Successful is the only phase that verifies the freight.
 */
export type VerificationPhase = 'Pending' | 'Running' | 'Successful' | 'Failed' | 'Error' | 'Inconclusive' | 'Aborted';

export const FINAL_VERIFICATION_PHASES: readonly VerificationPhase[] = [
  'Successful',
  'Failed',
  'Error',
  'Inconclusive',
  'Aborted',
];

export type MeasurementPhase = 'Running' | 'Successful' | 'Failed' | 'Error' | 'Inconclusive';

/** One measurement of a metric (one HTTP check, one query, one job). */
export interface Measurement {
  phase: MeasurementPhase;
  /** The measured value as text: the JSON the condition saw (`[0.997]`, `{"ok":true}`). */
  value?: string;
  /** Why it failed or errored, in words. */
  message?: string;
  startedAt: string;
  finishedAt?: string;
  /** Provider details: the job's name, the query sent. */
  metadata?: Record<string, string>;
}

export interface MetricResult {
  name: string;
  /** web, prometheus or job. */
  provider: string;
  phase: 'Pending' | 'Running' | 'Successful' | 'Failed' | 'Error' | 'Inconclusive' | 'Aborted';
  message?: string;
  /**
   * Measurements that gave a result (Successful, Failed, Inconclusive), as Rollouts counts;
   * Error ones are retried and counted in `error` (in a row: `consecutiveError`).
   */
  count: number;
  successful: number;
  failed: number;
  inconclusive: number;
  error: number;
  consecutiveError: number;
  /** A dry-run metric is measured and shown but does not decide the verification. */
  dryRun?: boolean;
  /** Every measurement, oldest first. */
  measurements: Measurement[];
}

/** One verification of freight in a stage: an analysis run of the stage's AnalysisTemplates. */
export interface Verification {
  id: string;
  project: string;
  stage: string;
  freight: FreightRef;
  /** The promotion that led to it (absent for a re-verification). */
  promotionId?: string;
  phase: VerificationPhase;
  message?: string;
  /** Who asked: the promotion's actor, or whoever re-verified. */
  createdBy?: string;
  createdAt: string;
  startedAt?: string;
  finishedAt?: string;
  abortRequestedBy?: string;
  /** The AnalysisTemplates merged into this run. */
  analysisTemplates: string[];
  /** Arguments as given to the templates. */
  args?: Record<string, string>;
  metrics: MetricResult[];
}

/** Answer of `GET /projects/{p}/stages/{s}/verifications`, newest first. */
export interface VerificationList {
  items: Verification[];
}

/**
 * A manual promotion of freight other than the auto-promotion candidate (a rollback, say)
 * pauses auto-promotion of that stage for that freight's origin until it is released
 * (`DELETE /projects/{p}/stages/{s}/auto-promotion-hold`).
 */
export interface AutoPromotionHold {
  origin: FreightOrigin;
  /** The freight promoted by hand. */
  freight: FreightRef;
  promotionId?: string;
  createdBy?: string;
  createdAt: string;
  /** Why, in words. */
  reason: string;
}

/** Body of `POST /projects/{p}/freight/{id-or-alias}/approve`. */
export interface ApproveFreightRequest {
  stage: string;
}

/** One freight of a stage's origins, and whether (and why not) it may enter the stage. */
export interface StageFreightAvailability {
  freight: Freight;
  available: boolean;
  /** Why it is or is not available, in words: `verified in dev 3m ago; needs 10m of soak there: available in 7m`. */
  reason: string;
  /** When it becomes available by soaking alone, if nothing else is missing (ISO-8601). */
  availableAt?: string;
  /** True for the freight auto-promotion would promote to this stage now. */
  autoPromotionCandidate?: boolean;
}

/** Answer of `GET /projects/{p}/stages/{s}/freight`, newest freight first. */
export interface StageFreightList {
  stage: string;
  items: StageFreightAvailability[];
}

export interface WarehouseStatus {
  lastDiscoveryAt?: string;
  nextDiscoveryAt?: string;
  /** What went wrong last time, in words a user can act on. */
  lastError?: string;
  lastFreightId?: string;
  /** What each subscription discovered last time, newest first. */
  discovered?: Array<Record<string, unknown>>;
}

/**
 * `Automatic`: discovery turns the newest artifacts into freight. `Manual`: discovery only
 * lists what it found; freight is assembled with `POST /projects/{p}/freight`.
 */
export type FreightCreationPolicy = 'Automatic' | 'Manual';

export interface Warehouse {
  project: string;
  name: string;
  /** The subscriptions as written in the manifest. */
  subscriptions: Array<Record<string, unknown>>;
  interval: string;
  freightCreationPolicy?: FreightCreationPolicy;
  status: WarehouseStatus;
}

/**
 * Body of `POST /projects/{p}/freight`: freight assembled by hand from artifacts its
 * warehouse has discovered (listed in the warehouse's `status.discovered`), exactly one per
 * subscription of the warehouse, in any order. Answered with the Freight: `201` when it was
 * created, `200` when freight with these artifacts already existed.
 */
export interface CreateFreightRequest {
  origin: FreightOrigin;
  /** A commit by `id` (full SHA, or at least 7 leading characters), `tag`, or both. */
  commits?: Array<{ repoURL: string; id?: string; tag?: string }>;
  /** An image by `tag`, `digest`, or both. */
  images?: Array<{ repoURL: string; tag?: string; digest?: string }>;
  charts?: Array<{ repoURL: string; name?: string; version: string }>;
  /** The new freight's alias; when freight with these artifacts exists, it is renamed. */
  alias?: string;
}

export interface ProjectSummary {
  name: string;
  warehouses: number;
  stages: number;
  /** The last apply of the project's manifests (`GET /projects/{p}` only). */
  lastApplied?: LastApplied;
}

/** Who applied a project's manifests last, when, and from which revision when the caller said. */
export interface LastApplied {
  /** The user or service (`user:default/jane`), or `app-config` for manifests loaded at startup. */
  by?: string;
  /** ISO-8601. */
  at: string;
  /** The source revision the caller named (`?revision=` or `"revision"`): a commit SHA, a tag. */
  revision?: string;
}

/** Names of the resources of one kind an apply added, changed or removed. */
export interface ManifestResourceChanges {
  added: string[];
  changed: string[];
  removed: string[];
}

/** What one apply of a project's manifests changed. */
export interface ManifestChanges {
  warehouses: ManifestResourceChanges;
  stages: ManifestResourceChanges;
  /** Whether the project's ProjectConfig was added, changed or removed (absent: neither). */
  projectConfig?: 'added' | 'changed' | 'removed';
}

/** One apply of a project's manifests (`GET /projects/{p}/manifests/history`), newest first. */
export interface ManifestApply extends LastApplied {
  project: string;
  /** `sha256:<hex>` of the YAML text as sent. */
  digest: string;
  /** Whether the apply was allowed to remove warehouses and stages (`?prune=true`). */
  pruned: boolean;
  changes: ManifestChanges;
}

/** Answer of `PUT /projects/{p}/manifests`. */
export interface ApplyManifestsResult {
  project: string;
  warehouses: string[];
  stages: string[];
}

/**
 * What an apply without `?prune=true` would have removed (the 409's `wouldRemove`): the
 * project's warehouses and stages that the manifests sent do not define.
 */
export interface ManifestRemovals {
  warehouses: string[];
  stages: string[];
}

/** One problem in a set of manifests: the document, the field path and what was expected. */
export interface ManifestProblem {
  /** Position of the YAML document in the set, counted from 1. */
  document: number;
  /** `Kind/name` when the document got that far. */
  resource?: string;
  /** Field path such as `spec.subscriptions[0].git.repoURL`. */
  path: string;
  message: string;
}

/** Everything the Promotions tab shows for one catalog entity. */
export interface EntityPipeline {
  project: string;
  /** Stages in pipeline order: every stage after the stages it sources from. */
  stages: Stage[];
  /** Freight of the relevant warehouses, newest first. */
  freight: Freight[];
  /** The relevant warehouses, with their discovery status. */
  warehouses: Warehouse[];
  /**
   * The entity's Argo CD apps (annotations `argocd/app-name` or `argocd/app-selector`), each
   * with the stage that drives it (its authorized-stage annotation) when that is one of
   * this project's.
   */
  apps?: Array<ArgoCdApp & { stage?: string }>;
  /** Why the apps could not be read (cluster unreachable), in words. */
  appsError?: string;
}

/**
 * Answer of `GET /projects/{p}/freight`, newest first. With `?stage=`, only the freight
 * that may enter that stage now.
 */
export interface FreightList {
  items: Freight[];
}

/** Answer of list endpoints for promotions. */
export interface PromotionList {
  items: Promotion[];
}
