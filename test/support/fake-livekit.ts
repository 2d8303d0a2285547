/**
 * A fake of LiveKit's Twirp API (Egress, Ingress and RoomService), installed by stubbing `globalThis.fetch` for
 * the test config's LIVEKIT_API_URL host (the Worker runs in the tests' isolate, so its `fetch` is
 * this one). Other hosts pass through untouched.
 *
 * It judges each request the way a LiveKit server would, and records what it saw:
 * - the service token verifies with livekit-server-sdk's `TokenVerifier` (deployment key/secret),
 *   has an `exp` at most ~10 minutes out, and carries exactly the grant its call needs
 *   (`roomRecord` for Egress, `ingressAdmin` for Ingress; for RoomService `roomCreate` for
 *   CreateRoom/DeleteRoom, `roomList` for ListRooms, and otherwise `roomAdmin` with `room` equal to
 *   the room the request names) and nothing else;
 * - the body is JSON with only fields LiveKit's request message has (typos would be dropped
 *   silently by the real server, so the fake refuses them), and rooms are namespaced
 *   (`proj_…:<room>`).
 * A failed check is answered like LiveKit would (401 `unauthenticated` / 400 `invalid_argument`)
 * and kept in `violations`, which tests assert to be empty.
 *
 * Answers are LiveKit-shaped: snake_case with defaults included, int64 as strings, `EG_`/`IN_` ids.
 * RoomService keeps rooms and participants (`rooms`); tests put participants in with `join()`
 * (as a client connecting would) and LiveKit's own behaviour follows: CreateRoom returns an
 * existing room unchanged, UpdateParticipant replaces the whole permission and merges attributes.
 */
import { env } from "cloudflare:workers";
import { afterEach, beforeEach, expect } from "vitest";
import { TokenVerifier, type ClaimGrants } from "livekit-server-sdk";
import { setTwirpTimeoutMs } from "../../src/livekit/twirp";

export const LIVEKIT_API_URL = "http://livekit.test";

type Service = "Egress" | "Ingress" | "RoomService";

export interface RecordedCall {
  service: Service;
  method: string;
  body: Record<string, unknown>;
  claims: ClaimGrants | null;
  authorization: string | null;
}

export type Failure =
  | { kind: "status"; status: number; body?: string }
  | { kind: "twirp"; status: number; code: string; msg: string }
  | { kind: "malformed" }
  | { kind: "hang" }
  | { kind: "network" };

interface EgressState {
  egress_id: string;
  room_name: string;
  status: string;
  started_at: string;
  ended_at: string;
  error: string;
  layout: string;
  /** Where the egress streams now (UpdateStream adds and removes). */
  stream_urls: string[];
}

interface IngressState {
  ingress_id: string;
  name: string;
  stream_key: string;
  url: string;
  input_type: string;
  room_name: string;
  participant_identity: string;
  participant_name: string;
}

export interface FakeTrack {
  sid: string;
  type: "AUDIO" | "VIDEO";
  source: "CAMERA" | "MICROPHONE" | "SCREEN_SHARE" | "SCREEN_SHARE_AUDIO";
  name: string;
  muted: boolean;
}

export interface FakeParticipant {
  sid: string;
  identity: string;
  name: string;
  metadata: string;
  attributes: Record<string, string>;
  joined_at: string;
  permission: Record<string, unknown>;
  tracks: FakeTrack[];
}

export interface FakeRoom {
  sid: string;
  name: string;
  empty_timeout: number;
  departure_timeout: number;
  max_participants: number;
  metadata: string;
  creation_time: string;
  participants: Map<string, FakeParticipant>;
  /** SendData payloads received for this room. */
  data: Record<string, unknown>[];
}

const GRANT_BY_SERVICE = { Egress: "roomRecord", Ingress: "ingressAdmin" } as const;
/** RoomService methods LiveKit guards with roomCreate / roomList; every other needs roomAdmin of the room. */
const ROOM_GRANT: Record<string, "roomCreate" | "roomList"> = { CreateRoom: "roomCreate", DeleteRoom: "roomCreate", ListRooms: "roomList" };
const PERMISSION_FIELDS = ["canSubscribe", "canPublish", "canPublishData", "canPublishSources", "hidden", "recorder", "canUpdateMetadata", "agent", "canSubscribeMetrics"];

