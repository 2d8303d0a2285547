/**
 * The public shapes of egress: the start request (snake_case, strict) and the record Pulse returns.
 * Output settings mirror LiveKit's (`EncodedFileOutput`, `StreamOutput`, `SegmentedFileOutput`,
 * `DirectFileOutput`); `outputs.ts` translates them to LiveKit's JSON and strips credentials.
 */
import { z } from "@hono/zod-openapi";
import type { egresses } from "../db/schema";
import { toIso } from "../lib/clock";
import { MAX_ROOM_NAME_LENGTH } from "../livekit/rooms";
import { parseResults, serializeResults } from "./results";

const Room = z.string().min(1).max(MAX_ROOM_NAME_LENGTH).openapi({ description: "Your own room name (namespaced on the wire)." });
/**
 * An object path (or prefix) in storage. Without a storage block LiveKit writes to the platform's
 * default storage, where Pulse puts it under `<project_id>/` (`outputs.ts`); nothing may climb out
 * of that prefix, so absolute paths, `..` segments and backslashes (a separator on some stores and
 * on the egress host's disk) are refused for every output, with or without a storage block.
 * Templates (`{room_name}`, `{publisher_identity}`, …) are filled or refused by `paths.ts`.
 */
const Path = z
  .string()
  .min(1)
  .max(1024)
  .refine((p) => !p.startsWith("/"), { message: "Must be a relative path (no leading /)" })
  .refine((p) => !p.includes("\\"), { message: "Must not contain backslashes" })
  .refine((p) => !p.split("/").includes(".."), { message: "Must not contain .. path segments" });
const Secret = z.string().min(1).max(16_384);

export const S3Upload = z
  .strictObject({
    access_key: Secret,
    secret: Secret,
    session_token: Secret.optional(),
    region: z.string().max(64).optional(),
    endpoint: z.url({ protocol: /^https?$/ }).max(2048).optional(),
    bucket: z.string().min(1).max(255),
    force_path_style: z.boolean().optional(),
    metadata: z.record(z.string().max(256), z.string().max(2048)).optional(),
    tagging: z.string().max(2048).optional(),
    content_disposition: z.string().max(1024).optional(),
  })
  .openapi("EgressS3Upload", {
    description:
      "Credentials (`access_key`, `secret`, `session_token`) go to LiveKit only; Pulse never stores or returns them. `access_key` and `secret` are required: without them LiveKit would upload with the egress host's own cloud credentials.",
  });

export const GcpUpload = z
  .strictObject({
    credentials: Secret.openapi({ description: "Service account JSON; sent to LiveKit only. Required: without it LiveKit would use the egress host's own credentials." }),
    bucket: z.string().min(1).max(255),
  })
  .openapi("EgressGcpUpload");

export const AzureUpload = z
  .strictObject({
    account_name: z.string().min(1).max(256),
    account_key: Secret.openapi({ description: "Sent to LiveKit only." }),
    container_name: z.string().min(1).max(256),
  })
  .openapi("EgressAzureUpload");

const storageFields = { s3: S3Upload.optional(), gcp: GcpUpload.optional(), azure: AzureUpload.optional() };

function atMostOneStorage(output: { s3?: unknown; gcp?: unknown; azure?: unknown }) {
  return [output.s3, output.gcp, output.azure].filter((s) => s !== undefined).length <= 1;
}
const oneStorageMessage = { message: "Give at most one of s3, gcp, azure" };

export const FileOutput = z
  .strictObject({
    filepath: Path,
    file_type: z.enum(["default", "mp4", "ogg", "mp3"]).optional(),
    disable_manifest: z.boolean().optional(),
    ...storageFields,
  })
  .refine(atMostOneStorage, oneStorageMessage)
  .openapi("EgressFileOutput");

export const StreamOutput = z
  .strictObject({
    protocol: z.enum(["rtmp", "srt"]).optional().openapi({ description: "Default rtmp." }),
    urls: z
      .array(z.url({ protocol: /^(rtmps?|srt)$/ }).max(2048))
      .min(1)
      .max(10),
  })
  .refine((o) => o.urls.every((u) => ((o.protocol ?? "rtmp") === "srt") === u.startsWith("srt:")), {
    message: "URLs must match the protocol (rtmp:// or rtmps:// for rtmp, srt:// for srt)",
    path: ["urls"],
  })
  .openapi("EgressStreamOutput");

export const SegmentOutput = z
  .strictObject({
    filename_prefix: Path,
    playlist_name: Path,
    live_playlist_name: Path.optional(),
    segment_duration: z.number().int().min(1).max(600).optional(),
    filename_suffix: z.enum(["index", "timestamp"]).optional(),
    disable_manifest: z.boolean().optional(),
    ...storageFields,
  })
  .refine(atMostOneStorage, oneStorageMessage)
  .openapi("EgressSegmentOutput");

