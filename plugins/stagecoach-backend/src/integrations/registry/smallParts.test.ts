import { BoundedCache } from './boundedCache';
import { HostLimiter } from './hostLimiter';
import { RateLimiter } from './rateLimiter';

describe('HostLimiter', () => {
  it('keeps at most the limit in flight per host, in order, and hosts apart', async () => {
    const limiter = new HostLimiter(2);
    let active = 0;
    let peak = 0;
    const order: number[] = [];
    const task = (i: number) => async () => {
      active++;
      peak = Math.max(peak, active);
      await new Promise(r => setTimeout(r, 5));
      order.push(i);
      active--;
      return i;
    };
    const other = limiter.run('b', async () => 'other');
    const results = await Promise.all(
      [1, 2, 3, 4, 5].map(i => limiter.run('a', task(i))),
    );
    expect(results).toEqual([1, 2, 3, 4, 5]);
    expect(peak).toBe(2);
    expect(order).toEqual([1, 2, 3, 4, 5]);
    expect(await other).toBe('other');
  });

  it('frees the slot of a failed task', async () => {
    const limiter = new HostLimiter(1);
    await expect(
      limiter.run('a', async () => Promise.reject(new Error('boom'))),
    ).rejects.toThrow('boom');
    expect(await limiter.run('a', async () => 'next')).toBe('next');
  });
});

describe('BoundedCache', () => {
  it('forgets the least recently used past its bound', () => {
    const cache = new BoundedCache<number>(2);
    cache.set('a', 1);
    cache.set('b', 2);
    cache.get('a');
    cache.set('c', 3);
    expect([
      cache.get('a'),
      cache.get('b'),
      cache.get('c'),
      cache.size,
    ]).toEqual([1, undefined, 3, 2]);
  });
});

describe('RateLimiter', () => {
  it('lets a burst of one second’s worth through, then spaces requests 1/rate apart, per host', async () => {
    let clock = 0;
    const waits: Array<{ host: string; ms: number }> = [];
    const limiter = new RateLimiter(
      host => (host === 'docker.io' ? 2 : undefined),
      () => clock,
      async ms => {
        waits.push({ host: 'docker.io', ms });
      },
    );
    // 2 per second: the first two go at once, then one every 500 ms
    for (let i = 0; i < 5; i++) await limiter.acquire('docker.io');
    expect(waits.map(w => w.ms)).toEqual([500, 1000, 1500]);
    // an unlimited host never waits
    await limiter.acquire('ghcr.io');
    expect(waits).toHaveLength(3);
    // after a quiet spell the allowance is back, but never more than one second's worth
    clock = 60_000;
    waits.length = 0;
    for (let i = 0; i < 3; i++) await limiter.acquire('docker.io');
    expect(waits.map(w => w.ms)).toEqual([500]);
  });
});