const STORAGE_FIELDS = ["s3", "gcp", "azure", "aliOSS"];
const ENCODED_OUTPUTS = ["fileOutputs", "streamOutputs", "segmentOutputs", "imageOutputs"];
/** Top-level fields of each request message LiveKit accepts (camelCase, as Pulse sends them). */
const REQUEST_FIELDS: Record<string, string[]> = {
  "Egress/StartRoomCompositeEgress": ["roomName", "layout", "audioOnly", "videoOnly", "customBaseUrl", "preset", "advanced", ...ENCODED_OUTPUTS],
  "Egress/StartWebEgress": ["url", "audioOnly", "videoOnly", "awaitStartSignal", "preset", "advanced", ...ENCODED_OUTPUTS],
  "Egress/StartTrackEgress": ["roomName", "trackId", "file", "websocketUrl"],
  "Egress/StartParticipantEgress": ["roomName", "identity", "screenShare", "preset", "advanced", ...ENCODED_OUTPUTS],
  "Egress/StartTrackCompositeEgress": ["roomName", "audioTrackId", "videoTrackId", "preset", "advanced", ...ENCODED_OUTPUTS],
  "Egress/UpdateLayout": ["egressId", "layout"],
  "Egress/UpdateStream": ["egressId", "addOutputUrls", "removeOutputUrls"],
  "Egress/StopEgress": ["egressId"],
  "Ingress/CreateIngress": [
    "inputType",
    "url",
    "name",
    "roomName",
    "participantIdentity",
    "participantName",
    "participantMetadata",
    "enableTranscoding",
    "audio",
    "video",
    "enabled",
  ],
  "Ingress/UpdateIngress": ["ingressId", "name", "roomName", "participantIdentity", "participantName", "participantMetadata", "enableTranscoding", "audio", "video", "enabled"],
  "Ingress/DeleteIngress": ["ingressId"],
  "RoomService/CreateRoom": ["name", "emptyTimeout", "departureTimeout", "maxParticipants", "metadata", "nodeId", "minPlayoutDelay", "maxPlayoutDelay", "syncStreams"],
  "RoomService/ListRooms": ["names"],
  "RoomService/DeleteRoom": ["room"],
  "RoomService/ListParticipants": ["room"],
  "RoomService/GetParticipant": ["room", "identity"],
  "RoomService/RemoveParticipant": ["room", "identity"],
  "RoomService/MutePublishedTrack": ["room", "identity", "trackSid", "muted"],
  "RoomService/UpdateParticipant": ["room", "identity", "metadata", "permission", "name", "attributes"],
  "RoomService/UpdateRoomMetadata": ["room", "metadata"],
  "RoomService/SendData": ["room", "data", "kind", "destinationSids", "destinationIdentities", "topic", "nonce"],
};
const NESTED_FIELDS: Record<string, string[]> = {
  fileOutputs: ["fileType", "filepath", "disableManifest", ...STORAGE_FIELDS],
  streamOutputs: ["protocol", "urls"],
  segmentOutputs: ["protocol", "filenamePrefix", "playlistName", "livePlaylistName", "segmentDuration", "filenameSuffix", "disableManifest", ...STORAGE_FIELDS],
  file: ["filepath", "disableManifest", ...STORAGE_FIELDS],
  s3: ["accessKey", "secret", "sessionToken", "region", "endpoint", "bucket", "forcePathStyle", "metadata", "tagging", "contentDisposition"],
  gcp: ["credentials", "bucket"],
  azure: ["accountName", "accountKey", "containerName"],
  permission: PERMISSION_FIELDS,
  imageOutputs: ["captureInterval", "width", "height", "filenamePrefix", "filenameSuffix", "imageCodec", "disableManifest", ...STORAGE_FIELDS],
};

const NAMESPACED_ROOM = /^proj_[0-9A-Za-z]+:.+$/s;

function randomId(prefix: string) {
  const bytes = crypto.getRandomValues(new Uint8Array(9));
  return prefix + Array.from(bytes, (b) => "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"[b % 57]).join("");
}

const nsNow = () => (BigInt(Date.now()) * 1_000_000n).toString();

function json(status: number, body: unknown) {
  return new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json" } });
}
const twirpError = (status: number, code: string, msg: string) => json(status, { code, msg, meta: {} });

