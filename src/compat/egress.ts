/**
 * `livekit.Egress` served by Pulse: LiveKit's request messages become the REST API's start body
 * (validated by the very schema `POST /v1/egress` uses, so destination, path and template checks
 * are the same), and go through `egress/service.ts` with the same quota, audit and metering.
 * Answers are EgressInfo made from Pulse's record (tenant's room names, LiveKit's latest status).
 *
 * Fields Pulse does not support (encoding presets, image codecs and suffixes, per-egress webhooks,
 * custom templates…) are refused with `invalid_argument` naming them, never silently dropped.
 */
import {
  EgressInfo,
  EgressStatus,
  FileInfo,
  ImagesInfo,
  SegmentsInfo,
  StreamInfo,
  StreamInfo_Status,
  ListEgressRequest,
  ListEgressResponse,
  ParticipantEgressRequest,
  RoomCompositeEgressRequest,
  StopEgressRequest,
  TrackCompositeEgressRequest,
  TrackEgressRequest,
  UpdateLayoutRequest,
  UpdateStreamRequest,
  WebEgressRequest,
} from "@livekit/protocol";
import { StartEgressBody, UpdateLayoutBody, UpdateStreamsBody } from "../egress/schemas";
import type { egresses } from "../db/schema";
import { parseResults } from "../egress/results";
import { findEgressByLivekitId, listEgresses, startEgress, stopEgress, updateEgressLayout, updateEgressStreams } from "../egress/service";
import { livekitNanos, onlySupportedFields, restBody, setFields, type LivekitMessage } from "./codec";
import { invalidArgument } from "./errors";
import { listRecords, requireGrant, twirpMethod, type TwirpContext, type TwirpMethod } from "./methods";

type Json = Record<string, unknown>;
type EgressRow = typeof egresses.$inferSelect;

const obj = (v: unknown): Json => (v && typeof v === "object" && !Array.isArray(v) ? (v as Json) : {});
const list = (v: unknown): Json[] => (Array.isArray(v) ? v.map(obj) : []);

function defined<T extends Json>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

function storage(o: Json, where: string) {
  const s3 = o.s3 === undefined ? undefined : obj(o.s3);
  const gcp = o.gcp === undefined ? undefined : obj(o.gcp);
  const azure = o.azure === undefined ? undefined : obj(o.azure);
  if (s3) onlySupportedFields(s3, ["accessKey", "secret", "sessionToken", "region", "endpoint", "bucket", "forcePathStyle", "metadata", "tagging", "contentDisposition"], `${where}s3.`);
  if (gcp) onlySupportedFields(gcp, ["credentials", "bucket"], `${where}gcp.`);
  if (azure) onlySupportedFields(azure, ["accountName", "accountKey", "containerName"], `${where}azure.`);
  return defined({
    s3: s3 && defined({
      access_key: s3.accessKey,
      secret: s3.secret,
      session_token: s3.sessionToken,
      region: s3.region,
      endpoint: s3.endpoint,
      bucket: s3.bucket,
      force_path_style: s3.forcePathStyle,
      metadata: s3.metadata,
      tagging: s3.tagging,
      content_disposition: s3.contentDisposition,
    }),
    gcp: gcp && defined({ credentials: gcp.credentials, bucket: gcp.bucket }),
    azure: azure && defined({ account_name: azure.accountName, account_key: azure.accountKey, container_name: azure.containerName }),
  });
}

const STORAGE = ["s3", "gcp", "azure"];
const FILE_TYPE: Json = { DEFAULT_FILETYPE: "default", MP4: "mp4", OGG: "ogg", MP3: "mp3" };

function fileOutput(f: Json, where: string) {
  onlySupportedFields(f, ["fileType", "filepath", "disableManifest", ...STORAGE], where);
  return defined({ filepath: f.filepath ?? "", file_type: f.fileType === undefined ? undefined : FILE_TYPE[String(f.fileType)], disable_manifest: f.disableManifest, ...storage(f, where) });
}

function streamOutput(s: Json, where: string) {
  onlySupportedFields(s, ["protocol", "urls"], where);
  const urls = (Array.isArray(s.urls) ? s.urls : []).map(String);
  // LiveKit infers the protocol from the URLs when none is given.
  const protocol = s.protocol === "SRT" ? "srt" : s.protocol === "RTMP" ? "rtmp" : urls.length > 0 && urls.every((u) => u.startsWith("srt:")) ? "srt" : undefined;
  if (s.protocol !== undefined && protocol === undefined) throw invalidArgument(`Pulse does not support ${where}protocol ${String(s.protocol)}.`);
  return defined({ protocol, urls });
}

function segmentOutput(s: Json, where: string) {
  onlySupportedFields(s, ["protocol", "filenamePrefix", "playlistName", "livePlaylistName", "segmentDuration", "filenameSuffix", "disableManifest", ...STORAGE], where);
  return defined({
    filename_prefix: s.filenamePrefix ?? "",
    playlist_name: s.playlistName ?? "",
    live_playlist_name: s.livePlaylistName,
    segment_duration: s.segmentDuration,
    filename_suffix: s.filenameSuffix === undefined ? undefined : s.filenameSuffix === "TIMESTAMP" ? "timestamp" : "index",
    disable_manifest: s.disableManifest,
    ...storage(s, where),
  });
}

