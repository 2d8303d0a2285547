/**
 * Egress outputs in two directions: to LiveKit's camelCase request JSON with everything the tenant
 * sent (credentials included, since LiveKit needs them to upload), and to the sanitized copy Pulse
 * stores and returns. Sanitizing keeps an allow-list of non-secret fields rather than deleting
 * known secrets, so a credential field added later cannot slip through; stream URLs lose their
 * userinfo, query and stream key (RTMP puts the key in the last path segment).
 */
import type { z } from "@hono/zod-openapi";
import type { AzureUpload, DirectFileOutput, FileOutput, GcpUpload, ImageOutput, S3Upload, SegmentOutput, StartEgressBody, StreamOutput } from "./schemas";

type S3 = z.infer<typeof S3Upload>;
type Gcp = z.infer<typeof GcpUpload>;
type Azure = z.infer<typeof AzureUpload>;
type Storage = { s3?: S3; gcp?: Gcp; azure?: Azure };
type File = z.infer<typeof FileOutput>;
type Stream = z.infer<typeof StreamOutput>;
type Segments = z.infer<typeof SegmentOutput>;
type DirectFile = z.infer<typeof DirectFileOutput>;
type Images = z.infer<typeof ImageOutput>;

/** Drops undefined values so the JSON sent to LiveKit carries only what the tenant set. */
function defined<T extends Record<string, unknown>>(obj: T): Partial<T> {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== undefined)) as Partial<T>;
}

// ---------------------------------------------------------------------------------------------
// To LiveKit
// ---------------------------------------------------------------------------------------------
function storageToLivekit(o: Storage) {
  return defined({
    s3: o.s3
      ? defined({
          accessKey: o.s3.access_key,
          secret: o.s3.secret,
          sessionToken: o.s3.session_token,
          region: o.s3.region,
          endpoint: o.s3.endpoint,
          bucket: o.s3.bucket,
          forcePathStyle: o.s3.force_path_style,
          metadata: o.s3.metadata,
          tagging: o.s3.tagging,
          contentDisposition: o.s3.content_disposition,
        })
      : undefined,
    gcp: o.gcp ? defined({ credentials: o.gcp.credentials, bucket: o.gcp.bucket }) : undefined,
    azure: o.azure ? { accountName: o.azure.account_name, accountKey: o.azure.account_key, containerName: o.azure.container_name } : undefined,
  });
}

/**
 * An output without a storage block goes to LiveKit's default storage, shared by every tenant:
 * its objects are put under the project's own prefix (`<project_id>/…`) so one tenant cannot
 * write over, or next to, another's recordings. The schema already refused paths that could climb
 * out of it, and `paths.ts` filled the templates that could. Outputs with their own storage keep the tenant's paths as given. Records always show
 * the tenant's paths, without the prefix.
 */
function onPlatformStorage(o: Storage): boolean {
  return o.s3 === undefined && o.gcp === undefined && o.azure === undefined;
}

function inProject(projectId: string, path: string): string {
  return `${projectId}/${path}`;
}

/** The directory part of a path as LiveKit sees it after cleaning (`.` and empty segments dropped). */
function directoryOf(path: string): string {
  const cleaned = path
    .split("/")
    .filter((segment, i, all) => segment !== "." && (segment !== "" || i === all.length - 1))
    .join("/");
  return cleaned.slice(0, cleaned.lastIndexOf("/") + 1);
}

/**
 * LiveKit keeps a segment output's playlist, live playlist and segments under one storage
 * directory: the playlist's, or the segment prefix's when the playlist names none; a segment
 * prefix in another directory is taken relative to it (`updatePrefixAndPlaylist` in
 * livekit/egress). So the project prefix goes on whichever names that directory, and only there;
 * prefixing every field would file segments under `<project>/<project>/…` and make LiveKit refuse
 * a live playlist in "another" directory than the playlist.
 */
