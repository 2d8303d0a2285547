/**
 * The admitted hits of one sliding window, counted per millisecond: `(ms, n)` pairs, oldest first,
 * in a deque (two arrays and a head index, compacted when the dead prefix is large). A hit adds to
 * the newest pair or appends one; pruning drops pairs from the front. Both are O(1) amortized, and
 * the pairs are bounded by the window's length in milliseconds (60,000 for a minute), whatever the
 * limit: a 1,000,000/min limit costs what a 1,000/min one costs. Counting per millisecond keeps the
 * window exact at 1 ms resolution, the finest the clock has.
 */
export class HitWindow {
  private times: number[] = [];
  private counts: number[] = [];
  private head = 0;
  /** Hits in the window (sum of the live counts). */
  total = 0;

  /** Milliseconds holding at least one hit. */
  get size(): number {
    return this.times.length - this.head;
  }

  /** The oldest millisecond still counted, or undefined when empty. */
  get oldest(): number | undefined {
    return this.head < this.times.length ? this.times[this.head] : undefined;
  }

  /**
   * Counts `n` hits at `ms` and returns the millisecond they were counted at: never before the
   * newest one already counted, so the pairs stay ordered even if the clock steps back (those
   * hits then leave the window a little later, never earlier).
   */
  add(ms: number, n = 1): number {
    const last = this.times.length - 1;
    if (last >= this.head && this.times[last]! >= ms) {
      this.counts[last]! += n;
      this.total += n;
      return this.times[last]!;
    }
    this.times.push(ms);
    this.counts.push(n);
    this.total += n;
    return ms;
  }

  /**
   * Takes back `n` hits counted at `ms` (a released reservation); false when none are counted there.
   * Releases follow their hit closely, so the search from the newest pair is short.
   */
  remove(ms: number, n = 1): boolean {
    for (let i = this.times.length - 1; i >= this.head && this.times[i]! >= ms; i--) {
      if (this.times[i] !== ms) continue;
      const taken = Math.min(n, this.counts[i]!);
      if (taken === 0) return false;
      this.counts[i]! -= taken;
      this.total -= taken;
      return true;
    }
    return false;
  }

  /** Drops every millisecond at or before `cutoff`; true when something was dropped. */
  prune(cutoff: number): boolean {
    let head = this.head;
    const times = this.times;
    if (head >= times.length || times[head]! > cutoff) return false;
    while (head < times.length && times[head]! <= cutoff) {
      this.total -= this.counts[head]!;
      head++;
    }
    if (head === times.length) {
      times.length = 0;
      this.counts.length = 0;
      head = 0;
    } else if (head >= 1024 && head * 2 >= times.length) {
      // Compact once the dead prefix is at least half the arrays: each pair is moved O(1) times.
      times.splice(0, head);
      this.counts.splice(0, head);
      head = 0;
    }
    this.head = head;
    return true;
  }

  /**
   * The millisecond whose hits must leave the window before one more hit fits under `limit`: the
   * (total - limit + 1)th oldest hit. With the window full (total = limit) that is the oldest pair,
   * one step; only a limit lowered below the window's count walks further.
   */
  blockingTime(limit: number): number | undefined {
    let skip = this.total - Math.max(limit, 0);
    for (let i = this.head; i < this.times.length; i++) {
      skip -= this.counts[i]!;
      if (skip < 0) return this.times[i];
    }
    return undefined;
  }
}
