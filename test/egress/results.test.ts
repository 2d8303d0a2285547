/**
 * What an egress produced (LiveKit's file, stream, segment and image results), kept from LiveKit's
 * webhooks and Twirp answers with every secret removed, and the `recording.completed` event that
 * follows `egress.ended` for a completed recording.
 */
import { env } from "cloudflare:workers";
import { EgressClient, StreamOutput } from "livekit-server-sdk";
import { Webhook } from "standardwebhooks";
import { afterEach, describe, expect, it, vi } from "vitest";
import { call } from "../support/api";
import { createTenant } from "../support/factories";
import { useFakeLivekit } from "../support/fake-livekit";
import { createLivekitKey } from "../support/livekit-keys";
import { PULSE_HOST, usePulseHost } from "../support/livekit-sdk";
import { deliverLivekitEvent, ns, replay, sendEvent } from "../support/livekit-webhook";
import { createEndpoint, fakeReceiver, receiverHost } from "../support/webhook-receiver";

const fake = useFakeLivekit();
usePulseHost();

afterEach(() => {
  vi.restoreAllMocks();
});

const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
const t0 = Math.floor(Date.now() / 1000) * 1000 - 10 * 60_000;
const t1 = t0 + 125_000;

async function startedEgress() {
  const t = await createTenant();
  const res = await call("POST", "/v1/egress", {
    token: t.key.secret,
    body: { type: "room_composite", room: "show", file_outputs: [{ filepath: "rec/show.mp4" }], stream_outputs: [{ urls: ["rtmp://live.example.com/app/sk_live_secret"] }] },
  });
  expect(res.status, res.text).toBe(201);
  return { ...t, egress: res.body as { id: string; egress_id: string }, wireRoom: `${t.project.id}:show` };
}

/** LiveKit's EgressInfo of a finished recording of `projectId`'s room, in webhook protojson. */
function finishedInfo(projectId: string, egressId: string, extra: Record<string, unknown> = {}) {
  return {
    egressId,
    roomName: `${projectId}:show`,
    status: "EGRESS_COMPLETE",
    startedAt: ns(t0),
    endedAt: ns(t1),
    fileResults: [
      {
        filename: `${projectId}/rec/show.mp4`,
        location: `https://recordings.s3.amazonaws.com/${projectId}/rec/show.mp4?X-Amz-Credential=AKIAEXAMPLE&X-Amz-Signature=deadbeef`,
        size: "10485760",
        duration: "125000000000",
        startedAt: ns(t0),
        endedAt: ns(t1),
      },
    ],
    streamResults: [{ url: "rtmp://live.example.com/app/sk_live_secret", status: "FINISHED", duration: "124000000000", startedAt: ns(t0), endedAt: ns(t1) }],
    segmentResults: [
      {
        playlistName: `${projectId}/hls/index.m3u8`,
        playlistLocation: "https://user:pw@cdn.example.com/hls/index.m3u8?token=abc",
        size: "2048",
        segmentCount: "21",
        duration: "125000000000",
      },
    ],
    imageResults: [{ filenamePrefix: `${projectId}/thumbs/show`, imageCount: "12", startedAt: ns(t0), endedAt: ns(t1) }],
    ...extra,
  };
}

const expectedResults = {
  file_results: [
    {
      filename: "rec/show.mp4",
      location: expect.stringMatching(/^https:\/\/recordings\.s3\.amazonaws\.com\/proj_\w+\/rec\/show\.mp4$/),
      size: 10485760,
      duration: 125,
      started_at: iso(t0),
      ended_at: iso(t1),
    },
  ],
  stream_results: [{ url: "rtmp://live.example.com/app/{redacted}", status: "FINISHED", duration: 124, started_at: iso(t0), ended_at: iso(t1), error: null }],
  segment_results: [
    {
      playlist_name: "hls/index.m3u8",
      playlist_location: "https://cdn.example.com/hls/index.m3u8",
      live_playlist_name: "",
      live_playlist_location: "",
      size: 2048,
      segment_count: 21,
      duration: 125,
      started_at: null,
      ended_at: null,
    },
  ],
  image_results: [{ filename_prefix: "thumbs/show", image_count: 12, started_at: iso(t0), ended_at: iso(t1) }],
};

const SECRETS = ["sk_live_secret", "AKIAEXAMPLE", "deadbeef", "token=abc", "pw@"];

