/**
 * At most `limit` requests in flight per registry host; the rest wait their turn in order.
 * Registries rate-limit (Docker Hub, GHCR), and a burst of hundreds of concurrent requests
 * is slower than a steady few anyway.
 */
export class HostLimiter {
  private readonly hosts = new Map<
    string,
    { active: number; waiting: Array<() => void> }
  >();

  constructor(private readonly limit: number) {
    if (!(limit >= 1))
      throw new Error('the per-host request limit must be at least 1');
  }

  async run<T>(host: string, fn: () => Promise<T>): Promise<T> {
    let state = this.hosts.get(host);
    if (!state) {
      state = { active: 0, waiting: [] };
      this.hosts.set(host, state);
    }
    if (state.active >= this.limit)
      await new Promise<void>(resolve => state!.waiting.push(resolve));
    else state.active++;
    try {
      return await fn();
    } finally {
      const next = state.waiting.shift();
      // the slot passes straight to the next waiter, so `active` stays the same
      if (next) next();
      else {
        state.active--;
        if (state.active === 0) this.hosts.delete(host);
      }
    }
  }
}
