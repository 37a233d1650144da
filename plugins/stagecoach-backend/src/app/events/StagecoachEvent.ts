import type {
  Freight,
  Promotion,
  PromotionPhase,
  Verification,
  VerificationPhase,
} from '@stagecoach/plugin-stagecoach-common';
import type { Logger } from '../../util/types';
import type { DomainEventBus } from './DomainEventBus';

/**
 * What the engine reports to its host through `StagecoachEngineOptions.onEvent` (made from the
 * domain events, see reportStagecoachEvents). The Backstage
 * plugin publishes each one unchanged, as the payload of an event on the events service's
 * `stagecoach` topic, for other plugins (notifications, audit) to act on.
 *
 * Delivery is best effort and at least once: an event is handed over after the change is
 * committed, and a host that fails to take it only costs a warning in the log.
 */
export type StagecoachEvent =
  | FreightCreatedEvent
  | PromotionFinishedEvent
  | VerificationFinishedEvent;

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

/** Where the outward events' payloads are read from. */
export interface StagecoachEventSources {
  freight: { get(project: string, id: string): Promise<Freight> };
  promotions: { get(project: string, id: string): Promise<Promotion> };
  verifications: { get(project: string, id: string): Promise<Verification> };
}

/**
 * Subscribes the host's `onEvent` to the domain events it is told about, as StagecoachEvents
 * with the views they concern. Each is built and handed over in the background; a failure
 * costs a warning in the log and nothing else.
 */
export function reportStagecoachEvents(
  bus: DomainEventBus,
  sources: StagecoachEventSources,
  onEvent: (event: StagecoachEvent) => void | Promise<void>,
  logger: Logger,
): void {
  const report = async (
    what: string,
    build: () => Promise<StagecoachEvent>,
  ) => {
    try {
      await onEvent(await build());
    } catch (e) {
      logger.warn(
        `could not report ${what}: ${
          e instanceof Error ? e.message : String(e)
        }`,
      );
    }
  };
  bus.subscribe('FreightCreated', 'the Stagecoach events reporter', e =>
    report(
      `freight.created (freight ${e.freightId} of warehouse ${e.project}/${e.warehouse})`,
      async () => ({
        type: 'freight.created',
        project: e.project,
        warehouse: e.warehouse,
        source: e.source,
        ...(e.actor ? { createdBy: e.actor } : {}),
        freight: await sources.freight.get(e.project, e.freightId),
      }),
    ),
  );
  bus.subscribe('PromotionFinished', 'the Stagecoach events reporter', e =>
    report(
      `promotion.finished (promotion ${e.promotionId} in project ${e.project})`,
      async () => {
        const promotion = await sources.promotions.get(
          e.project,
          e.promotionId,
        );
        return {
          type: 'promotion.finished',
          project: e.project,
          stage: promotion.stage,
          phase: promotion.phase,
          promotion,
        };
      },
    ),
  );
  bus.subscribe('VerificationFinished', 'the Stagecoach events reporter', e =>
    report(
      `verification.finished (verification ${e.verificationId} in project ${e.project})`,
      async () => {
        const verification = await sources.verifications.get(
          e.project,
          e.verificationId,
        );
        return {
          type: 'verification.finished',
          project: e.project,
          stage: verification.stage,
          phase: verification.phase,
          verification,
        };
      },
    ),
  );
}