function unknownFields(value: unknown, allowed: string[], where: string): string[] {
  if (!value || typeof value !== "object" || Array.isArray(value)) return [];
  const out: string[] = [];
  for (const [k, v] of Object.entries(value)) {
    if (!allowed.includes(k)) {
      out.push(`${where}${k}`);
      continue;
    }
    const nested = NESTED_FIELDS[k];
    if (!nested) continue;
    for (const item of Array.isArray(v) ? v : [v]) out.push(...unknownFields(item, nested, `${where}${k}.`));
  }
  return out;
}

export class FakeLivekit {
  readonly calls: RecordedCall[] = [];
  readonly violations: string[] = [];
  readonly egresses = new Map<string, EgressState>();
  readonly ingresses = new Map<string, IngressState>();
  /** RoomService state by the namespaced room name, as LiveKit keys it. */
  readonly rooms = new Map<string, FakeRoom>();
  private failures: Failure[] = [];
  private realFetch: typeof fetch | null = null;
  private readonly verifier = new TokenVerifier(env.LIVEKIT_API_KEY!, env.LIVEKIT_API_SECRET!);

  install(): this {
    this.realFetch = globalThis.fetch;
    const real = this.realFetch;
    globalThis.fetch = (async (input: RequestInfo | URL, init?: RequestInit) => {
      const url = input instanceof Request ? input.url : String(input);
      if (!url.startsWith(`${LIVEKIT_API_URL}/`)) return real(input, init);
      const request = new Request(input, init);
      return this.handle(request, init?.signal ?? undefined);
    }) as typeof fetch;
    return this;
  }

  uninstall(): void {
    if (this.realFetch) globalThis.fetch = this.realFetch;
    this.realFetch = null;
  }

  /** The next call to LiveKit fails this way (queued: one failure per call). */
  failNext(failure: Failure): void {
    this.failures.push(failure);
  }

  callsTo(method: string): RecordedCall[] {
    return this.calls.filter((c) => c.method === method);
  }

  private async handle(request: Request, signal: AbortSignal | undefined): Promise<Response> {
    const match = /^\/twirp\/livekit\.(Egress|Ingress|RoomService)\/(\w+)$/.exec(new URL(request.url).pathname);
    const text = await request.text();
    let body: Record<string, unknown> = {};
    try {
      body = JSON.parse(text) as Record<string, unknown>;
    } catch {
      this.violations.push(`body is not JSON: ${text.slice(0, 100)}`);
    }
    const authorization = request.headers.get("Authorization");
    if (!match) {
      this.violations.push(`unknown route ${request.method} ${request.url}`);
      return twirpError(404, "bad_route", "no handler for path");
    }
    const service = match[1] as Service;
    const method = match[2]!;
    const recorded: RecordedCall = { service, method, body, claims: null, authorization };
    this.calls.push(recorded);

    // What LiveKit checks before doing anything.
    if (request.method !== "POST") this.violations.push(`${method}: method ${request.method}`);
    if (!(request.headers.get("Content-Type") ?? "").startsWith("application/json")) this.violations.push(`${method}: content type`);
    const token = authorization?.startsWith("Bearer ") ? authorization.slice(7) : null;
    if (!token) {
      this.violations.push(`${method}: no bearer token`);
      return twirpError(401, "unauthenticated", "invalid authorization header");
    }
    try {
      recorded.claims = await this.verifier.verify(token);
    } catch (error) {
      this.violations.push(`${method}: token does not verify: ${(error as Error).message}`);
      return twirpError(401, "unauthenticated", "invalid token");
    }
    const grantProblem = this.checkGrant(service, method, body, recorded.claims);
    if (grantProblem) {
      this.violations.push(`${method}: ${grantProblem}`);
      return twirpError(403, "permission_denied", grantProblem);
    }
    const fields = REQUEST_FIELDS[`${service}/${method}`];
    if (!fields) {
      this.violations.push(`unexpected RPC ${service}/${method}`);
      return twirpError(404, "bad_route", "unknown method");
    }
    const unknown = unknownFields(body, fields, "");
    if (unknown.length > 0) {
      this.violations.push(`${method}: unknown fields ${unknown.join(", ")}`);
      return twirpError(400, "malformed", `unknown fields ${unknown.join(", ")}`);
    }
    if ("roomName" in body && !NAMESPACED_ROOM.test(String(body.roomName))) {
      this.violations.push(`${method}: room not namespaced: ${String(body.roomName)}`);
      return twirpError(400, "invalid_argument", "room not namespaced");
    }
    if (service === "RoomService") {
      const named = method === "CreateRoom" ? [body.name] : method === "ListRooms" ? ((body.names as unknown[]) ?? []) : [body.room];
      const bad = named.filter((n) => !NAMESPACED_ROOM.test(String(n)));
      if (bad.length > 0 || named.length === 0) {
        // An empty ListRooms filter would list every tenant's rooms.
        this.violations.push(`${method}: room not namespaced: ${JSON.stringify(named)}`);
        return twirpError(400, "invalid_argument", "room not namespaced");
      }
    }

    const failure = this.failures.shift();
    if (failure) return this.fail(failure, signal);
    return this.answer(service, method, body);
  }

