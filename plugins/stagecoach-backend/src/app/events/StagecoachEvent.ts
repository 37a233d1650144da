import type { Freight, Promotion, PromotionPhase, Verification, VerificationPhase } from '@stagecoach/plugin-stagecoach-common';

/**
 * What the engine reports to its host through `StagecoachEngineOptions.onEvent`. The Backstage
 * plugin publishes each one unchanged, as the payload of an event on the events service's
 * `stagecoach` topic, for other plugins (notifications, audit) to act on.
 *
 * Delivery is best effort and at least once: an event is handed over after the change is
 * committed, and a host that fails to take it only costs a warning in the log.
 */
export type StagecoachEvent = FreightCreatedEvent | PromotionFinishedEvent | VerificationFinishedEvent;

/** New freight, found by a warehouse's discovery or assembled through the API. */
export interface FreightCreatedEvent {
  type: 'freight.created';
  project: string;
  warehouse: string;
  /** `discovery`: the warehouse found new artifacts; `manual`: someone assembled it through the API. */
  source: 'discovery' | 'manual';
  /** Who assembled manual freight, as the API named them. */
  createdBy?: string;
  freight: Freight;
}

/** A promotion that has reached a final phase (Succeeded, Failed, Errored or Aborted). */
export interface PromotionFinishedEvent {
  type: 'promotion.finished';
  project: string;
  stage: string;
  phase: PromotionPhase;
  promotion: Promotion;
}

/**
 * A verification that has reached a final phase. Successful means the freight is now verified
 * in the stage (and may go on, after its soak time, to the stages downstream).
 */
export interface VerificationFinishedEvent {
  type: 'verification.finished';
  project: string;
  stage: string;
  phase: VerificationPhase;
  verification: Verification;
}