describe("egress results", () => {
  it("keeps LiveKit's results from egress_ended without stream keys, signed queries, userinfo or the project prefix", async () => {
    const t = await startedEgress();
    const before = await call("GET", `/v1/egress/${t.egress.id}`, { token: t.key.secret });
    expect([before.body.file_results, before.body.segment_results, before.body.image_results]).toEqual([[], [], []]);

    await deliverLivekitEvent({ event: "egress_ended", room: { sid: "RM_1", name: t.wireRoom }, egressInfo: finishedInfo(t.project.id, t.egress.egress_id) });
    const got = await call("GET", `/v1/egress/${t.egress.id}`, { token: t.key.secret });
    expect(got.body).toMatchObject({ status: "EGRESS_COMPLETE", ...expectedResults });
    expect((await call("GET", "/v1/egress", { token: t.key.secret })).body.data[0]).toMatchObject(expectedResults);

    const stored = await env.DB.prepare("SELECT results FROM egresses WHERE id = ?").bind(t.egress.id).first<{ results: string }>();
    for (const secret of SECRETS) expect(stored!.results).not.toContain(secret);

    // A late, out-of-order report does not replace what the end reported.
    await deliverLivekitEvent({
      event: "egress_updated",
      room: { sid: "RM_1", name: t.wireRoom },
      egressInfo: { egressId: t.egress.egress_id, roomName: t.wireRoom, status: "EGRESS_ACTIVE", fileResults: [{ filename: "stale.mp4" }] },
    });
    expect((await call("GET", `/v1/egress/${t.egress.id}`, { token: t.key.secret })).body).toMatchObject(expectedResults);
  });

  it("keeps results from LiveKit's Twirp answers and returns them through the Twirp API, redacted, with the tenant's paths", async () => {
    const t = await createTenant();
    const lk = await createLivekitKey(t.user, t.project.id);
    const client = new EgressClient(PULSE_HOST, lk.api_key, lk.api_secret);
    const started = await client.startRoomCompositeEgress("show", { stream: new StreamOutput({ urls: ["rtmp://live.example.com/app/sk_live_secret"] }) });
    // LiveKit's own answer already lists the stream, key and all: Pulse returns it redacted.
    expect(started.streamResults.map((s) => s.url)).toEqual(["rtmp://live.example.com/app/{redacted}"]);

    await deliverLivekitEvent({ event: "egress_ended", egressInfo: finishedInfo(t.project.id, started.egressId) });
    const [info] = await client.listEgress({ egressId: started.egressId });
    expect(info!.roomName).toBe("show");
    expect(info!.fileResults.map((f) => [f.filename, f.size, f.duration, f.location.includes("?")])).toEqual([["rec/show.mp4", 10485760n, 125_000_000_000n, false]]);
    expect(info!.segmentResults.map((s) => [s.playlistName, s.playlistLocation, s.segmentCount])).toEqual([["hls/index.m3u8", "https://cdn.example.com/hls/index.m3u8", 21n]]);
    expect(info!.imageResults.map((i) => [i.filenamePrefix, i.imageCount])).toEqual([["thumbs/show", 12n]]);
    const wire = JSON.stringify(info!.toJson());
    for (const secret of SECRETS) expect(wire).not.toContain(secret);
  });
});

describe("recording.completed", () => {
  async function withEndpoints() {
    const t = await startedEgress();
    const host = receiverHost();
    const received = fakeReceiver(host, [200]);
    const all = await createEndpoint(t.user.token, t.project.id, { url: `https://${host}/all` });
    const endedOnly = await createEndpoint(t.user.token, t.project.id, { url: `https://${host}/ended`, events: ["egress.ended"] });
    return { ...t, received, all, endedOnly };
  }

  const messages = async (endpointId: string) =>
    (await env.DB.prepare("SELECT event_type FROM webhook_messages WHERE endpoint_id = ? ORDER BY created_at, rowid").bind(endpointId).all<{ event_type: string }>()).results.map(
      (m) => m.event_type,
    );

  it("follows egress.ended once per completed recording, carrying the egress record with its results", async () => {
    const t = await withEndpoints();
    const ended = await sendEvent({ event: "egress_ended", room: { sid: "RM_1", name: t.wireRoom }, egressInfo: finishedInfo(t.project.id, t.egress.egress_id) });
    expect(ended.res.status).toBe(200);

    await vi.waitFor(() => expect(t.received.filter((r) => r.url.endsWith("/all"))).toHaveLength(2), { timeout: 15_000, interval: 100 });
    const payloads = t.received.filter((r) => r.url.endsWith("/all")).map((r) => new Webhook(t.all.secret).verify(r.body, r.headers) as Record<string, any>);
    const completed = payloads.find((p) => p.type === "recording.completed")!;
    const record = (await call("GET", `/v1/egress/${t.egress.id}`, { token: t.key.secret })).body;
    expect(completed.data.egress).toEqual(record);
    expect(completed.data.egress.file_results[0].filename).toBe("rec/show.mp4");
    for (const secret of SECRETS) expect(JSON.stringify(completed)).not.toContain(secret);
    expect(await messages(t.all.id)).toEqual(["egress.ended", "recording.completed"]);
    expect(await messages(t.endedOnly.id)).toEqual(["egress.ended"]);

    // A replay, and the same end reported again under another event id, send nothing twice.
    expect((await replay(ended.body)).status).toBe(200);
    await deliverLivekitEvent({ event: "egress_ended", room: { sid: "RM_1", name: t.wireRoom }, egressInfo: finishedInfo(t.project.id, t.egress.egress_id) });
    expect((await messages(t.all.id)).filter((m) => m === "recording.completed")).toHaveLength(1);
  });

  it("is not sent for a failed egress, which gets egress.ended with its error, nor for one that only streamed", async () => {
    const failed = await withEndpoints();
    await deliverLivekitEvent({
      event: "egress_ended",
      room: { sid: "RM_1", name: failed.wireRoom },
      egressInfo: finishedInfo(failed.project.id, failed.egress.egress_id, { status: "EGRESS_FAILED", error: "upload failed: access denied" }),
    });
    await vi.waitFor(() => expect(failed.received.filter((r) => r.url.endsWith("/all"))).toHaveLength(1), { timeout: 15_000, interval: 100 });
    const payload = new Webhook(failed.all.secret).verify(failed.received[0]!.body, failed.received[0]!.headers) as Record<string, any>;
    // LiveKit's own text stays with the operators; the tenant gets the status's public text.
    expect([payload.type, payload.data.egress.status, payload.data.egress.error]).toEqual(["egress.ended", "EGRESS_FAILED", "egress failed"]);
    expect(await messages(failed.all.id)).toEqual(["egress.ended"]);

    const streamed = await withEndpoints();
    const { fileResults: _f, segmentResults: _s, ...streamOnly } = finishedInfo(streamed.project.id, streamed.egress.egress_id);
    await deliverLivekitEvent({ event: "egress_ended", room: { sid: "RM_1", name: streamed.wireRoom }, egressInfo: streamOnly });
    expect(await messages(streamed.all.id)).toEqual(["egress.ended"]);
    expect(fake.violations).toEqual([]);
  });
});
