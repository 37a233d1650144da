export {
  subscribeToEvents,
  parseEvent,
  readEventsSettings,
  EventsConfigError,
  DEFAULT_EVENT_TOPICS,
  EVENTS_CONFIG_KEY,
  EVENTS_SUBSCRIBER_ID,
} from './subscribeToEvents';
export type { EventsSettings, SubscribeToEventsOptions } from './subscribeToEvents';
export { createEventPublisher, STAGECOACH_EVENTS_TOPIC } from './publishEvents';