function segmentPathsInProject(s: Segments, projectId: string) {
  const playlistDir = directoryOf(s.playlist_name);
  if (playlistDir !== "") {
    return {
      filenamePrefix: directoryOf(s.filename_prefix) === playlistDir ? inProject(projectId, s.filename_prefix) : s.filename_prefix,
      playlistName: inProject(projectId, s.playlist_name),
      livePlaylistName:
        s.live_playlist_name !== undefined && directoryOf(s.live_playlist_name) !== "" ? inProject(projectId, s.live_playlist_name) : s.live_playlist_name,
    };
  }
  if (directoryOf(s.filename_prefix) !== "") {
    return { filenamePrefix: inProject(projectId, s.filename_prefix), playlistName: s.playlist_name, livePlaylistName: s.live_playlist_name };
  }
  return { filenamePrefix: s.filename_prefix, playlistName: inProject(projectId, s.playlist_name), livePlaylistName: s.live_playlist_name };
}

function filepathFor(f: { filepath: string } & Storage, projectId: string): string {
  return onPlatformStorage(f) ? inProject(projectId, f.filepath) : f.filepath;
}

const FILE_TYPE = { default: "DEFAULT_FILETYPE", mp4: "MP4", ogg: "OGG", mp3: "MP3" } as const;

function fileToLivekit(f: File, projectId: string) {
  return defined({
    filepath: filepathFor(f, projectId),
    fileType: f.file_type ? FILE_TYPE[f.file_type] : undefined,
    disableManifest: f.disable_manifest,
    ...storageToLivekit(f),
  });
}

function streamToLivekit(s: Stream) {
  return { protocol: (s.protocol ?? "rtmp") === "srt" ? "SRT" : "RTMP", urls: s.urls };
}

function segmentsToLivekit(s: Segments, projectId: string) {
  const paths = onPlatformStorage(s)
    ? segmentPathsInProject(s, projectId)
    : { filenamePrefix: s.filename_prefix, playlistName: s.playlist_name, livePlaylistName: s.live_playlist_name };
  return defined({
    protocol: "HLS_PROTOCOL",
    ...paths,
    segmentDuration: s.segment_duration,
    filenameSuffix: s.filename_suffix ? (s.filename_suffix === "timestamp" ? "TIMESTAMP" : "INDEX") : undefined,
    disableManifest: s.disable_manifest,
    ...storageToLivekit(s),
  });
}

function directFileToLivekit(f: DirectFile, projectId: string) {
  return defined({ filepath: filepathFor(f, projectId), disableManifest: f.disable_manifest, ...storageToLivekit(f) });
}

/** Image outputs: the prefix goes under the project on the platform's storage, like every other path. */
function imagesToLivekit(o: Images, projectId: string) {
  return defined({
    captureInterval: o.capture_interval,
    width: o.width,
    height: o.height,
    filenamePrefix: onPlatformStorage(o) ? inProject(projectId, o.filename_prefix) : o.filename_prefix,
    ...storageToLivekit(o),
  });
}

export type EgressMethod = "StartRoomCompositeEgress" | "StartWebEgress" | "StartTrackEgress" | "StartParticipantEgress" | "StartTrackCompositeEgress";

/**
 * The LiveKit RPC and its request for a validated start body; `livekitRoom` is the namespaced room
 * and `projectId` the prefix for outputs that use the platform's default storage.
 */
