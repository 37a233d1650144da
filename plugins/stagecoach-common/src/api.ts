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
}

export interface FreightSources {
  direct: boolean;
  stages: string[];
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
}

/** Answer of `PUT /projects/{p}/manifests`. */
export interface ApplyManifestsResult {
  project: string;
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
