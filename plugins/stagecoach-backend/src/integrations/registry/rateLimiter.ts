/**
 * Requests per second per registry host, for registries that throttle (Docker Hub, quotas
 * on GHCR or a shared Harbor). Generic cell rate algorithm: each request is given the
 * next free slot `1 / rate` after the previous one, with up to one second's worth of
 * requests allowed at once after a quiet spell. Requests keep their order; hosts without
 * a limit never wait.
 */
export class RateLimiter {
  /** Per host: when the next request would be due if none had been saved up (ms). */
  private readonly due = new Map<string, number>();

  constructor(
    private readonly rateFor: (host: string) => number | undefined,
    private readonly now: () => number = Date.now,
    private readonly sleep: (ms: number) => Promise<void> = ms => new Promise(r => setTimeout(r, ms)),
  ) {}

  /** Resolves when a request to `host` may be sent. */
  async acquire(host: string): Promise<void> {
    const rate = this.rateFor(host);
    if (!rate) return;
    const interval = 1000 / rate;
    // a burst of up to `rate` requests (one second's worth) goes at once
    const tolerance = Math.max(0, Math.ceil(rate) - 1) * interval;
    const now = this.now();
    const due = Math.max(this.due.get(host) ?? now, now);
    const wait = due - tolerance - now;
    this.due.set(host, due + interval);
    if (wait > 0) await this.sleep(wait);
  }
}
