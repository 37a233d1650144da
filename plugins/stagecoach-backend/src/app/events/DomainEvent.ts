/**
 * What happened inside the engine, once it is committed. Use-case services and workers raise
 * these on the DomainEventBus; reactions (auto-promotion, worker wake-ups, the Backstage
 * events publisher, audit, and later notifications and metrics) subscribe to them. They
 * carry identities, not views: a subscriber that needs more reads it.
 */
export type DomainEvent =
  | FreightCreated
  | FreightApproved
  | PromotionQueued
  | PromotionAbortRequested
  | PromotionStarted
  | PromotionFinished
  | AutoPromotionFailed
  | AutoPromotionHoldReleased
  | VerificationQueued
  | VerificationAbortRequested
  | VerificationsSuperseded
  | VerificationFinished
  | ManifestsApplied
  | DiscoveryFailed;

export type DomainEventType = DomainEvent['type'];

/** The event of one type. */
export type DomainEventOf<T extends DomainEventType> = Extract<
  DomainEvent,
  { type: T }
>;

/** New freight, found by a warehouse's discovery or assembled through the API. */
export interface FreightCreated {
  type: 'FreightCreated';
  project: string;
  warehouse: string;
  freightId: string;
  source: 'discovery' | 'manual';
  actor?: string;
}

/** Freight approved by hand for a stage (the first approval; approving again raises nothing). */
export interface FreightApproved {
  type: 'FreightApproved';
  project: string;
  stage: string;
  freightId: string;
  actor?: string;
}

/** A promotion was queued, by someone or by auto-promotion (`automatic`). */
export interface PromotionQueued {
  type: 'PromotionQueued';
  project: string;
  stage: string;
  promotionId: string;
  freightId: string;
  actor?: string;
  automatic: boolean;
}

/** Someone asked a running promotion to stop; the worker running it ends it within a heartbeat. */
export interface PromotionAbortRequested {
  type: 'PromotionAbortRequested';
  project: string;
  stage: string;
  promotionId: string;
  actor: string;
}

/** A worker claimed a promotion and is about to run its steps. */
export interface PromotionStarted {
  type: 'PromotionStarted';
  project: string;
  stage: string;
  promotionId: string;
}

/** A promotion reached a final phase (Succeeded, Failed, Errored or Aborted). */
export interface PromotionFinished {
  type: 'PromotionFinished';
  project: string;
  stage: string;
  promotionId: string;
}

/** Auto-promotion chose freight for a stage, and queueing its promotion failed. */
export interface AutoPromotionFailed {
  type: 'AutoPromotionFailed';
  project: string;
  stage: string;
  freightId: string;
  actor: string;
  error: Error;
}

/** A stage's auto-promotion hold was released (of some origins), so auto-promotion resumes. */
export interface AutoPromotionHoldReleased {
  type: 'AutoPromotionHoldReleased';
  project: string;
  stage: string;
  origins: string[];
  actor?: string;
}

/** A verification was queued: after a promotion succeeded, or asked for again. */
export interface VerificationQueued {
  type: 'VerificationQueued';
  project: string;
  stage: string;
  verificationId: string;
}

/** Someone asked the stage's verification in progress to stop. */
export interface VerificationAbortRequested {
  type: 'VerificationAbortRequested';
  project: string;
  stage: string;
  verificationId: string;
  actor: string;
}

/** The stage's verifications in progress were ended because what they judge changed. */
export interface VerificationsSuperseded {
  type: 'VerificationsSuperseded';
  project: string;
  stage: string;
  count: number;
}

/** A verification reached a final phase; Successful means the freight is verified in the stage. */
export interface VerificationFinished {
  type: 'VerificationFinished';
  project: string;
  stage: string;
  verificationId: string;
  phase: string;
}

/** A set of manifests became the project's pipeline. */
export interface ManifestsApplied {
  type: 'ManifestsApplied';
  project: string;
  warehouses: string[];
  stages: string[];
  removedStages: string[];
  actor?: string;
  revision?: string;
}

/** A warehouse's discovery failed (recorded on the warehouse, retried with backoff). */
export interface DiscoveryFailed {
  type: 'DiscoveryFailed';
  project: string;
  warehouse: string;
  error: string;
}
