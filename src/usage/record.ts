/**
 * Raw usage events, the source of truth for metering. Each is idempotent by (meter, source id): the
 * same participant session, egress or token batch can be reported any number of times and meters
 * once. Returned as a batch statement so it commits with whatever caused it.
 */
import type { BatchItem, Database } from "../db/client";
import { usageEvents } from "../db/schema";
import { nowMs } from "../lib/clock";
import { newId } from "../lib/ids";
import type { Meter } from "./meters";

export interface UsageEventInput {
  projectId: string;
  orgId: string;
  meter: Meter;
  quantity: number;
  occurredAt: number;
  /** What this usage came from (participant session id, egress id, …): the idempotency key. */
  sourceId: string;
}

export function usageEventInsert(db: Database, input: UsageEventInput): BatchItem {
  return db
    .insert(usageEvents)
    .values({ id: newId("usageEvent"), createdAt: nowMs(), ...input })
    .onConflictDoNothing({ target: [usageEvents.meter, usageEvents.sourceId] });
}

/** Whole minutes, rounded up (LiveKit Cloud's unit): 10 s → 1, 65 s → 2, 0 s → 0. */
export function billableMinutes(startMs: number, endMs: number): number {
  const ms = Math.max(0, endMs - startMs);
  return Math.ceil(ms / 60_000);
}
