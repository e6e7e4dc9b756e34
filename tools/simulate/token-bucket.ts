/**
 * Rate control: a token bucket on the simulator's clock. Over any interval of length t it hands out at most
 * `capacity + rate × t` tokens, and it tells the caller how long to sleep for the next one (no busy loop).
 */
export class TokenBucket {
  private tokens: number;
  private last: number;

  /**
   * @param ratePerSecond tokens per second; `Infinity` never limits.
   * @param capacity the most tokens saved up during a pause (the burst).
   */
  public constructor(
    private readonly ratePerSecond: number,
    private readonly capacity: number,
    private readonly clock: () => number,
  ) {
    // Start with one token, not a full bucket: the first second should look like every other second.
    this.tokens = Math.min(1, capacity);
    this.last = clock();
  }

  /** Whole tokens available now. */
  public available(): number {
    if (this.ratePerSecond === Number.POSITIVE_INFINITY) return Number.POSITIVE_INFINITY;
    this.refill();
    return Math.floor(this.tokens);
  }

  public take(count: number): void {
    if (this.ratePerSecond === Number.POSITIVE_INFINITY) return;
    this.tokens -= count;
  }

  /** Milliseconds until the next whole token (0 if one is there). */
  public msUntilNext(): number {
    if (this.ratePerSecond === Number.POSITIVE_INFINITY) return 0;
    this.refill();
    return this.tokens >= 1 ? 0 : Math.ceil(((1 - this.tokens) * 1000) / this.ratePerSecond);
  }

  private refill(): void {
    const now = this.clock();
    // A clock that steps back (NTP) adds nothing rather than a negative amount.
    const elapsed = Math.max(0, now - this.last);
    this.last = now;
    this.tokens = Math.min(this.capacity, this.tokens + (elapsed * this.ratePerSecond) / 1000);
  }
}
