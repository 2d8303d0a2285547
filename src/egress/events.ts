/**
 * Applying LiveKit's egress webhooks (`egress_started`, `egress_updated`, `egress_ended`) to the
 * project's egress records. Called by the inbound webhook processor, which has already verified
 * the signature, deduplicated the event and attributed it to a project; this returns statements
 * for that processor's `db.batch()` so the event's bookkeeping and its effects commit together.
 *
 * LiveKit may deliver events late or out of order, so a status never moves backwards and a
 * terminal status is final. Minutes are metered once, idempotently by the egress id, when the
 * egress reaches a terminal status having started.
 */
import { and, eq } from "drizzle-orm";
import type { BatchItem, Database } from "../db/client";
import { egresses } from "../db/schema";
import { nowMs } from "../lib/clock";
import { protoField, protoString } from "../lib/protojson";
import { livekitTimeToMs } from "../livekit/timestamps";
import { billableMinutes, usageEventInsert } from "../usage/record";
import type { TenantEvent } from "../webhooks/event-types";
import { publicEgressError } from "./errors";
import { hasRecordedMedia, mergeResults, parseResults, resultsFromInfo } from "./results";
import { serializeEgress } from "./schemas";
import { egressStatusAdvances, isTerminalEgressStatus, parseEgressStatus } from "./status";

export interface EgressEvent {
  event: string;
  /** LiveKit's event id (`EV_…`). */
  id: string;
  /** When LiveKit created the event, unix ms. */
  createdAt: number;
  /** protojson EgressInfo: camelCase keys, defaults omitted, int64 as strings (times in ns). */
  egressInfo: Record<string, unknown>;
}

type EgressRow = typeof egresses.$inferSelect;

/**
 * What an EgressInfo from LiveKit (a webhook's, or StopEgress's answer) does to a record: the
 * record's next state, and the statements that write it and meter the minutes once it has ended.
 * `fallbackEndMs` dates an end LiveKit did not time-stamp.
 */
export function reconcileEgress(
  db: Database,
  project: { projectId: string; orgId: string },
  row: EgressRow,
  info: Record<string, unknown>,
  fallbackEndMs: number,
): { next: EgressRow; statements: BatchItem[] } {
  const incoming = parseEgressStatus(info.status);
  const advances = egressStatusAdvances(row.status, incoming);
  const status = advances ? incoming : row.status;
  const terminal = isTerminalEgressStatus(status);
  const startedAt = row.startedAt ?? livekitTimeToMs(protoField(info, "startedAt"));
  const endedAt = terminal ? (row.endedAt ?? livekitTimeToMs(protoField(info, "endedAt")) ?? fallbackEndMs) : null;
  // LiveKit's own text can name hosts and ports inside the platform network: tenants get the generic one.
  const error = typeof info.error === "string" && info.error !== "" && advances ? publicEgressError(info.error, incoming) : row.error;
  // A late report (one that does not advance the record) carries older results: keep the newer ones.
  const results = advances ? JSON.stringify(mergeResults(parseResults(row.results), resultsFromInfo(info, project.projectId))) : row.results;

  const statements: BatchItem[] = [];
  let next = row;
  if (status !== row.status || startedAt !== row.startedAt || endedAt !== row.endedAt || error !== row.error || results !== row.results) {
    next = { ...row, status, startedAt, endedAt, error, results, updatedAt: nowMs() };
    statements.push(
      db
        .update(egresses)
        .set({ status, startedAt, endedAt, error, results, updatedAt: next.updatedAt })
        .where(and(eq(egresses.id, row.id), eq(egresses.projectId, project.projectId))),
    );
  }
  if (terminal && startedAt !== null && endedAt !== null) {
    statements.push(
      usageEventInsert(db, {
        projectId: project.projectId,
        orgId: project.orgId,
        meter: "egress_minutes",
        quantity: billableMinutes(startedAt, endedAt),
        occurredAt: endedAt,
        sourceId: row.egressId,
        room: row.room,
      }),
    );
  }
  return { next, statements };
}

/** One per egress: a replayed `egress_ended`, or a second one under another event id, finds its message already made. */
const recordingSourceId = (egressId: string) => `recording.completed:${egressId}`;

/**
 * What an egress event does, from one read of the project's record: the statements that bring the
 * record (and its metering) up to date, and `recording.completed` when an `egress_ended` leaves it
 * `EGRESS_COMPLETE` with at least one file or segment result (the tenant event, the egress record
 * with its results, and the source id its webhook messages are made from). A failed or aborted
 * egress, or one that produced only streams or images, gets `egress.ended` alone.
 */
export async function egressEventEffects(
  db: Database,
  project: { projectId: string; orgId: string },
  event: EgressEvent,
): Promise<{ statements: BatchItem[]; recording: { sourceId: string; event: TenantEvent } | null }> {
  const info = event.egressInfo ?? {};
  const egressId = protoString(info, "egressId");
  if (!egressId) return { statements: [], recording: null };
  const row = await db
    .select()
    .from(egresses)
    .where(and(eq(egresses.egressId, egressId), eq(egresses.projectId, project.projectId)))
    .get();
  // Not started through Pulse (or another project's): nothing of ours to update or bill.
  if (!row) return { statements: [], recording: null };
  const { statements, next } = reconcileEgress(db, project, row, info, event.createdAt);
  const completed = event.event === "egress_ended" && next.status === "EGRESS_COMPLETE" && hasRecordedMedia(parseResults(next.results));
  const recording = completed
    ? { sourceId: recordingSourceId(row.egressId), event: { type: "recording.completed" as const, occurredAt: event.createdAt, data: { egress: serializeEgress(next) } } }
    : null;
  return { statements, recording };
}
