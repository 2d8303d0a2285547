/**
 * The one source of "now" for everything that expires, meters or rate-limits.
 * Tests run in the same isolate as the Worker (vitest-pool-workers), so they can move time with
 * `setClock()` instead of sleeping; production never calls it.
 */
let override: (() => number) | null = null;

export function nowMs(): number {
  return override ? override() : Date.now();
}

export function now(): Date {
  return new Date(nowMs());
}

/** The instants RFC 3339 can write in UTC: its year has four digits, 0000 to 9999 (the end is exclusive). */
export const RFC3339_FIRST_MS = Date.parse("0000-01-01T00:00:00Z");
export const RFC3339_END_MS = Date.parse("+010000-01-01T00:00:00Z");

/** RFC 3339 UTC without milliseconds, the contract's time format. */
export function toIso(date: Date | number): string {
  return new Date(date).toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** Test hook: pin or move the clock; pass `null` to return to real time. */
export function setClock(fn: (() => number) | null): void {
  override = fn;
}
