import type { AutoPromoter } from '../stages/autoPromotion';
import type { DomainEventBus } from './events/DomainEventBus';

/** What reacts to the engine's changes inside the engine: the workers and auto-promotion. */
export interface Reactors {
  promotionWorker: { wake(): void };
  verificationWorker: { wake(): void };
  autoPromotion: Pick<AutoPromoter, 'kick'>;
}

/**
 * The engine's own reactions, in one place: which change wakes which worker and when
 * auto-promotion looks at a project again. (The scheduler also runs each of them on its own
 * interval, so a reaction lost with a crashed process is only late, never missing.)
 */
export function subscribeReactions(bus: DomainEventBus, r: Reactors): void {
  bus.subscribe(
    ['PromotionQueued', 'PromotionFinished'],
    'the promotion worker',
    () => r.promotionWorker.wake(),
  );
  bus.subscribe(
    [
      'VerificationQueued',
      'VerificationAbortRequested',
      'VerificationsSuperseded',
    ],
    'the verification worker',
    () => r.verificationWorker.wake(),
  );
  // freight that may move on: new freight, freight approved or verified, a stage free again or released from its hold
  bus.subscribe(
    [
      'FreightCreated',
      'FreightApproved',
      'PromotionFinished',
      'AutoPromotionHoldReleased',
    ],
    'auto-promotion',
    e => r.autoPromotion.kick(e.project),
  );
  bus.subscribe('VerificationFinished', 'auto-promotion', e => {
    if (e.phase === 'Successful') r.autoPromotion.kick(e.project);
  });
}
