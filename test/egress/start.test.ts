import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { call, expectEnvelope } from "../support/api";
import { createApiKey, createTenant } from "../support/factories";
import { useFakeLivekit } from "../support/fake-livekit";

const livekit = useFakeLivekit();

const S3 = { access_key: "AKIA-SECRET-ACCESS-KEY", secret: "s3-very-secret-value", session_token: "s3-session-token-value", region: "eu-west-1", bucket: "recordings" };
const GCP = { credentials: '{"type":"service_account","private_key":"gcp-private-key-value"}', bucket: "gcs-bucket" };
const AZURE = { account_name: "pulseacct", account_key: "azure-account-key-value", container_name: "videos" };
const STREAM_KEY = "live-stream-key-abc123";
const SECRETS = [S3.access_key, S3.secret, S3.session_token, "gcp-private-key-value", AZURE.account_key, STREAM_KEY];

async function dbRows(table: string, projectId: string) {
  const { results } = await env.DB.prepare(`SELECT * FROM ${table} WHERE project_id = ?`).bind(projectId).all();
  return results;
}

describe("POST /v1/egress", () => {
  it("starts a room-composite egress in LiveKit with the namespaced room and returns the record", async () => {
    const t = await createTenant();
    const res = await call("POST", "/v1/egress", {
      token: t.key.secret,
      body: {
        type: "room_composite",
        room: "standup",
        layout: "speaker",
        file_outputs: [{ filepath: "rec/{room_name}.mp4", file_type: "mp4", s3: S3 }],
        stream_outputs: [{ protocol: "rtmp", urls: [`rtmp://a.rtmp.youtube.com/live2/${STREAM_KEY}`] }],
        segment_outputs: [{ filename_prefix: "hls/seg", playlist_name: "index.m3u8", segment_duration: 4, gcp: GCP }],
      },
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ type: "room_composite", room: "standup", status: "EGRESS_STARTING", error: null, started_at: null, ended_at: null });
    expect(res.body.id).toMatch(/^eg_[0-9A-Za-z]+$/);
    expect(res.body.egress_id).toMatch(/^EG_/);
    expect(Date.parse(res.body.created_at)).not.toBeNaN();

    const [sent] = livekit.callsTo("StartRoomCompositeEgress");
    expect(sent).toBeDefined();
    expect(sent!.claims!.video).toEqual({ roomRecord: true });
    expect(sent!.body.roomName).toBe(`${t.project.id}:standup`);
    expect(sent!.body.layout).toBe("speaker");
    // LiveKit needs the credentials to upload: they are passed through, in LiveKit's field names.
    expect(sent!.body.fileOutputs).toEqual([
      { filepath: "rec/standup.mp4", fileType: "MP4", s3: { accessKey: S3.access_key, secret: S3.secret, sessionToken: S3.session_token, region: "eu-west-1", bucket: "recordings" } },
    ]);
    expect(sent!.body.streamOutputs).toEqual([{ protocol: "RTMP", urls: [`rtmp://a.rtmp.youtube.com/live2/${STREAM_KEY}`] }]);
    expect(sent!.body.segmentOutputs).toEqual([
      { protocol: "HLS_PROTOCOL", filenamePrefix: "hls/seg", playlistName: "index.m3u8", segmentDuration: 4, gcp: { credentials: GCP.credentials, bucket: "gcs-bucket" } },
    ]);

    // …but Pulse keeps and shows only what identifies the destination.
    expect(res.body.outputs).toEqual({
      file_outputs: [{ filepath: "rec/{room_name}.mp4", file_type: "mp4", s3: { bucket: "recordings", region: "eu-west-1" } }],
      stream_outputs: [{ protocol: "rtmp", urls: ["rtmp://a.rtmp.youtube.com/live2/{redacted}"] }],
      segment_outputs: [{ filename_prefix: "hls/seg", playlist_name: "index.m3u8", segment_duration: 4, gcp: { bucket: "gcs-bucket" } }],
    });
    const got = await call("GET", `/v1/egress/${res.body.id}`, { token: t.key.secret });
    expect(got.status).toBe(200);
    expect(got.body).toEqual(res.body);
  });

  it("never stores or returns storage credentials or stream keys", async () => {
    const t = await createTenant();
    const bodies = [
      { type: "room_composite", room: "a", file_outputs: [{ filepath: "x.mp4", s3: S3 }], stream_outputs: [{ urls: [`rtmps://live.twitch.tv/app/${STREAM_KEY}?auth=${S3.secret}`] }] },
      { type: "web", url: "https://example.com/page", segment_outputs: [{ filename_prefix: "p", playlist_name: "l.m3u8", azure: AZURE }] },
      { type: "track", room: "a", track_id: "TR_abc", file: { filepath: "t.ogg", gcp: GCP } },
      { type: "track", room: "a", track_id: "TR_abc", websocket_url: `wss://user:${S3.secret}@ws.example.com/in?token=${STREAM_KEY}` },
      { type: "room_composite", room: "a", file_outputs: [{ filepath: "y.mp4", s3: { ...S3, endpoint: `https://minio:${S3.secret}@minio.example.com/?k=${S3.access_key}` } }] },
    ];
    const responses: string[] = [];
    for (const body of bodies) {
      const res = await call("POST", "/v1/egress", { token: t.key.secret, body });
      expect(res.status, JSON.stringify(body)).toBe(201);
      responses.push(res.text);
    }
    // LiveKit did get them (otherwise the egress could not upload)…
    const sentToLivekit = JSON.stringify(livekit.calls.map((c) => c.body));
    for (const secret of SECRETS) expect(sentToLivekit).toContain(secret);
    // …and nothing Pulse keeps or shows contains any of them.
    const list = await call("GET", "/v1/egress", { token: t.key.secret });
    expect(list.body.data).toHaveLength(bodies.length);
    const stored = JSON.stringify([...(await dbRows("egresses", t.project.id)), ...(await dbRows("audit_logs", t.project.id))]);
    for (const text of [...responses, list.text, stored]) {
      for (const secret of SECRETS) expect(text).not.toContain(secret);
    }
    const ws = list.body.data.find((e: any) => e.outputs.websocket_url);
    expect(ws.outputs.websocket_url).toBe("wss://ws.example.com/in");
    const azure = list.body.data.find((e: any) => e.type === "web");
    expect(azure.room).toBeNull();
    expect(azure.outputs.segment_outputs[0].azure).toEqual({ account_name: "pulseacct", container_name: "videos" });
  });

  it("uses StartTrackEgress and StartWebEgress for track and web egress", async () => {
    const t = await createTenant();
    const track = await call("POST", "/v1/egress", {
      token: t.key.secret,
      body: { type: "track", room: "r1", track_id: "TR_123", websocket_url: "wss://sink.example.com/audio" },
    });
    expect(track.status).toBe(201);
    expect(track.body).toMatchObject({ type: "track", room: "r1" });
    expect(livekit.callsTo("StartTrackEgress")[0]!.body).toEqual({ roomName: `${t.project.id}:r1`, trackId: "TR_123", websocketUrl: "wss://sink.example.com/audio" });

    const web = await call("POST", "/v1/egress", {
      token: t.key.secret,
      body: { type: "web", url: "https://example.com/show", audio_only: true, file_outputs: [{ filepath: "show.ogg", file_type: "ogg" }] },
    });
    expect(web.status).toBe(201);
    expect(web.body).toMatchObject({ type: "web", room: null });
    expect(livekit.callsTo("StartWebEgress")[0]!.body).toEqual({
      url: "https://example.com/show",
      audioOnly: true,
      // No storage block: LiveKit's default storage, under the project's prefix (storage.test.ts).
      fileOutputs: [{ filepath: `${t.project.id}/show.ogg`, fileType: "OGG" }],
    });
    for (const c of livekit.calls) expect(c.claims!.video).toEqual({ roomRecord: true });
  });

  it("writes an egress.started audit entry naming the API key", async () => {
    const t = await createTenant();
    const res = await call("POST", "/v1/egress", { token: t.key.secret, body: { type: "room_composite", room: "audited", stream_outputs: [{ urls: ["rtmp://x.example.com/live/key123"] }] } });
    expect(res.status).toBe(201);
    const audit = await call("GET", `/v1/orgs/${t.org.id}/audit-logs?action=egress.started`, { token: t.user.token });
    expect(audit.status).toBe(200);
    expect(audit.body.data).toHaveLength(1);
    expect(audit.body.data[0]).toMatchObject({ action: "egress.started", resource_id: res.body.id, actor_type: "api_key", actor_id: t.key.id });
    expect(JSON.stringify(audit.body.data[0])).not.toContain("key123");
  });

  it.each([
    ["no output at all", { type: "room_composite", room: "r" }],
    ["empty output lists", { type: "room_composite", room: "r", file_outputs: [], stream_outputs: [] }],
    ["a room composite without a room", { type: "room_composite", file_outputs: [{ filepath: "a.mp4" }] }],
    ["an unknown type", { type: "participant", room: "r", file_outputs: [{ filepath: "a.mp4" }] }],
    ["an unknown top-level field", { type: "room_composite", room: "r", file_outputs: [{ filepath: "a.mp4" }], preset: "H264_720P_30" }],
    ["an unknown storage field", { type: "room_composite", room: "r", file_outputs: [{ filepath: "a.mp4", s3: { bucket: "b", acl: "public-read" } }] }],
    ["two storages on one output", { type: "room_composite", room: "r", file_outputs: [{ filepath: "a.mp4", s3: { bucket: "b" }, gcp: { bucket: "c" } }] }],
    ["an http stream url", { type: "room_composite", room: "r", stream_outputs: [{ urls: ["http://example.com/live"] }] }],
    ["a track egress with both file and websocket", { type: "track", room: "r", track_id: "TR_1", file: { filepath: "a.ogg" }, websocket_url: "wss://x.example.com" }],
    ["a track egress with neither", { type: "track", room: "r", track_id: "TR_1" }],
    ["a web egress with a javascript url", { type: "web", url: "javascript:alert(1)", file_outputs: [{ filepath: "a.mp4" }] }],
    ["audio_only and video_only together", { type: "room_composite", room: "r", audio_only: true, video_only: true, file_outputs: [{ filepath: "a.mp4" }] }],
    ["a room name over 128 characters", { type: "room_composite", room: "r".repeat(129), file_outputs: [{ filepath: "a.mp4" }] }],
  ])("refuses %s with 400 and never calls LiveKit", async (_name, body) => {
    const t = await createTenant();
    const res = await call("POST", "/v1/egress", { token: t.key.secret, body });
    const error = expectEnvelope(res, 400, "validation_failed");
    expect(error.details!.length).toBeGreaterThan(0);
    expect(livekit.calls).toHaveLength(0);
    expect(await dbRows("egresses", t.project.id)).toHaveLength(0);
  });

  it("requires the egress:write scope on every egress route", async () => {
    const t = await createTenant();
    const started = await call("POST", "/v1/egress", { token: t.key.secret, body: { type: "room_composite", room: "r", file_outputs: [{ filepath: "a.mp4" }] } });
    const narrow = await createApiKey(t.user, t.project.id, { scopes: ["tokens:write"] });
    for (const [method, path, body] of [
      ["POST", "/v1/egress", { type: "room_composite", room: "r", file_outputs: [{ filepath: "a.mp4" }] }],
      ["GET", "/v1/egress", undefined],
      ["GET", `/v1/egress/${started.body.id}`, undefined],
      ["POST", `/v1/egress/${started.body.id}/stop`, undefined],
    ] as const) {
      expectEnvelope(await call(method, path, { token: narrow.secret, body }), 403, "forbidden");
      expectEnvelope(await call(method, path, { body }), 401, "unauthenticated");
    }
    expect(livekit.calls).toHaveLength(1);
  });
});

