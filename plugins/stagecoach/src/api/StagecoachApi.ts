import { createApiRef } from '@backstage/core-plugin-api';
import type {
  CreateFreightRequest,
  EntityPipeline,
  Freight,
  FreightList,
  ProjectCredentialList,
  Promotion,
  Stage,
  StageFreightList,
  Verification,
  VerificationList,
} from '@stagecoach/plugin-stagecoach-common';

/** Which page of a freight list, and what it matches. */
export interface FreightPageQuery {
  /** Text the alias, ID or artifacts (tag, commit, version) contain. */
  q?: string;
  /** A previous page's `nextCursor`. */
  cursor?: string;
  /** Freight per page (the server's default when absent, at most 200). */
  limit?: number;
}

/** The catalog entity whose pipeline is asked for. */
export interface StagecoachEntityRef {
  kind: string;
  namespace: string;
  name: string;
}

/** What the Stagecoach frontend asks of the Stagecoach backend. */
export interface StagecoachApi {
  /** The stages (in pipeline order) and freight relevant to one catalog entity. */
  getEntityPipeline(entityRef: StagecoachEntityRef): Promise<EntityPipeline>;
  /** The freight that may be promoted into `stage` now. */
  getStageFreight(project: string, stage: string): Promise<FreightList>;
  /**
   * A page of the freight of the stage's warehouses, newest first, each with whether it may
   * enter the stage now and why (not), and which one auto-promotion would pick. Without
   * `page`, the first page; `nextCursor` leads to the next.
   */
  listStageFreight(
    project: string,
    stage: string,
    page?: FreightPageQuery & { available?: boolean },
  ): Promise<StageFreightList>;
  /** A page of the project's freight, newest first, filtered on the server. */
  listFreight(
    project: string,
    page?: FreightPageQuery & { warehouse?: string },
  ): Promise<FreightList>;
  /** Approves freight (by ID or alias) for `stage`: it may enter unverified; answers the freight. */
  approveFreight(
    project: string,
    freight: string,
    stage: string,
  ): Promise<Freight>;
  /**
   * Releases the stage's auto-promotion hold, of one warehouse when `origin` is given, so that
   * auto-promotion resumes; answers the stage.
   */
  releaseAutoPromotionHold(
    project: string,
    stage: string,
    origin?: string,
  ): Promise<Stage>;
  /** Queues a promotion of freight (by ID or alias) into `stage`. */
  promote(project: string, stage: string, freight: string): Promise<Promotion>;
  /**
   * Assembles freight from artifacts a warehouse discovered (one per subscription); the
   * existing freight when it already exists.
   */
  createFreight(
    project: string,
    request: CreateFreightRequest,
  ): Promise<Freight>;
  getPromotion(project: string, id: string): Promise<Promotion>;
  /** Aborts a pending, waiting or running promotion; answers it as it is then. */
  abortPromotion(project: string, id: string): Promise<Promotion>;
  /** The stage's verifications, newest first; at most `limit` of them when given. */
  listVerifications(
    project: string,
    stage: string,
    limit?: number,
  ): Promise<VerificationList>;
  getVerification(project: string, id: string): Promise<Verification>;
  /**
   * Verifies the stage's current freight again; answers the new verification. Refused (409)
   * when the stage has no freight.
   */
  reverify(project: string, stage: string): Promise<Verification>;
  /**
   * Aborts the stage's pending or running verification; answers it as it is then. Refused
   * (409) when none is under way.
   */
  abortVerification(project: string, stage: string): Promise<Verification>;
  /**
   * The project's credentials (Secrets labelled kargo.akuity.io/cred-type in its manifests):
   * name, type and repository only; the API never sends their values.
   */
  listProjectCredentials(project: string): Promise<ProjectCredentialList>;
}

export const stagecoachApiRef = createApiRef<StagecoachApi>({
  id: 'plugin.stagecoach.service',
});
