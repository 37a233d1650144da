import type { z } from 'zod';
import type { ManifestProblem } from '@stagecoach/plugin-stagecoach-common';
import type { DocumentProblem } from './problems';
import type {
  StageDocumentSpec,
  StageSpecExtensions,
  SubscriptionSchema,
} from './schemas';

/**
 * What a feature adds to the manifests a project applies. manifests/ reads Kargo's pipeline
 * documents (Warehouse, Stage, PromotionTask, ProjectConfig: what a project stores); a
 * feature brings the rest: document kinds of its own, the subscriptions of a Warehouse, fields
 * of a Stage, checks of a step, and how a stage is completed from the other documents. The composition root hands the
 * features' extensions to parseManifests, so manifests/ imports no feature.
 */
export interface ManifestExtension {
  /** Document kinds the feature reads (verification: Argo Rollouts' AnalysisTemplates). */
  kinds?: readonly ManifestKind<any>[];
  /** Subscription kinds a Warehouse may name (discovery: git, image, chart), in the order messages list them. */
  subscriptionKinds?: readonly SubscriptionSchema[];
  /** Fields the feature adds to a Stage's spec, checked with the rest of it (declare their types in StageSpecExtensions). */
  stageFields?: z.ZodRawShape;
  /**
   * Problems of one step (`uses` and `config`) of a stage's promotion template or of a
   * PromotionTask; paths from the step (`['config', 'path']`).
   */
  checkStep?(step: {
    uses: string;
    config: Record<string, unknown>;
  }): { path: (string | number)[]; message: string }[];
  /**
   * Completes a stage once every document is read (before PromotionTasks are inflated and the
   * set is cross-checked): the fields it replaces, and problems anywhere in the set.
   */
  resolveStage?(
    stage: KeptDocument<StageDocumentSpec>,
    set: ReadSet,
  ): StageResolution;
}

/** A kind of document, after its header (apiVersion, kind, metadata) is read. */
export interface ManifestKind<Spec> {
  apiVersion: string;
  kind: string;
  /** False for a cluster-wide kind, whose metadata.namespace is not the project's. */
  namespaced: boolean;
  /** Said of this kind written with another apiVersion: `must be <apiVersion>: <this>`. */
  foreignApiVersion?: string;
  /**
   * Checks one document of this kind: its spec to keep (none: the document is not kept) and
   * its problems. `earlier` are the documents of this kind kept so far, in order.
   */
  read(
    document: KindDocument,
    context: { project: string; earlier: readonly KeptDocument<Spec>[] },
  ): KindReading<Spec>;
}

/** A document whose header is valid: where it is in the set, its name, and its spec as written. */
export interface KindDocument {
  document: number;
  /** `Kind/name`. */
  resource: string;
  name: string;
  spec: unknown;
  /** metadata.labels, as written (a Secret's `kargo.akuity.io/cred-type`). */
  labels?: Readonly<Record<string, string>>;
  /** The document's top-level fields besides apiVersion, kind, metadata and spec: a Secret's `data`, `stringData` and `type`. */
  fields: Readonly<Record<string, unknown>>;
}

export interface KindReading<Spec> {
  spec?: Spec;
  problems: DocumentProblem[];
  /** Why the document is skipped (a Secret that is not a credential): said as a warning of the apply, not a problem. */
  skipped?: string;
}

/** A document the set keeps, its spec checked. */
export interface KeptDocument<Spec> {
  document: number;
  name: string;
  /** metadata.labels, as written. */
  labels?: Record<string, string>;
  spec: Spec;
}

/** The set once every document is read. */
export interface ReadSet {
  /** The documents of a kind the set keeps, in order. */
  kept(kind: string): readonly KeptDocument<unknown>[];
  /** `Kind/name` of every document, valid or not: one with problems of its own is not reported missing. */
  declared: ReadonlySet<string>;
}

export interface StageResolution {
  fields?: Partial<StageSpecExtensions>;
  problems: ManifestProblem[];
}
