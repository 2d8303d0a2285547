/**
 * What an egress produced, as LiveKit reports it in EgressInfo (its webhooks and its Twirp answers):
 * files, streams, HLS playlists and image series. Kept on the egress record in the tenant's terms
 * and with every secret gone before it is stored: stream URLs lose their stream key (RTMP's last
 * path segment), userinfo and query; locations (often pre-signed URLs) lose userinfo, query and
 * fragment; names on the platform's storage lose the `<project_id>/` prefix Pulse added
 * (`outputs.ts`), as the record's outputs do.
 *
 * Stored times are unix ms, durations ms; the API shows RFC 3339 times and whole seconds.
 */
import { toIso } from "../lib/clock";
import { protoField } from "../lib/protojson";
import { livekitTimeToMs } from "../livekit/timestamps";
import { STREAM_FAILED } from "./errors";
import { redactUrl } from "./outputs";

export interface FileResult {
  filename: string;
  location: string;
  size: number;
  duration_ms: number;
  started_at: number | null;
  ended_at: number | null;
}

export interface StreamResult {
  url: string;
  status: string;
  duration_ms: number;
  started_at: number | null;
  ended_at: number | null;
  error: string | null;
}

export interface SegmentResult {
  playlist_name: string;
  playlist_location: string;
  live_playlist_name: string;
  live_playlist_location: string;
  size: number;
  segment_count: number;
  duration_ms: number;
  started_at: number | null;
  ended_at: number | null;
}

export interface ImageResult {
  filename_prefix: string;
  image_count: number;
  started_at: number | null;
  ended_at: number | null;
}

export interface EgressResults {
  file_results: FileResult[];
  stream_results: StreamResult[];
  segment_results: SegmentResult[];
  image_results: ImageResult[];
}

export const NO_RESULTS: EgressResults = { file_results: [], stream_results: [], segment_results: [], image_results: [] };

type Json = Record<string, unknown>;

const list = (info: Json, camel: string): Json[] => {
  const value = protoField(info, camel);
  return Array.isArray(value) ? value.filter((v): v is Json => !!v && typeof v === "object" && !Array.isArray(v)) : [];
};
const text = (o: Json, camel: string) => {
  const v = protoField(o, camel);
  return typeof v === "string" ? v : "";
};
/** A protojson int64 count or size (string or number); 0 when absent or not a number. */
const count = (o: Json, camel: string) => {
  const n = Number(protoField(o, camel) ?? 0);
  return Number.isFinite(n) && n > 0 ? Math.trunc(n) : 0;
};
/** LiveKit's durations are int64 nanoseconds. */
const durationMs = (o: Json) => Math.round(count(o, "duration") / 1_000_000);
const time = (o: Json, camel: string) => livekitTimeToMs(protoField(o, camel));

/** A storage location without what signs or authenticates it; text that is not a URL loses its query. */
export function redactLocation(location: string): string {
  if (location === "") return "";
  try {
    const url = new URL(location);
    return `${url.protocol}//${url.host}${url.pathname}`;
  } catch {
    return location.split(/[?#]/)[0]!;
  }
}

/** A name on the platform's storage as the tenant gave it (without the project prefix Pulse added). */
function tenantPath(name: string, projectId: string): string {
  const prefix = `${projectId}/`;
  return name.startsWith(prefix) ? name.slice(prefix.length) : name;
}

/** The results an EgressInfo (protojson, either casing) reports; kinds it does not report are empty. */
export function resultsFromInfo(info: Json, projectId: string): EgressResults {
  return {
    file_results: list(info, "fileResults").map((f) => ({
      filename: tenantPath(text(f, "filename"), projectId),
      location: redactLocation(text(f, "location")),
      size: count(f, "size"),
      duration_ms: durationMs(f),
      started_at: time(f, "startedAt"),
      ended_at: time(f, "endedAt"),
    })),
    stream_results: list(info, "streamResults").map((s) => ({
      url: redactUrl(text(s, "url"), true),
      // protojson omits the default (ACTIVE = 0); numbers are tolerated.
      status: typeof protoField(s, "status") === "string" ? text(s, "status") : (["ACTIVE", "FINISHED", "FAILED"][count(s, "status")] ?? "ACTIVE"),
      duration_ms: durationMs(s),
      started_at: time(s, "startedAt"),
      ended_at: time(s, "endedAt"),
      // LiveKit's text names hosts inside the platform network (`errors.ts`).
      error: text(s, "error") ? STREAM_FAILED : null,
    })),
    segment_results: list(info, "segmentResults").map((s) => ({
      playlist_name: tenantPath(text(s, "playlistName"), projectId),
      playlist_location: redactLocation(text(s, "playlistLocation")),
      live_playlist_name: tenantPath(text(s, "livePlaylistName"), projectId),
      live_playlist_location: redactLocation(text(s, "livePlaylistLocation")),
      size: count(s, "size"),
      segment_count: count(s, "segmentCount"),
      duration_ms: durationMs(s),
      started_at: time(s, "startedAt"),
      ended_at: time(s, "endedAt"),
    })),
    image_results: list(info, "imageResults").map((i) => ({
      filename_prefix: tenantPath(text(i, "filenamePrefix"), projectId),
      image_count: count(i, "imageCount"),
      started_at: time(i, "startedAt"),
      ended_at: time(i, "endedAt"),
    })),
  };
}

/**
 * The record's results after LiveKit reported `incoming`: each kind LiveKit reported replaces the
 * kept one (EgressInfo always carries the whole list); a kind it left out (protojson omits empty
 * lists) is kept.
 */
export function mergeResults(kept: EgressResults, incoming: EgressResults): EgressResults {
  const pick = <K extends keyof EgressResults>(k: K) => (incoming[k].length > 0 ? incoming[k] : kept[k]);
  return { file_results: pick("file_results"), stream_results: pick("stream_results"), segment_results: pick("segment_results"), image_results: pick("image_results") };
}

export function parseResults(stored: string | null): EgressResults {
  if (!stored) return NO_RESULTS;
  return { ...NO_RESULTS, ...(JSON.parse(stored) as Partial<EgressResults>) };
}

/** What `recording.completed` needs: something to fetch. */
export function hasRecordedMedia(results: EgressResults): boolean {
  return results.file_results.length > 0 || results.segment_results.length > 0;
}

const iso = (ms: number | null) => (ms === null ? null : toIso(ms));
const seconds = (ms: number) => Math.round(ms / 1000);

/** The results as the API shows them. */
export function serializeResults(r: EgressResults) {
  return {
    file_results: r.file_results.map((f) => ({
      filename: f.filename,
      location: f.location,
      size: f.size,
      duration: seconds(f.duration_ms),
      started_at: iso(f.started_at),
      ended_at: iso(f.ended_at),
    })),
    stream_results: r.stream_results.map((s) => ({
      url: s.url,
      status: s.status,
      duration: seconds(s.duration_ms),
      started_at: iso(s.started_at),
      ended_at: iso(s.ended_at),
      error: s.error,
    })),
    segment_results: r.segment_results.map((s) => ({
      playlist_name: s.playlist_name,
      playlist_location: s.playlist_location,
      live_playlist_name: s.live_playlist_name,
      live_playlist_location: s.live_playlist_location,
      size: s.size,
      segment_count: s.segment_count,
      duration: seconds(s.duration_ms),
      started_at: iso(s.started_at),
      ended_at: iso(s.ended_at),
    })),
    image_results: r.image_results.map((i) => ({
      filename_prefix: i.filename_prefix,
      image_count: i.image_count,
      started_at: iso(i.started_at),
      ended_at: iso(i.ended_at),
    })),
  };
}