function imageOutput(o: Json, where: string) {
  onlySupportedFields(o, ["captureInterval", "width", "height", "filenamePrefix", ...STORAGE], where);
  return defined({ capture_interval: o.captureInterval, width: o.width, height: o.height, filename_prefix: o.filenamePrefix ?? "", ...storage(o, where) });
}

const ENCODED = ["fileOutputs", "streamOutputs", "segmentOutputs", "imageOutputs"];
const LEGACY = ["file", "stream", "segments"];

/** The outputs of an encoded egress: the lists, or (older SDKs) the single legacy `output`. */
function encodedOutputs(req: Json) {
  const files = list(req.fileOutputs).length > 0 ? list(req.fileOutputs) : req.file ? [obj(req.file)] : [];
  const streams = list(req.streamOutputs).length > 0 ? list(req.streamOutputs) : req.stream ? [obj(req.stream)] : [];
  const segments = list(req.segmentOutputs).length > 0 ? list(req.segmentOutputs) : req.segments ? [obj(req.segments)] : [];
  return defined({
    file_outputs: files.length > 0 ? files.map((f, i) => fileOutput(f, `fileOutputs[${i}].`)) : undefined,
    stream_outputs: streams.length > 0 ? streams.map((s, i) => streamOutput(s, `streamOutputs[${i}].`)) : undefined,
    segment_outputs: segments.length > 0 ? segments.map((s, i) => segmentOutput(s, `segmentOutputs[${i}].`)) : undefined,
    image_outputs: list(req.imageOutputs).length > 0 ? list(req.imageOutputs).map((o, i) => imageOutput(o, `imageOutputs[${i}].`)) : undefined,
  });
}

/** LiveKit's start request (protobuf-JSON) as the REST start body, validated by the REST schema. */
export function startBodyFrom(kind: StartKind, message: LivekitMessage): StartEgressBody {
  const req = setFields(message);
  let body: Json;
  switch (kind) {
    case "room_composite":
      onlySupportedFields(req, ["roomName", "layout", "audioOnly", "videoOnly", ...ENCODED, ...LEGACY], "");
      body = { type: kind, room: req.roomName ?? "", layout: req.layout, audio_only: req.audioOnly, video_only: req.videoOnly, ...encodedOutputs(req) };
      break;
    case "web":
      onlySupportedFields(req, ["url", "audioOnly", "videoOnly", ...ENCODED, ...LEGACY], "");
      body = { type: kind, url: req.url ?? "", audio_only: req.audioOnly, video_only: req.videoOnly, ...encodedOutputs(req) };
      break;
    case "participant":
      onlySupportedFields(req, ["roomName", "identity", "screenShare", ...ENCODED], "");
      body = { type: kind, room: req.roomName ?? "", identity: req.identity ?? "", screen_share: req.screenShare, ...encodedOutputs(req) };
      break;
    case "track_composite":
      onlySupportedFields(req, ["roomName", "audioTrackId", "videoTrackId", ...ENCODED, ...LEGACY], "");
      body = { type: kind, room: req.roomName ?? "", audio_track_id: req.audioTrackId, video_track_id: req.videoTrackId, ...encodedOutputs(req) };
      break;
    case "track":
      onlySupportedFields(req, ["roomName", "trackId", "file", "websocketUrl"], "");
      body = {
        type: kind,
        room: req.roomName ?? "",
        track_id: req.trackId ?? "",
        file: req.file === undefined ? undefined : (() => {
          const f = obj(req.file);
          onlySupportedFields(f, ["filepath", "disableManifest", ...STORAGE], "file.");
          return defined({ filepath: f.filepath ?? "", disable_manifest: f.disableManifest, ...storage(f, "file.") });
        })(),
        websocket_url: req.websocketUrl,
      };
      break;
  }
  return restBody(StartEgressBody, defined(body));
}

type StartKind = StartEgressBody["type"];

// ---------------------------------------------------------------------------------------------
// Answers
// ---------------------------------------------------------------------------------------------

/**
 * Pulse's record of an egress as an EgressInfo, with the tenant's room: what every method answers.
 * The record holds LiveKit's answer to the call just made (status, times, error, results), and it leaves out
 * what LiveKit echoes that the tenant must not get back: the start request, with its storage
 * credentials and the namespaced room.
 */