  private checkGrant(service: Service, method: string, body: Record<string, unknown>, claims: ClaimGrants): string | null {
    const video = (claims.video ?? {}) as Record<string, unknown>;
    const keys = Object.keys(video);
    if (service === "RoomService" && !ROOM_GRANT[method]) {
      if (video.roomAdmin !== true || video.room !== body.room || keys.length !== 2) {
        return `grant must be exactly {roomAdmin: true, room: ${JSON.stringify(body.room)}}, got ${JSON.stringify(video)}`;
      }
    } else {
      const wanted = service === "RoomService" ? ROOM_GRANT[method]! : GRANT_BY_SERVICE[service];
      if (video[wanted] !== true || keys.length !== 1) return `grant must be exactly {${wanted}: true}, got ${JSON.stringify(video)}`;
    }
    const extra = Object.keys(claims).filter((k) => !["iss", "nbf", "iat", "exp", "video", "jti"].includes(k));
    if (extra.length > 0) return `unexpected claims ${extra.join(", ")}`;
    const exp = (claims as { exp?: number }).exp ?? 0;
    if (exp - Date.now() / 1000 > 15 * 60) return `service token lives too long (exp in ${Math.round(exp - Date.now() / 1000)} s)`;
    return null;
  }

  private fail(failure: Failure, signal: AbortSignal | undefined): Promise<Response> | Response {
    switch (failure.kind) {
      case "status":
        return new Response(failure.body ?? "upstream connect error", { status: failure.status });
      case "twirp":
        return twirpError(failure.status, failure.code, failure.msg);
      case "malformed":
        return new Response('{"egress_id": "EG_broken", "status": ', { status: 200, headers: { "Content-Type": "application/json" } });
      case "network":
        return Promise.reject(new TypeError("Network connection lost."));
      case "hang":
        // Never answers; like a real fetch, gives up only when the caller's signal aborts.
        return new Promise<Response>((_, reject) => {
          if (!signal) {
            this.violations.push("request without an abort signal would hang forever");
            return;
          }
          if (signal.aborted) reject(signal.reason);
          signal.addEventListener("abort", () => reject(signal.reason));
        });
    }
  }

