import { DomainEventBus } from './DomainEventBus';
import type { DomainEvent } from './DomainEvent';

function recordingLogger() {
  const warnings: string[] = [];
  return { warnings, debug() {}, info() {}, error() {}, warn: (m: string) => warnings.push(m) };
}

const created: DomainEvent = { type: 'FreightCreated', project: 'p', warehouse: 'w', freightId: 'f1', source: 'manual' };
const finished: DomainEvent = { type: 'PromotionFinished', project: 'p', stage: 'dev', promotionId: 'x' };

describe('DomainEventBus', () => {
  it('hands each event to the subscribers of its type, in the order they subscribed', () => {
    const bus = new DomainEventBus(recordingLogger());
    const seen: string[] = [];
    bus.subscribe('FreightCreated', 'first', e => void seen.push(`first:${e.freightId}`));
    bus.subscribe(['FreightCreated', 'PromotionFinished'], 'second', e => void seen.push(`second:${e.type}`));
    bus.subscribe('VerificationQueued', 'unrelated', () => void seen.push('unrelated'));
    bus.publish(created);
    bus.publish(finished);
    expect(seen).toEqual(['first:f1', 'second:FreightCreated', 'second:PromotionFinished']);
  });

  it('a subscriber that throws or rejects fails neither the publisher nor the others: it is logged by name', async () => {
    const logger = recordingLogger();
    const bus = new DomainEventBus(logger);
    const seen: string[] = [];
    bus.subscribe('FreightCreated', 'the thrower', () => {
      throw new Error('boom');
    });
    bus.subscribe('FreightCreated', 'the rejecter', async () => {
      throw new Error('later boom');
    });
    bus.subscribe('FreightCreated', 'the survivor', e => void seen.push(e.freightId));
    expect(() => bus.publish(created)).not.toThrow();
    await bus.settle();
    expect(seen).toEqual(['f1']);
    expect(logger.warnings).toEqual([
      'the thrower could not handle FreightCreated in project p: boom',
      'the rejecter could not handle FreightCreated in project p: later boom',
    ]);
  });

  it('settle waits for the work subscribers started', async () => {
    const bus = new DomainEventBus(recordingLogger());
    let done = false;
    bus.subscribe('PromotionFinished', 'slow', async () => {
      await new Promise(r => setTimeout(r, 20));
      done = true;
    });
    bus.publish(finished);
    expect(done).toBe(false);
    await bus.settle();
    expect(done).toBe(true);
  });
});