export function egressRequest(
  body: StartEgressBody,
  livekitRoom: string | null,
  projectId: string,
): { method: EgressMethod; request: Record<string, unknown> } {
  if (body.type === "track") {
    return {
      method: "StartTrackEgress",
      request: defined({
        roomName: livekitRoom!,
        trackId: body.track_id,
        file: body.file ? directFileToLivekit(body.file, projectId) : undefined,
        websocketUrl: body.websocket_url,
      }),
    };
  }
  const outputs = defined({
    fileOutputs: body.file_outputs?.map((f) => fileToLivekit(f, projectId)),
    streamOutputs: body.stream_outputs?.map(streamToLivekit),
    segmentOutputs: body.segment_outputs?.map((s) => segmentsToLivekit(s, projectId)),
    imageOutputs: body.image_outputs?.map((o) => imagesToLivekit(o, projectId)),
  });
  if (body.type === "participant") {
    return {
      method: "StartParticipantEgress",
      request: defined({ roomName: livekitRoom!, identity: body.identity, screenShare: body.screen_share, ...outputs }),
    };
  }
  if (body.type === "track_composite") {
    return {
      method: "StartTrackCompositeEgress",
      request: defined({ roomName: livekitRoom!, audioTrackId: body.audio_track_id, videoTrackId: body.video_track_id, ...outputs }),
    };
  }
  const media = defined({ audioOnly: body.audio_only, videoOnly: body.video_only });
  if (body.type === "web") {
    return { method: "StartWebEgress", request: { url: body.url, ...media, ...outputs } };
  }
  return {
    method: "StartRoomCompositeEgress",
    request: defined({ roomName: livekitRoom!, layout: body.layout, ...media, ...outputs }),
  };
}

// ---------------------------------------------------------------------------------------------
// Sanitized (stored and returned)
// ---------------------------------------------------------------------------------------------
function sanitizeStorage(o: Storage) {
  return defined({
    s3: o.s3
      ? defined({
          bucket: o.s3.bucket,
          region: o.s3.region,
          endpoint: o.s3.endpoint === undefined ? undefined : redactUrl(o.s3.endpoint, false),
          force_path_style: o.s3.force_path_style,
          content_disposition: o.s3.content_disposition,
        })
      : undefined,
    gcp: o.gcp ? { bucket: o.gcp.bucket } : undefined,
    azure: o.azure ? { account_name: o.azure.account_name, container_name: o.azure.container_name } : undefined,
  });
}

/**
 * A URL without the parts that carry secrets: userinfo, query and fragment, and (for stream
 * destinations) the last path segment, where RTMP services put the stream key.
 */
export function redactUrl(raw: string, hideLastSegment: boolean): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return "{redacted}";
  }
  const segments = url.pathname.split("/");
  if (hideLastSegment && segments.some((s) => s !== "")) {
    let last = segments.length - 1;
    while (last > 0 && segments[last] === "") last--;
    segments[last] = "{redacted}";
  }
  return `${url.protocol}//${url.host}${segments.join("/")}`;
}

function sanitizeImages(o: Images) {
  return defined({ capture_interval: o.capture_interval, width: o.width, height: o.height, filename_prefix: o.filename_prefix, ...sanitizeStorage(o) });
}

export function sanitizedOutputs(body: StartEgressBody): Record<string, unknown> {
  if (body.type === "track") {
    return defined({
      file: body.file ? defined({ filepath: body.file.filepath, disable_manifest: body.file.disable_manifest, ...sanitizeStorage(body.file) }) : undefined,
      websocket_url: body.websocket_url === undefined ? undefined : redactUrl(body.websocket_url, false),
    });
  }
  return defined({
    file_outputs: body.file_outputs?.map((f) =>
      defined({ filepath: f.filepath, file_type: f.file_type, disable_manifest: f.disable_manifest, ...sanitizeStorage(f) }),
    ),
    stream_outputs: body.stream_outputs?.map((s) => ({ protocol: s.protocol ?? "rtmp", urls: s.urls.map((u) => redactUrl(u, true)) })),
    segment_outputs: body.segment_outputs?.map((s) =>
      defined({
        filename_prefix: s.filename_prefix,
        playlist_name: s.playlist_name,
        live_playlist_name: s.live_playlist_name,
        segment_duration: s.segment_duration,
        filename_suffix: s.filename_suffix,
        disable_manifest: s.disable_manifest,
        ...sanitizeStorage(s),
      }),
    ),
    image_outputs: body.image_outputs?.map(sanitizeImages),
  });
}