  private answer(service: string, method: string, body: Record<string, unknown>): Response {
    if (service === "RoomService") return this.answerRoomService(method, body);
    switch (`${service}/${method}`) {
      case "Egress/StartRoomCompositeEgress":
      case "Egress/StartWebEgress":
      case "Egress/StartTrackEgress":
      case "Egress/StartParticipantEgress":
      case "Egress/StartTrackCompositeEgress": {
        const hasOutput =
          method === "StartTrackEgress"
            ? body.file !== undefined || body.websocketUrl !== undefined
            : ENCODED_OUTPUTS.some((k) => Array.isArray(body[k]) && (body[k] as unknown[]).length > 0);
        if (!hasOutput) return twirpError(400, "invalid_argument", "no outputs");
        const info: EgressState = {
          egress_id: randomId("EG_"),
          room_name: String(body.roomName ?? ""),
          status: "EGRESS_STARTING",
          started_at: "0",
          ended_at: "0",
          error: "",
          layout: String(body.layout ?? ""),
          stream_urls: ((body.streamOutputs as { urls?: string[] }[] | undefined) ?? []).flatMap((o) => o.urls ?? []),
        };
        this.egresses.set(info.egress_id, info);
        return json(200, this.egressInfo(info));
      }
      case "Egress/UpdateLayout":
      case "Egress/UpdateStream": {
        const info = this.egresses.get(String(body.egressId));
        if (!info) return twirpError(404, "not_found", "egress does not exist");
        if (!["EGRESS_STARTING", "EGRESS_ACTIVE"].includes(info.status)) {
          return twirpError(412, "failed_precondition", `egress with status ${info.status} cannot be updated`);
        }
        if (method === "UpdateLayout") info.layout = String(body.layout ?? "");
        else {
          const removed = new Set((body.removeOutputUrls as string[] | undefined) ?? []);
          info.stream_urls = [...info.stream_urls.filter((u) => !removed.has(u)), ...((body.addOutputUrls as string[] | undefined) ?? [])];
        }
        return json(200, this.egressInfo(info));
      }
      case "Egress/StopEgress": {
        const info = this.egresses.get(String(body.egressId));
        if (!info) return twirpError(404, "not_found", "egress does not exist");
        if (!["EGRESS_STARTING", "EGRESS_ACTIVE"].includes(info.status)) {
          return twirpError(412, "failed_precondition", `egress with status ${info.status} cannot be stopped`);
        }
        info.status = "EGRESS_ENDING";
        return json(200, this.egressInfo(info));
      }
      case "Ingress/CreateIngress": {
        const inputType = String(body.inputType ?? "RTMP_INPUT");
        if (!body.roomName || !body.participantIdentity) return twirpError(400, "invalid_argument", "missing room or identity");
        if (inputType === "URL_INPUT" && !body.url) return twirpError(400, "invalid_argument", "missing url");
        const info: IngressState = {
          ingress_id: randomId("IN_"),
          name: String(body.name ?? ""),
          stream_key: inputType === "URL_INPUT" ? "" : randomId("sk_"),
          url: inputType === "URL_INPUT" ? String(body.url) : inputType === "WHIP_INPUT" ? "http://livekit.test/w" : "rtmp://livekit.test/x",
          input_type: inputType,
          room_name: String(body.roomName),
          participant_identity: String(body.participantIdentity),
          participant_name: String(body.participantName ?? ""),
        };
        this.ingresses.set(info.ingress_id, info);
        return json(200, this.ingressInfo(info));
      }
      case "Ingress/UpdateIngress": {
        const info = this.ingresses.get(String(body.ingressId));
        if (!info) return twirpError(404, "not_found", "ingress does not exist");
        // LiveKit's UpdateIngress: empty or absent fields keep their value.
        if (body.name) info.name = String(body.name);
        if (body.roomName) info.room_name = String(body.roomName);
        if (body.participantIdentity) info.participant_identity = String(body.participantIdentity);
        if (body.participantName) info.participant_name = String(body.participantName);
        return json(200, this.ingressInfo(info));
      }
      case "Ingress/DeleteIngress": {
        const info = this.ingresses.get(String(body.ingressId));
        if (!info) return twirpError(404, "not_found", "ingress does not exist");
        this.ingresses.delete(info.ingress_id);
        return json(200, this.ingressInfo(info));
      }
    }
    return twirpError(404, "bad_route", "unknown method");
  }

  /** A participant connects to a live room (as a client with a token would); returns it. */
  join(room: string, p: { identity: string; name?: string; tracks?: Omit<FakeTrack, "sid">[] }): FakeParticipant {
    const state = this.rooms.get(room);
    if (!state) throw new Error(`fake LiveKit: no room ${room}`);
    const participant: FakeParticipant = {
      sid: randomId("PA_"),
      identity: p.identity,
      name: p.name ?? "",
      metadata: "",
      attributes: {},
      joined_at: String(Math.floor(Date.now() / 1000)),
      permission: { can_subscribe: true, can_publish: true, can_publish_data: true, can_publish_sources: [], hidden: false, recorder: false, can_update_metadata: false, agent: false, can_subscribe_metrics: false },
      tracks: (p.tracks ?? []).map((t) => ({ ...t, sid: randomId("TR_") })),
    };
    state.participants.set(p.identity, participant);
    return participant;
  }

