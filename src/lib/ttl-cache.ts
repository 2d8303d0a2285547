/**
 * A small per-isolate cache with a time to live and a size bound (the oldest entry goes first).
 * The credential lookups on hot paths (API keys, LiveKit keys) use it; what makes a cached
 * credential safe to trust is each caller's business (see auth/key-cache.ts).
 */
import { nowMs } from "./clock";

export class TtlCache<V> {
  private readonly entries = new Map<string, { value: V; until: number }>();

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries: number,
  ) {}

  get(key: string): V | null {
    const hit = this.entries.get(key);
    if (!hit) return null;
    if (hit.until <= nowMs()) {
      this.entries.delete(key);
      return null;
    }
    return hit.value;
  }

  set(key: string, value: V): void {
    if (!this.entries.has(key) && this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(key, { value, until: nowMs() + this.ttlMs });
  }

  delete(key: string): void {
    this.entries.delete(key);
  }
}
