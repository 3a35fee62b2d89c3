/** Token bucket: `take(n)` waits until n units fit within `perSecond` (no limit when undefined). */
export class RateLimiter {
  private tokens: number;
  private last = Date.now();

  constructor(private readonly perSecond: number | undefined) {
    this.tokens = perSecond ?? 0;
  }

  async take(n: number): Promise<void> {
    const rate = this.perSecond;
    if (!rate) return;
    // A request larger than one second's budget waits for a full bucket, then goes into debt.
    const need = Math.min(n, rate);
    for (;;) {
      const now = Date.now();
      this.tokens = Math.min(rate, this.tokens + ((now - this.last) / 1000) * rate);
      this.last = now;
      if (this.tokens >= need) {
        this.tokens -= n;
        return;
      }
      await new Promise((r) => setTimeout(r, Math.ceil(((need - this.tokens) / rate) * 1000)));
    }
  }
}

/** DynamoDB capacity units: 1 KB per write unit, 4 KB per (strongly consistent) read unit. */
export const writeUnits = (bytes: number) => Math.max(1, Math.ceil(bytes / 1024));
export const readUnits = (bytes: number) => Math.max(1, Math.ceil(bytes / 4096));