  /** A room as LiveKit's Twirp JSON renders it. */
  roomInfo(r: FakeRoom) {
    return {
      sid: r.sid,
      name: r.name,
      empty_timeout: r.empty_timeout,
      departure_timeout: r.departure_timeout,
      max_participants: r.max_participants,
      creation_time: r.creation_time,
      creation_time_ms: String(Number(r.creation_time) * 1000),
      turn_password: "",
      enabled_codecs: [],
      metadata: r.metadata,
      num_participants: r.participants.size,
      num_publishers: [...r.participants.values()].filter((p) => p.tracks.length > 0).length,
      active_recording: false,
      version: null,
    };
  }

  trackInfo(t: FakeTrack) {
    return { sid: t.sid, type: t.type, name: t.name, muted: t.muted, width: t.type === "VIDEO" ? 1280 : 0, height: t.type === "VIDEO" ? 720 : 0, simulcast: t.type === "VIDEO", disable_dtx: false, source: t.source, layers: [], mime_type: "", mid: "", codecs: [], stereo: false, disable_red: false, encryption: "NONE", stream: "", version: null, audio_features: [] };
  }

  participantInfo(p: FakeParticipant) {
    return {
      sid: p.sid,
      identity: p.identity,
      state: "ACTIVE",
      tracks: p.tracks.map((t) => this.trackInfo(t)),
      metadata: p.metadata,
      joined_at: p.joined_at,
      joined_at_ms: String(Number(p.joined_at) * 1000),
      name: p.name,
      version: 1,
      permission: p.permission,
      region: "",
      is_publisher: p.tracks.length > 0,
      kind: "STANDARD",
      attributes: p.attributes,
      disconnect_reason: "UNKNOWN_REASON",
    };
  }

  private answerRoomService(method: string, body: Record<string, unknown>): Response {
    if (method === "CreateRoom") {
      const name = String(body.name);
      let room = this.rooms.get(name);
      if (!room) {
        room = {
          sid: randomId("RM_"),
          name,
          empty_timeout: Number(body.emptyTimeout ?? 300),
          departure_timeout: Number(body.departureTimeout ?? 20),
          max_participants: Number(body.maxParticipants ?? 0),
          metadata: String(body.metadata ?? ""),
          creation_time: String(Math.floor(Date.now() / 1000)),
          participants: new Map(),
          data: [],
        };
        this.rooms.set(name, room);
      }
      return json(200, this.roomInfo(room));
    }
    if (method === "ListRooms") {
      const names = (body.names as string[]) ?? [];
      return json(200, { rooms: [...this.rooms.values()].filter((r) => names.includes(r.name)).map((r) => this.roomInfo(r)) });
    }
    const room = this.rooms.get(String(body.room));
    // LiveKit's room store lists no participants for a room it does not have, without an error.
    if (!room && method === "ListParticipants") return json(200, { participants: [] });
    if (!room) return twirpError(404, "not_found", "requested room does not exist");
    switch (method) {
      case "DeleteRoom":
        this.rooms.delete(room.name);
        return json(200, {});
      case "UpdateRoomMetadata":
        room.metadata = String(body.metadata ?? "");
        return json(200, this.roomInfo(room));
      case "ListParticipants":
        return json(200, { participants: [...room.participants.values()].map((p) => this.participantInfo(p)) });
      case "SendData": {
        if (typeof body.data !== "string" || !/^[A-Za-z0-9+/]*={0,2}$/.test(body.data)) return twirpError(400, "malformed", "data is not base64");
        if (!["RELIABLE", "LOSSY"].includes(String(body.kind))) return twirpError(400, "malformed", "bad kind");
        room.data.push(body);
        return json(200, {});
      }
    }
    const participant = room.participants.get(String(body.identity));
    if (!participant) return twirpError(404, "not_found", "participant not found");
    switch (method) {
      case "GetParticipant":
        return json(200, this.participantInfo(participant));
      case "RemoveParticipant":
        room.participants.delete(participant.identity);
        return json(200, {});
      case "MutePublishedTrack": {
        const track = participant.tracks.find((t) => t.sid === body.trackSid);
        if (!track) return twirpError(404, "not_found", "track is not found");
        track.muted = body.muted === true;
        return json(200, { track: this.trackInfo(track) });
      }
      case "UpdateParticipant": {
        if (typeof body.name === "string") participant.name = body.name;
        if (typeof body.metadata === "string") participant.metadata = body.metadata;
        for (const [k, v] of Object.entries((body.attributes as Record<string, string>) ?? {})) {
          if (v === "") delete participant.attributes[k];
          else participant.attributes[k] = v;
        }
        if (body.permission) {
          // LiveKit replaces the whole object: whatever is absent becomes false / empty.
          const p = body.permission as Record<string, unknown>;
          participant.permission = Object.fromEntries(
            PERMISSION_FIELDS.map((f) => [f.replace(/[A-Z]/g, (ch) => `_${ch.toLowerCase()}`), f === "canPublishSources" ? (p[f] ?? []) : p[f] === true]),
          );
        }
        return json(200, this.participantInfo(participant));
      }
    }
    return twirpError(404, "bad_route", "unknown method");
  }

