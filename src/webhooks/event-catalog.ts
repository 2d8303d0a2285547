/**
 * Every event type Pulse sends to tenants' endpoints, with a description and an example body: the
 * one source for `GET /v1/webhook-event-types` and for the event reference in `docs/webhooks.md`.
 * A test sends a real event of each type through Pulse and checks that its body has the example's
 * shape, key for key, so this catalog cannot drift from what is delivered.
 *
 * Each example is the whole delivered body (`{type, timestamp, data}`). Rooms are the tenant's own
 * names. Times are RFC 3339; a field LiveKit did not report is null.
 */
import { TEST_EVENT_TYPE, type WebhookEventType } from "./event-types";

export interface WebhookEventTypeEntry {
  type: WebhookEventType;
  description: string;
  example: { type: WebhookEventType; timestamp: string; data: Record<string, unknown> };
}

const AT = "2026-11-28T16:00:00Z";
const ROOM = { name: "standup", sid: "RM_hK2vZ8tQ3nXa" };
const PARTICIPANT = { sid: "PA_7yFq2LcWm9Rb", identity: "alice", name: "Alice", metadata: "{\"team\":\"ops\"}", joined_at: "2026-11-28T15:58:41Z" };
const TRACK = { sid: "TR_AMkQ3wYp8Jd2", type: "VIDEO", source: "CAMERA", name: "camera", mime_type: "video/VP8", muted: false };
const EGRESS = { egress_id: "EG_bX4nP9sKe2Lm", room: "standup", status: "EGRESS_ACTIVE", started_at: "2026-11-28T15:59:02Z", ended_at: null, error: null };
const INGRESS = {
  ingress_id: "IN_Zr6tWq1Hc8Vy",
  name: "OBS stream",
  room: "standup",
  participant_identity: "obs",
  status: "ENDPOINT_PUBLISHING",
  started_at: "2026-11-28T15:59:30Z",
  ended_at: null,
  error: null,
};
const EVENT_ID = "EV_3kLq8Wn2Rt5Y";

function entry(type: WebhookEventType, description: string, data: Record<string, unknown>): WebhookEventTypeEntry {
  return { type, description, example: { type, timestamp: AT, data } };
}

export const WEBHOOK_EVENT_CATALOG: readonly WebhookEventTypeEntry[] = [
  entry("room.started", "A room started: its first participant joined, or it was created. `livekit_event_id` is LiveKit's event id.", {
    livekit_event_id: EVENT_ID,
    room: ROOM,
  }),
  entry("room.finished", "A room ended: its last participant left, it timed out empty, or it was deleted.", { livekit_event_id: EVENT_ID, room: ROOM }),
  entry("participant.joined", "A participant connected to a room.", { livekit_event_id: EVENT_ID, room: ROOM, participant: PARTICIPANT }),
  entry(
    "participant.left",
    "A participant left a room. When LiveKit lost the connection instead (`participant_connection_aborted`), `data.reason` is `connection_aborted`.",
    { livekit_event_id: EVENT_ID, room: ROOM, participant: PARTICIPANT },
  ),
  entry("track.published", "A participant published a track (camera, microphone, screen share…).", {
    livekit_event_id: EVENT_ID,
    room: ROOM,
    participant: PARTICIPANT,
    track: TRACK,
  }),
  entry("track.unpublished", "A participant stopped publishing a track.", { livekit_event_id: EVENT_ID, room: ROOM, participant: PARTICIPANT, track: { ...TRACK, muted: true } }),
  entry("egress.started", "A recording or stream (egress) started. `status` is LiveKit's `EGRESS_*` name; `room` is null for web egress.", {
    livekit_event_id: EVENT_ID,
    egress: { ...EGRESS, status: "EGRESS_STARTING", started_at: null },
  }),
  entry("egress.updated", "An egress changed status (for example became active, or is ending).", { livekit_event_id: EVENT_ID, egress: EGRESS }),
  entry("egress.ended", "An egress ended: `status` is `EGRESS_COMPLETE`, `EGRESS_FAILED` or `EGRESS_ABORTED`; `error` says why it failed.", {
    livekit_event_id: EVENT_ID,
    egress: { ...EGRESS, status: "EGRESS_COMPLETE", ended_at: "2026-11-28T16:00:00Z" },
  }),
  entry("ingress.started", "An ingress (RTMP, WHIP or URL input) started publishing into its room. `status` is LiveKit's `ENDPOINT_*` name.", {
    livekit_event_id: EVENT_ID,
    ingress: INGRESS,
  }),
  entry("ingress.ended", "An ingress stopped publishing; `error` says why when it failed.", {
    livekit_event_id: EVENT_ID,
    ingress: { ...INGRESS, status: "ENDPOINT_INACTIVE", ended_at: "2026-11-28T16:00:00Z" },
  }),
  entry(
    "recording.completed",
    "After `egress.ended`, once per egress that completed (`EGRESS_COMPLETE`) with at least one file or HLS playlist: the egress record, with its results (locations without signed query strings, stream keys redacted).",
    {
      egress: {
        id: "eg_4Hq9Zt2mXw7Lp3Kd",
        egress_id: "EG_bX4nP9sKe2Lm",
        type: "room_composite",
        room: "standup",
        status: "EGRESS_COMPLETE",
        outputs: { file_outputs: [{ filepath: "recordings/standup.mp4" }] },
        error: null,
        started_at: "2026-11-28T15:59:02Z",
        ended_at: "2026-11-28T16:00:00Z",
        created_at: "2026-11-28T15:59:00Z",
        file_results: [
          { filename: "recordings/standup.mp4", location: "https://bucket.s3.amazonaws.com/recordings/standup.mp4", size: 10485760, duration: 58, started_at: "2026-11-28T15:59:02Z", ended_at: "2026-11-28T16:00:00Z" },
        ],
        stream_results: [],
        segment_results: [],
        image_results: [],
      },
    },
  ),
  entry(TEST_EVENT_TYPE, "Sent by the endpoint's `test` action, to check that a receiver works and verifies signatures. Never sent otherwise.", {
    endpoint_id: "whk_2fR8mQx4Lk9Tz1Vb",
    message: "This is a test event from Pulse.",
  }),
];

