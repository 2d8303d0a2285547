/** Shapes of `/v1/sessions…` (contract: "Sessions") and the serializers from D1 rows. */
import { z } from "@hono/zod-openapi";
import type { participantSessions, roomSessions } from "../db/schema";
import { toIso } from "../lib/clock";
import { ListQuery } from "../lib/openapi";
import { Timestamp } from "../lib/schemas";
import { MAX_ROOM_NAME_LENGTH } from "../livekit/rooms";

export const SessionParams = z.object({
  rs_id: z.string().min(1).max(64).openapi({ param: { name: "rs_id", in: "path" }, example: "rs_3kT9xYz" }),
});

export const SessionListQuery = ListQuery.extend({
  room: z.string().min(1).max(MAX_ROOM_NAME_LENGTH).optional().openapi({ description: "Only this room (your own name)." }),
  since: Timestamp.optional().openapi({ description: "Sessions that started at or after this time." }),
  until: Timestamp.optional().openapi({ description: "Sessions that started before this time." }),
});

const sessionFields = {
  id: z.string(),
  room: z.string(),
  room_sid: z.string().nullable(),
  started_at: z.string(),
  ended_at: z.string().nullable().openapi({ description: "Null while the room is live." }),
  participant_count: z.number().int().openapi({ description: "Distinct identities that joined." }),
  peak_participants: z.number().int(),
  participant_minutes: z.number().int(),
  egress_minutes: z.number().int(),
};

export const SessionSchema = z
  .object({ ...sessionFields, participants: z.number().int().openapi({ description: "Distinct identities (same as participant_count)." }) })
  .openapi("Session");

export const SessionParticipantSchema = z
  .object({
    identity: z.string(),
    name: z.string().nullable(),
    joined_at: z.string(),
    left_at: z.string().nullable(),
    minutes: z.number().int().nullable().openapi({ description: "Billed minutes (rounded up) once left; null while in the room." }),
  })
  .openapi("SessionParticipant");

export const SessionDetailSchema = z
  .object({ ...sessionFields, participants: z.array(SessionParticipantSchema).openapi({ description: "Participant sessions by join time (first 1000)." }) })
  .openapi("SessionDetail");

export type RoomSessionRow = typeof roomSessions.$inferSelect & { egressMinutes: number };

function base(row: RoomSessionRow) {
  return {
    id: row.id,
    room: row.room,
    room_sid: row.roomSid,
    started_at: toIso(row.startedAt),
    ended_at: row.endedAt === null ? null : toIso(row.endedAt),
    participant_count: row.participantCount,
    peak_participants: row.peakParticipants,
    participant_minutes: row.participantMinutes,
    egress_minutes: row.egressMinutes,
  };
}

export function serializeSession(row: RoomSessionRow) {
  return { ...base(row), participants: row.participantCount };
}

export function serializeSessionDetail(row: RoomSessionRow, participants: (typeof participantSessions.$inferSelect)[]) {
  return {
    ...base(row),
    participants: participants.map((p) => ({
      identity: p.identity,
      name: p.name,
      joined_at: toIso(p.joinedAt),
      left_at: p.leftAt === null ? null : toIso(p.leftAt),
      minutes: p.leftAt === null ? null : (p.minutes ?? 0),
    })),
  };
}
