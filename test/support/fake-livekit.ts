/**
 * A fake of LiveKit's Twirp API (Egress and Ingress), installed by stubbing `globalThis.fetch` for
 * the test config's LIVEKIT_API_URL host (the Worker runs in the tests' isolate, so its `fetch` is
 * this one). Other hosts pass through untouched.
 *
 * It judges each request the way a LiveKit server would, and records what it saw:
 * - the service token verifies with livekit-server-sdk's `TokenVerifier` (deployment key/secret),
 *   has an `exp` at most ~10 minutes out, and carries exactly the grant its service needs
 *   (`roomRecord` for Egress, `ingressAdmin` for Ingress) and nothing else;
 * - the body is JSON with only fields LiveKit's request message has (typos would be dropped
 *   silently by the real server, so the fake refuses them), and rooms are namespaced
 *   (`proj_…:<room>`).
 * A failed check is answered like LiveKit would (401 `unauthenticated` / 400 `invalid_argument`)
 * and kept in `violations`, which tests assert to be empty.
 *
 * Answers are LiveKit-shaped: snake_case with defaults included, int64 as strings, `EG_`/`IN_` ids.
 */
import { env } from "cloudflare:workers";
import { afterEach, beforeEach, expect } from "vitest";
import { TokenVerifier, type ClaimGrants } from "livekit-server-sdk";

export const LIVEKIT_API_URL = "http://livekit.test";

export interface RecordedCall {
  service: "Egress" | "Ingress";
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

const GRANT_BY_SERVICE = { Egress: "roomRecord", Ingress: "ingressAdmin" } as const;

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
};
const NESTED_FIELDS: Record<string, string[]> = {
  fileOutputs: ["fileType", "filepath", "disableManifest", ...STORAGE_FIELDS],
  streamOutputs: ["protocol", "urls"],
  segmentOutputs: ["protocol", "filenamePrefix", "playlistName", "livePlaylistName", "segmentDuration", "filenameSuffix", "disableManifest", ...STORAGE_FIELDS],
  file: ["filepath", "disableManifest", ...STORAGE_FIELDS],
  s3: ["accessKey", "secret", "sessionToken", "region", "endpoint", "bucket", "forcePathStyle", "metadata", "tagging", "contentDisposition"],
  gcp: ["credentials", "bucket"],
  azure: ["accountName", "accountKey", "containerName"],
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
    const match = /^\/twirp\/livekit\.(Egress|Ingress)\/(\w+)$/.exec(new URL(request.url).pathname);
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
    const service = match[1] as "Egress" | "Ingress";
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
    const grantProblem = this.checkGrant(service, recorded.claims);
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

    const failure = this.failures.shift();
    if (failure) return this.fail(failure, signal);
    return this.answer(service, method, body);
  }

  private checkGrant(service: "Egress" | "Ingress", claims: ClaimGrants): string | null {
    const video = (claims.video ?? {}) as Record<string, unknown>;
    const wanted = GRANT_BY_SERVICE[service];
    const keys = Object.keys(video);
    if (video[wanted] !== true || keys.length !== 1) return `grant must be exactly {${wanted}: true}, got ${JSON.stringify(video)}`;
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

/**
 * Installs a fresh fake before each test of the calling file and, after each, uninstalls it and
 * asserts it saw no request LiveKit would have refused. Returns a handle that always points at the
 * current test's fake.
 */
export function useFakeLivekit(): FakeLivekit {
  let current: FakeLivekit | undefined;
  beforeEach(() => {
    current = installFakeLivekit();
  });
  afterEach(() => {
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
