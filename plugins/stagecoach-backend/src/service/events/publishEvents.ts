import type { EventsService } from '@backstage/plugin-events-node';
import type { StagecoachEvent } from '../../app';

/** The events service topic Stagecoach publishes its own events on. */
export const STAGECOACH_EVENTS_TOPIC = 'stagecoach';

/**
 * Outbound: what the engine reports (freight.created, promotion.finished, verification.finished; see StagecoachEvent)
 * becomes the payload of an event on the `stagecoach` topic. Used as the engine's `onEvent`,
 * which runs it in the background and logs its failures.
 */
export function createEventPublisher(events: EventsService): (event: StagecoachEvent) => Promise<void> {
  return event => events.publish({ topic: STAGECOACH_EVENTS_TOPIC, eventPayload: event });
}
