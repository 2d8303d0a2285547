/**
 * LiveKit's int64 times. EgressInfo's `started_at`/`ended_at`/`updated_at` are unix nanoseconds;
 * other messages use seconds or milliseconds, and protojson renders int64 as strings with 0 (the
 * default) omitted. The magnitude tells the unit apart unambiguously for any date after 1973, so
 * one reader serves every message without trusting which field uses which unit.
 */

/** A LiveKit int64 time (string or number, any unit) in unix milliseconds; null for absent/0/garbage. */
export function livekitTimeToMs(value: unknown): number | null {
  if (value === undefined || value === null || value === "") return null;
  let big: bigint;
  try {
    big = typeof value === "bigint" ? value : BigInt(typeof value === "number" ? Math.trunc(value) : String(value).trim());
  } catch {
    return null;
  }
  if (big <= 0n) return null;
  if (big >= 100_000_000_000_000_000n) return Number(big / 1_000_000n); // ns: ≥ 1e17
  if (big >= 100_000_000_000_000n) return Number(big / 1_000n); // µs: ≥ 1e14
  if (big >= 100_000_000_000n) return Number(big); // ms: ≥ 1e11
  return Number(big) * 1000; // s
}
