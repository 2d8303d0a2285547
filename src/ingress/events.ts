/**
 * Applying LiveKit's ingress webhooks (`ingress_started`, `ingress_ended`) to the project's
 * ingress records. Called by the inbound webhook processor (signature checked, event
 * deduplicated, project attributed); returns statements for its `db.batch()`.
 *
 * An RTMP/WHIP ingress is reusable: each publishing session starts and ends, and the record shows
 * the latest session. Events of an older session (by its `startedAt`) never overwrite a newer one.
 * Each ended session is metered once as ingress minutes, idempotently by ingress id + session start.
 */
import { and, eq } from "drizzle-orm";
import type { BatchItem, Database } from "../db/client";
import { ingresses } from "../db/schema";
import { nowMs } from "../lib/clock";
import { protoField, protoString } from "../lib/protojson";
import { livekitTimeToMs } from "../livekit/timestamps";
import { billableMinutes, usageEventInsert } from "../usage/record";
import { parseIngressStatus } from "./status";

export interface IngressEvent {
  event: string;
  /** LiveKit's event id (`EV_…`). */
  id: string;
  /** When LiveKit created the event, unix ms. */
  createdAt: number;
  /** protojson IngressInfo: camelCase keys, defaults omitted, int64 as strings. */
  ingressInfo: Record<string, unknown>;
}

export async function applyIngressEvent(
  db: Database,
  project: { projectId: string; orgId: string },
  event: IngressEvent,
): Promise<BatchItem[]> {
  const info = event.ingressInfo ?? {};
  const ingressId = protoString(info, "ingressId");
  if (!ingressId) return [];
  const row = await db
    .select()
    .from(ingresses)
    .where(and(eq(ingresses.ingressId, ingressId), eq(ingresses.projectId, project.projectId)))
    .get();
  if (!row) return [];

  const state = (info.state && typeof info.state === "object" ? info.state : {}) as Record<string, unknown>;
  const status = parseIngressStatus(state.status);
  const stateError = typeof state.error === "string" ? state.error : "";
  const incomingStart = livekitTimeToMs(protoField(state, "startedAt"));
  const incomingEnd = livekitTimeToMs(protoField(state, "endedAt"));
  const ended = event.event === "ingress_ended" || incomingEnd !== null;

  // Which session this event is about: its own start, or (an end without a start) the open one.
  const sessionStart = incomingStart ?? (ended && row.endedAt === null ? row.startedAt : null);
  const sessionEnd = ended ? (incomingEnd ?? event.createdAt) : null;

  const stale =
    // An end of no known session when the record's session is already closed: a repeat.
    (sessionStart === null && ended && row.endedAt !== null) ||
    (row.startedAt !== null &&
      sessionStart !== null &&
      (sessionStart < row.startedAt || (sessionStart === row.startedAt && row.endedAt !== null && !ended)));

  const statements: BatchItem[] = [];
  if (!stale) {
    const next = {
      status,
      error: stateError !== "" ? stateError : null,
      startedAt: sessionStart ?? row.startedAt,
      endedAt: sessionEnd,
    };
    if (next.status !== row.status || next.error !== row.error || next.startedAt !== row.startedAt || next.endedAt !== row.endedAt) {
      statements.push(
        db
          .update(ingresses)
          .set({ ...next, updatedAt: nowMs() })
          .where(and(eq(ingresses.id, row.id), eq(ingresses.projectId, project.projectId))),
      );
    }
  }
  if (sessionStart !== null && sessionEnd !== null) {
    statements.push(
      usageEventInsert(db, {
        projectId: project.projectId,
        orgId: project.orgId,
        meter: "ingress_minutes",
        quantity: billableMinutes(sessionStart, sessionEnd),
        occurredAt: sessionEnd,
        sourceId: `${ingressId}:${sessionStart}`,
      }),
    );
  }
  return statements;
}