describe("GET /v1/egress", () => {
  it("lists newest first with room and active filters and a cursor", async () => {
    const t = await createTenant();
    const ids: string[] = [];
    for (const room of ["a", "b", "a"]) {
      const res = await call("POST", "/v1/egress", { token: t.key.secret, body: { type: "room_composite", room, file_outputs: [{ filepath: `${room}.mp4` }] } });
      ids.push(res.body.id);
    }
    const stopped = await call("POST", `/v1/egress/${ids[0]}/stop`, { token: t.key.secret });
    expect(stopped.status).toBe(200);
    // The ended egress (complete per LiveKit) no longer counts as active.
    await env.DB.prepare("UPDATE egresses SET status = 'EGRESS_COMPLETE' WHERE id = ?").bind(ids[0]).run();
    const callsBefore = livekit.calls.length;

    const all = await call("GET", "/v1/egress", { token: t.key.secret });
    expect(all.body.data.map((e: any) => e.id)).toEqual([ids[2], ids[1], ids[0]]);
    const roomA = await call("GET", "/v1/egress?room=a", { token: t.key.secret });
    expect(roomA.body.data.map((e: any) => e.id)).toEqual([ids[2], ids[0]]);
    const active = await call("GET", "/v1/egress?active=true", { token: t.key.secret });
    expect(active.body.data.map((e: any) => e.id)).toEqual([ids[2], ids[1]]);
    const ended = await call("GET", "/v1/egress?active=false", { token: t.key.secret });
    expect(ended.body.data.map((e: any) => e.id)).toEqual([ids[0]]);

    const first = await call("GET", "/v1/egress?limit=2", { token: t.key.secret });
    expect(first.body.data.map((e: any) => e.id)).toEqual([ids[2], ids[1]]);
    const second = await call("GET", `/v1/egress?limit=2&cursor=${first.body.next_cursor}`, { token: t.key.secret });
    expect(second.body.data.map((e: any) => e.id)).toEqual([ids[0]]);
    expect(second.body.next_cursor).toBeNull();
    // Lists are answered from Pulse's records, not by asking LiveKit.
    expect(livekit.calls.length).toBe(callsBefore);
    expectEnvelope(await call("GET", "/v1/egress?active=yes", { token: t.key.secret }), 400, "validation_failed");
  });
});

