/**
 * Per-endpoint room filters: `rooms: ["support-*", "standup"]` on an endpoint narrows it to events
 * about matching rooms (the tenant's own names, never the namespaced ones). A pattern is byte-exact
 * except `*`, which matches any run of characters, the empty one included; there is no escape, so
 * a literal `*` in a room name is matched by `*` itself. Events about no room (`webhook.test`, a web
 * egress) are delivered whatever the filter says: a filter narrows rooms, it never hides
 * an endpoint's own test or events outside every room.
 */
import type { TenantEvent } from "./event-types";

export const MAX_ROOM_PATTERNS = 20;
export const MAX_ROOM_PATTERN_LENGTH = 128;

/** Whether `name` matches `pattern` (`*` = any characters; everything else compared exactly). */
export function roomMatches(pattern: string, name: string): boolean {
  const parts = pattern.split("*");
  if (parts.length === 1) return pattern === name;
  const first = parts[0]!;
  const last = parts[parts.length - 1]!;
  if (name.length < first.length + last.length || !name.startsWith(first) || !name.endsWith(last)) return false;
  // Each middle part at its earliest place after the previous one (greedy is exact for `*`-only globs).
  let at = first.length;
  const end = name.length - last.length;
  for (const part of parts.slice(1, -1)) {
    const found = name.indexOf(part, at);
    if (found === -1 || found + part.length > end) return false;
    at = found + part.length;
  }
  return true;
}

/** The tenant room an event is about, or null when it is about none. */
export function roomOfEvent(event: Pick<TenantEvent, "data">): string | null {
  const { data } = event;
  const name = (value: unknown) => (typeof value === "string" ? value : null);
  const room = data.room;
  if (typeof room === "string") return room;
  if (room && typeof room === "object") return name((room as Record<string, unknown>).name);
  for (const key of ["egress", "ingress"] as const) {
    const nested = data[key];
    if (nested && typeof nested === "object") return name((nested as Record<string, unknown>).room);
  }
  return null;
}

/** Whether an endpoint with `patterns` (null: no filter) receives `event`. */
export function roomFilterAdmits(patterns: readonly string[] | null, event: Pick<TenantEvent, "data">): boolean {
  if (patterns === null) return true;
  const room = roomOfEvent(event);
  return room === null || patterns.some((p) => roomMatches(p, room));
}
