/** Token bucket: `take(n)` waits until n units fit within `perSecond` (no limit when undefined). */
export class RateLimiter {
  private tokens: number;
  private last = Date.now();

  constructor(private readonly perSecond: number | undefined) {
    this.tokens = perSecond ?? 0;
  }

  /** Resolves early, taking nothing, once `signal` aborts: a stopping run must not sit in a wait. */
  async take(n: number, signal?: AbortSignal): Promise<void> {
    const rate = this.perSecond;
    if (!rate) return;
    // A request larger than one second's budget waits for a full bucket, then goes into debt.
    const need = Math.min(n, rate);
    for (;;) {
      if (signal?.aborted) return;
      const now = Date.now();
      this.tokens = Math.min(rate, this.tokens + ((now - this.last) / 1000) * rate);
      this.last = now;
      if (this.tokens >= need) {
        this.tokens -= n;
        return;
      }
      await sleep(Math.ceil(((need - this.tokens) / rate) * 1000), signal);
    }
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