describe("POST /v1/egress/{eg_id}/stop", () => {
  it("stops the egress in LiveKit, records LiveKit's answer and audits it; a second stop conflicts", async () => {
    const t = await createTenant();
    const started = await call("POST", "/v1/egress", { token: t.key.secret, body: { type: "room_composite", room: "r", file_outputs: [{ filepath: "a.mp4" }] } });
    const stopped = await call("POST", `/v1/egress/${started.body.id}/stop`, { token: t.key.secret });
    expect(stopped.status).toBe(200);
    expect(stopped.body).toMatchObject({ id: started.body.id, status: "EGRESS_ENDING" });
    const [stop] = livekit.callsTo("StopEgress");
    expect(stop!.body).toEqual({ egressId: started.body.egress_id });
    expect(stop!.claims!.video).toEqual({ roomRecord: true });
    expect((await call("GET", `/v1/egress/${started.body.id}`, { token: t.key.secret })).body.status).toBe("EGRESS_ENDING");

    // LiveKit refuses to stop an egress that is already ending: a conflict, not an outage.
    expectEnvelope(await call("POST", `/v1/egress/${started.body.id}/stop`, { token: t.key.secret }), 409, "conflict");
    await env.DB.prepare("UPDATE egresses SET status = 'EGRESS_COMPLETE' WHERE id = ?").bind(started.body.id).run();
    const calls = livekit.calls.length;
    expectEnvelope(await call("POST", `/v1/egress/${started.body.id}/stop`, { token: t.key.secret }), 409, "conflict");
    expect(livekit.calls.length).toBe(calls);

    const audit = await call("GET", `/v1/orgs/${t.org.id}/audit-logs?action=egress.stopped`, { token: t.user.token });
    expect(audit.body.data).toHaveLength(1);
    expect(audit.body.data[0]).toMatchObject({ resource_id: started.body.id, actor_id: t.key.id });
  });
});

describe("rate limiting of egress and ingress routes", () => {
  it("counts each request once against the project's limit", async () => {
    const t = await createTenant();
    const remaining: number[] = [];
    let quota = NaN;
    for (const path of ["/v1/egress", "/v1/egress/eg_missing", "/v1/ingress", "/v1/ingress/ing_missing"]) {
      const res = await call("GET", path, { token: t.key.secret });
      remaining.push(Number(/r=(\d+)/.exec(res.headers.get("RateLimit") ?? "")?.[1]));
      quota = Number(/q=(\d+)/.exec(res.headers.get("RateLimit-Policy") ?? "")?.[1]);
    }
    expect(remaining.every(Number.isFinite)).toBe(true);
    // Earlier requests of this project (none are API-key requests) cost nothing here.
    expect(remaining[0]).toBe(quota - 1);
    expect(remaining.slice(1).map((r, i) => remaining[i]! - r)).toEqual([1, 1, 1]);
  });
});
