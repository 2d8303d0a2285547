/**
 * LiveKit's egress lifecycle. Statuses only move forward (starting → active → ending → one of the
 * terminal ones), which lets late or reordered webhooks be applied without regressing a record.
 */
export const EGRESS_STATUSES = [
  "EGRESS_STARTING",
  "EGRESS_ACTIVE",
  "EGRESS_ENDING",
  "EGRESS_COMPLETE",
  "EGRESS_FAILED",
  "EGRESS_ABORTED",
  "EGRESS_LIMIT_REACHED",
] as const;
export type EgressStatus = (typeof EGRESS_STATUSES)[number];

export const TERMINAL_EGRESS_STATUSES: readonly EgressStatus[] = [
  "EGRESS_COMPLETE",
  "EGRESS_FAILED",
  "EGRESS_ABORTED",
  "EGRESS_LIMIT_REACHED",
];
export const ACTIVE_EGRESS_STATUSES: readonly EgressStatus[] = ["EGRESS_STARTING", "EGRESS_ACTIVE", "EGRESS_ENDING"];

export function isTerminalEgressStatus(status: string): boolean {
  return (TERMINAL_EGRESS_STATUSES as readonly string[]).includes(status);
}

/** protojson sends enum names, omits the default (0 = EGRESS_STARTING); numbers are accepted too. */
export function parseEgressStatus(value: unknown): EgressStatus {
  if (typeof value === "number") return EGRESS_STATUSES[value] ?? "EGRESS_STARTING";
  if (typeof value === "string" && (EGRESS_STATUSES as readonly string[]).includes(value)) return value as EgressStatus;
  return "EGRESS_STARTING";
}

function rank(status: string): number {
  if (isTerminalEgressStatus(status)) return 3;
  const index = (EGRESS_STATUSES as readonly string[]).indexOf(status);
  return index < 0 ? 0 : index;
}

/** True when moving from `current` to `next` goes forward (a terminal status is final). */
export function egressStatusAdvances(current: string, next: string): boolean {
  if (isTerminalEgressStatus(current)) return false;
  return rank(next) >= rank(current);
}