export const DirectFileOutput = z
  .strictObject({ filepath: Path, disable_manifest: z.boolean().optional(), ...storageFields })
  .refine(atMostOneStorage, oneStorageMessage)
  .openapi("EgressTrackFileOutput");

/** A still image every `capture_interval` seconds (LiveKit's ImageOutput), named `<filename_prefix>_<n>.jpeg`. */
export const ImageOutput = z
  .strictObject({
    capture_interval: z.number().int().min(1).max(86_400).openapi({ description: "Seconds between images." }),
    width: z.number().int().min(1).max(7680).optional(),
    height: z.number().int().min(1).max(7680).optional(),
    filename_prefix: Path,
    ...storageFields,
  })
  .refine(atMostOneStorage, oneStorageMessage)
  .openapi("EgressImageOutput");

const encodedOutputs = {
  file_outputs: z.array(FileOutput).max(1).optional(),
  stream_outputs: z.array(StreamOutput).max(1).optional(),
  segment_outputs: z.array(SegmentOutput).max(1).optional(),
  image_outputs: z.array(ImageOutput).max(1).optional(),
};
const mediaOptions = { audio_only: z.boolean().optional(), video_only: z.boolean().optional() };

function hasEncodedOutput(b: { file_outputs?: unknown[]; stream_outputs?: unknown[]; segment_outputs?: unknown[]; image_outputs?: unknown[] }) {
  return (b.file_outputs?.length ?? 0) + (b.stream_outputs?.length ?? 0) + (b.segment_outputs?.length ?? 0) + (b.image_outputs?.length ?? 0) > 0;
}
const needsOutput = { message: "Give at least one output (file_outputs, stream_outputs, segment_outputs or image_outputs)", path: ["file_outputs"] };
const notBoth = { message: "audio_only and video_only cannot both be true", path: ["audio_only"] };

const RoomCompositeEgress = z
  .strictObject({
    type: z.literal("room_composite"),
    room: Room,
    layout: z.string().min(1).max(128).optional().openapi({ description: "LiveKit layout: grid, speaker, single-speaker, …" }),
    ...mediaOptions,
    ...encodedOutputs,
  })
  .refine(hasEncodedOutput, needsOutput)
  .refine((b) => !(b.audio_only && b.video_only), notBoth);

const WebEgress = z
  .strictObject({
    type: z.literal("web"),
    url: z.url({ protocol: /^https?$/ }).max(2048),
    ...mediaOptions,
    ...encodedOutputs,
  })
  .refine(hasEncodedOutput, needsOutput)
  .refine((b) => !(b.audio_only && b.video_only), notBoth);

const TrackEgress = z
  .strictObject({
    type: z.literal("track"),
    room: Room,
    track_id: z.string().min(1).max(128),
    file: DirectFileOutput.optional(),
    websocket_url: z.url({ protocol: /^wss?$/ }).max(2048).optional(),
  })
  .refine((b) => (b.file === undefined) !== (b.websocket_url === undefined), {
    message: "Give exactly one of file or websocket_url",
    path: ["file"],
  });

const ParticipantEgress = z
  .strictObject({
    type: z.literal("participant"),
    room: Room,
    identity: z.string().min(1).max(256),
    screen_share: z.boolean().optional().openapi({ description: "Record the participant's screen share instead of their camera." }),
    ...encodedOutputs,
  })
  .refine(hasEncodedOutput, needsOutput);

const TrackId = z.string().min(1).max(128);

const TrackCompositeEgress = z
  .strictObject({
    type: z.literal("track_composite"),
    room: Room,
    audio_track_id: TrackId.optional(),
    video_track_id: TrackId.optional(),
    ...encodedOutputs,
  })
  .refine(hasEncodedOutput, needsOutput)
  .refine((b) => b.audio_track_id !== undefined || b.video_track_id !== undefined, {
    message: "Give audio_track_id, video_track_id or both",
    path: ["audio_track_id"],
  });

export const EGRESS_TYPES = ["room_composite", "track", "web", "participant", "track_composite"] as const;

export const StartEgressBody = z
  .discriminatedUnion("type", [RoomCompositeEgress, WebEgress, TrackEgress, ParticipantEgress, TrackCompositeEgress])
  .openapi("StartEgress");
export type StartEgressBody = z.infer<typeof StartEgressBody>;

