import type { Logger } from '../../util/types';
import type {
  DomainEvent,
  DomainEventOf,
  DomainEventType,
} from './DomainEvent';

/** What a subscriber does with an event; it may return a promise, which the bus tracks. */
export type DomainEventHandler<T extends DomainEventType> = (
  event: DomainEventOf<T>,
) => void | Promise<void>;

interface Subscription {
  name: string;
  types: ReadonlySet<DomainEventType>;
  handle: (event: DomainEvent) => void | Promise<void>;
}

/**
 * The engine's in-process event bus. `publish` hands an event to every subscriber of its
 * type at once, in the order they subscribed, and returns without waiting for what they
 * start: a subscriber that throws or rejects is logged under its name and never fails the
 * change that raised the event, nor the other subscribers. `settle` waits for the work
 * subscribers started (shutdown, tests).
 *
 * Events are raised after the change they describe is committed, so a subscriber that reads
 * the database sees it. Delivery is in-process: each backend replica reacts to the changes
 * it makes; what must reach every replica goes through the database (claims, polling).
 */
export class DomainEventBus {
  private readonly subscriptions: Subscription[] = [];
  private readonly pending = new Set<Promise<void>>();

  constructor(private readonly logger: Logger) {}

  /** Subscribes `handle` to events of one or more types; `name` says who it is in logs. */
  subscribe<T extends DomainEventType>(
    types: T | readonly T[],
    name: string,
    handle: DomainEventHandler<T>,
  ): void {
    const list: readonly T[] = Array.isArray(types) ? types : [types as T];
    this.subscriptions.push({
      name,
      types: new Set(list),
      handle: handle as Subscription['handle'],
    });
  }

  publish(event: DomainEvent): void {
    for (const s of this.subscriptions) {
      if (!s.types.has(event.type)) continue;
      try {
        const result = s.handle(event);
        if (result && typeof (result as Promise<void>).then === 'function')
          this.track(s, event, result as Promise<void>);
      } catch (e) {
        this.failed(s, event, e);
      }
    }
  }

  /** Waits until the work subscribers started has ended (their failures are already logged). */
  async settle(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  private track(
    s: Subscription,
    event: DomainEvent,
    result: Promise<void>,
  ): void {
    const done = result.then(
      () => undefined,
      e => this.failed(s, event, e),
    );
    this.pending.add(done);
    void done.finally(() => this.pending.delete(done));
  }

  private failed(s: Subscription, event: DomainEvent, e: unknown): void {
    const where = 'project' in event ? ` in project ${event.project}` : '';
    this.logger.warn(
      `${s.name} could not handle ${event.type}${where}: ${
        e instanceof Error ? e.message : String(e)
      }`,
    );
  }
}