export function egressInfoFromRecord(row: EgressRow): EgressInfo {
  const results = parseResults(row.results);
  const nanos = (ms: number) => BigInt(ms) * 1_000_000n;
  return new EgressInfo({
    egressId: row.egressId,
    roomName: row.room ?? "",
    status: EgressStatus[row.status as keyof typeof EgressStatus] ?? EgressStatus.EGRESS_STARTING,
    startedAt: livekitNanos(row.startedAt),
    endedAt: livekitNanos(row.endedAt),
    updatedAt: livekitNanos(row.updatedAt),
    error: row.error ?? "",
    // What the record keeps: redacted, with the tenant's paths.
    fileResults: results.file_results.map(
      (f) => new FileInfo({ filename: f.filename, location: f.location, size: BigInt(f.size), duration: nanos(f.duration_ms), startedAt: livekitNanos(f.started_at), endedAt: livekitNanos(f.ended_at) }),
    ),
    streamResults: results.stream_results.map(
      (r) =>
        new StreamInfo({
          url: r.url,
          status: StreamInfo_Status[r.status as keyof typeof StreamInfo_Status] ?? StreamInfo_Status.ACTIVE,
          duration: nanos(r.duration_ms),
          startedAt: livekitNanos(r.started_at),
          endedAt: livekitNanos(r.ended_at),
          error: r.error ?? "",
        }),
    ),
    segmentResults: results.segment_results.map(
      (r) =>
        new SegmentsInfo({
          playlistName: r.playlist_name,
          playlistLocation: r.playlist_location,
          livePlaylistName: r.live_playlist_name,
          livePlaylistLocation: r.live_playlist_location,
          size: BigInt(r.size),
          segmentCount: BigInt(r.segment_count),
          duration: nanos(r.duration_ms),
          startedAt: livekitNanos(r.started_at),
          endedAt: livekitNanos(r.ended_at),
        }),
    ),
    imageResults: results.image_results.map(
      (r) => new ImagesInfo({ filenamePrefix: r.filename_prefix, imageCount: BigInt(r.image_count), startedAt: livekitNanos(r.started_at), endedAt: livekitNanos(r.ended_at) }),
    ),
  });
}

// ---------------------------------------------------------------------------------------------
// Methods
// ---------------------------------------------------------------------------------------------

const roomRecord = requireGrant("roomRecord");

function start(kind: StartKind, request: TwirpMethod["request"]): TwirpMethod {
  return {
    request,
    authorize: roomRecord,
    async handle({ deps, caller }, message) {
      return egressInfoFromRecord(await startEgress(deps, caller.audit, caller, startBodyFrom(kind, message)));
    },
  };
}

/** The caller's egress named by LiveKit's id; another project's is not_found. */
const egressOf = (ctx: TwirpContext, egressId: string) => findEgressByLivekitId(ctx.deps, ctx.caller.projectId, egressId);

export const egressMethods: Record<string, TwirpMethod> = {
  StartRoomCompositeEgress: start("room_composite", RoomCompositeEgressRequest),
  StartWebEgress: start("web", WebEgressRequest),
  StartParticipantEgress: start("participant", ParticipantEgressRequest),
  StartTrackCompositeEgress: start("track_composite", TrackCompositeEgressRequest),
  StartTrackEgress: start("track", TrackEgressRequest),
  UpdateLayout: twirpMethod({
    request: UpdateLayoutRequest,
    authorize: roomRecord,
    async handle(ctx, req) {
      const row = await egressOf(ctx, req.egressId);
      // The REST route's rules for the layout (1–128 characters), as for every other method.
      const { layout } = restBody(UpdateLayoutBody, { layout: req.layout });
      return egressInfoFromRecord(await updateEgressLayout(ctx.deps, ctx.caller.audit, ctx.caller, row.id, layout));
    },
  }),
  UpdateStream: twirpMethod({
    request: UpdateStreamRequest,
    authorize: roomRecord,
    async handle(ctx, req) {
      const change = restBody(UpdateStreamsBody, { add_output_urls: req.addOutputUrls, remove_output_urls: req.removeOutputUrls });
      const row = await egressOf(ctx, req.egressId);
      const next = await updateEgressStreams(ctx.deps, ctx.caller.audit, ctx.caller, row.id, {
        add: change.add_output_urls ?? [],
        remove: change.remove_output_urls ?? [],
      });
      return egressInfoFromRecord(next);
    },
  }),
  ListEgress: twirpMethod({
    request: ListEgressRequest,
    authorize: roomRecord,
    async handle(ctx, req) {
      const rows = await listRecords(
        { roomName: req.roomName, id: req.egressId },
        (id) => egressOf(ctx, id),
        // LiveKit's `active: false` means "all", not "only ended".
        ({ id, ...query }) => listEgresses(ctx.deps, ctx.caller.projectId, { ...query, egressId: id, active: req.active ? true : undefined }),
      );
      return new ListEgressResponse({ items: rows.map(egressInfoFromRecord) });
    },
  }),
  StopEgress: twirpMethod({
    request: StopEgressRequest,
    authorize: roomRecord,
    async handle(ctx, req) {
      const row = await egressOf(ctx, req.egressId);
      return egressInfoFromRecord(await stopEgress(ctx.deps, ctx.caller.audit, ctx.caller, row.id));
    },
  }),
};