const Iso = z.string().nullable();
const FileResultSchema = z
  .object({ filename: z.string(), location: z.string().openapi({ description: "Without query string (signed URLs' signatures) or userinfo." }), size: z.number().int(), duration: z.number().int(), started_at: Iso, ended_at: Iso })
  .openapi("EgressFileResult");
const StreamResultSchema = z
  .object({
    url: z.string().openapi({ description: "The destination with its stream key redacted." }),
    status: z.string().openapi({ description: "LiveKit's: ACTIVE, FINISHED, FAILED" }),
    duration: z.number().int(),
    started_at: Iso,
    ended_at: Iso,
    error: z.string().nullable(),
  })
  .openapi("EgressStreamResult");
const SegmentResultSchema = z
  .object({
    playlist_name: z.string(),
    playlist_location: z.string(),
    live_playlist_name: z.string(),
    live_playlist_location: z.string(),
    size: z.number().int(),
    segment_count: z.number().int(),
    duration: z.number().int(),
    started_at: Iso,
    ended_at: Iso,
  })
  .openapi("EgressSegmentResult");
const ImageResultSchema = z
  .object({ filename_prefix: z.string(), image_count: z.number().int(), started_at: Iso, ended_at: Iso })
  .openapi("EgressImageResult");

export const EgressSchema = z
  .object({
    id: z.string().openapi({ example: "eg_3kT9xYz" }),
    egress_id: z.string().openapi({ example: "EG_abc123" }),
    type: z.enum(EGRESS_TYPES),
    room: z.string().nullable(),
    status: z.string().openapi({ description: "LiveKit's status: EGRESS_STARTING, EGRESS_ACTIVE, EGRESS_ENDING, EGRESS_COMPLETE, EGRESS_FAILED, EGRESS_ABORTED, EGRESS_LIMIT_REACHED" }),
    outputs: z.record(z.string(), z.unknown()).openapi({ description: "The requested outputs, without credentials and with stream keys redacted." }),
    error: z.string().nullable(),
    started_at: z.string().nullable(),
    ended_at: z.string().nullable(),
    created_at: z.string(),
    file_results: z.array(FileResultSchema),
    stream_results: z.array(StreamResultSchema),
    segment_results: z.array(SegmentResultSchema),
    image_results: z.array(ImageResultSchema),
  })
  .openapi("Egress");

export function serializeEgress(e: typeof egresses.$inferSelect) {
  return {
    id: e.id,
    egress_id: e.egressId,
    type: e.type,
    room: e.room,
    status: e.status,
    outputs: JSON.parse(e.outputs) as Record<string, unknown>,
    error: e.error,
    started_at: e.startedAt === null ? null : toIso(e.startedAt),
    ended_at: e.endedAt === null ? null : toIso(e.endedAt),
    created_at: toIso(e.createdAt),
    ...serializeResults(parseResults(e.results)),
  };
}

export const EgressListQuery = z.object({
  room: Room.optional(),
  active: z
    .enum(["true", "false"])
    .transform((v) => v === "true")
    .optional()
    .openapi({ description: "true: only starting/active/ending egresses; false: only ended ones." }),
});

export const UpdateLayoutBody = z.strictObject({ layout: z.string().min(1).max(128) }).openapi("UpdateEgressLayout");

const StreamUrl = z.url({ protocol: /^(rtmps?|srt)$/ }).max(2048);
export const UpdateStreamsBody = z
  .strictObject({ add_output_urls: z.array(StreamUrl).max(10).optional(), remove_output_urls: z.array(StreamUrl).max(10).optional() })
  .openapi("UpdateEgressStreams");

/** An origin as `URL.origin` spells it (`https://app.example.com`, `http://host:8080`); nothing after it. */
const WebOrigin = z
  .string()
  .max(2048)
  .refine(
    (raw) => {
      try {
        const url = new URL(raw);
        return (url.protocol === "https:" || url.protocol === "http:") && url.username === "" && url.password === "" && url.pathname === "/" && url.search === "" && url.hash === "" && !raw.includes("?") && !raw.includes("#");
      } catch {
        return false;
      }
    },
    { message: "Must be an origin: http(s)://host[:port], without path, query or credentials" },
  )
  .transform((raw) => new URL(raw).origin);

export const WebEgressOriginsBody = z
  .strictObject({
    origins: z.array(WebOrigin).max(100).nullable().openapi({ description: "Origins the project's web egress may load; null removes the list (any public origin), [] allows none." }),
  })
  .openapi("WebEgressOriginsUpdate");

export const WebEgressOriginsSchema = z
  .object({
    project_id: z.string(),
    origins: z.array(z.string()).nullable().openapi({ description: "null: no list, any public origin." }),
  })
  .openapi("WebEgressOrigins");