  /** EgressInfo as LiveKit's Twirp JSON renders it: snake_case, every default present. */
  egressInfo(e: EgressState) {
    return {
      egress_id: e.egress_id,
      room_id: "RM_fake",
      room_name: e.room_name,
      source_type: "EGRESS_SOURCE_TYPE_WEB",
      status: e.status,
      started_at: e.started_at,
      ended_at: e.ended_at,
      updated_at: nsNow(),
      details: "",
      error: e.error,
      error_code: 0,
      stream_results: e.stream_urls.map((url) => ({ url, status: "ACTIVE", started_at: "0", ended_at: "0", duration: "0", error: "", last_retry_at: "0", retries: 0 })),
      file_results: [],
      segment_results: [],
      image_results: [],
      manifest_location: "",
      backup_storage_used: false,
    };
  }

  ingressInfo(i: IngressState) {
    return {
      ingress_id: i.ingress_id,
      name: i.name,
      stream_key: i.stream_key,
      url: i.url,
      input_type: i.input_type,
      bypass_transcoding: false,
      enable_transcoding: null,
      audio: null,
      video: null,
      room_name: i.room_name,
      participant_identity: i.participant_identity,
      participant_name: i.participant_name,
      participant_metadata: "",
      reusable: i.input_type !== "URL_INPUT",
      state: { status: "ENDPOINT_INACTIVE", error: "", video: null, audio: null, room_id: "", started_at: "0", ended_at: "0", updated_at: "0", resource_id: "", tracks: [] },
      enabled: null,
    };
  }
}

export function installFakeLivekit(): FakeLivekit {
  return new FakeLivekit().install();
}

/** Every way LiveKit can fail a call that is not the tenant's fault: each must become 502 `upstream_error`. */
export const UPSTREAM_FAILURES: [string, Failure][] = [
  ["a 503 with an HTML body", { kind: "status", status: 503, body: "<html>upstream connect error</html>" }],
  ["a Twirp internal error", { kind: "twirp", status: 500, code: "internal", msg: "service crashed" }],
  ["a Twirp permission_denied (Pulse's grant)", { kind: "twirp", status: 403, code: "permission_denied", msg: "no permission" }],
  ["garbage with a 200", { kind: "malformed" }],
  ["a 200 whose JSON is not the message", { kind: "status", status: 200, body: "[1,2,3]" }],
  ["a network error", { kind: "network" }],
  ["no answer at all", { kind: "hang" }],
];

/**
 * Installs a fresh fake before each test of the calling file and, after each, uninstalls it and
 * asserts it saw no request LiveKit would have refused. Returns a handle that always points at the
 * current test's fake.
 */
export function useFakeLivekit(options: { twirpTimeoutMs?: number } = {}): FakeLivekit {
  let current: FakeLivekit | undefined;
  beforeEach(() => {
    current = installFakeLivekit();
    // A hung LiveKit is given up on after this long (10 s in production).
    if (options.twirpTimeoutMs !== undefined) setTwirpTimeoutMs(options.twirpTimeoutMs);
  });
  afterEach(() => {
    if (options.twirpTimeoutMs !== undefined) setTwirpTimeoutMs(null);
    current!.uninstall();
    expect(current!.violations).toEqual([]);
  });
  return new Proxy({} as FakeLivekit, {
    get(_, prop) {
      if (!current) throw new Error("useFakeLivekit: the fake is only installed while a test runs");
      const value = Reflect.get(current, prop);
      return typeof value === "function" ? value.bind(current) : value;
    },
  });
}
