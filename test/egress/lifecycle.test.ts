/**
 * Records follow LiveKit's webhooks, delivered through the real `POST /v1/livekit/webhook` and
 * signed the way a LiveKit server signs them; minutes are metered once the stream has ended.
 */
import { describe, expect, it } from "vitest";
import { call } from "../support/api";
import { createTenant } from "../support/factories";
import { useFakeLivekit } from "../support/fake-livekit";
import { deliverLivekitEvent, ns, usageEventsOf } from "../support/livekit-webhook";

const livekit = useFakeLivekit();

const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");

const usage = usageEventsOf;
const deliver = deliverLivekitEvent;

describe("egress lifecycle from LiveKit's webhooks", () => {
  it("moves a room-composite egress from starting to active to complete and meters its minutes once", async () => {
    const t = await createTenant();
    const started = await call("POST", "/v1/egress", { token: t.key.secret, body: { type: "room_composite", room: "show", file_outputs: [{ filepath: "show.mp4" }] } });
    expect(started.body.status).toBe("EGRESS_STARTING");
    const egressId = started.body.egress_id;
    const wireRoom = `${t.project.id}:show`;
    const t0 = Math.floor(Date.now() / 1000) * 1000 - 10 * 60_000;

    await deliver({
      event: "egress_started",
      room: { sid: "RM_1", name: wireRoom },
      egressInfo: { egressId, roomId: "RM_1", roomName: wireRoom, status: "EGRESS_ACTIVE", startedAt: ns(t0), updatedAt: ns(t0) },
    });
    let got = await call("GET", `/v1/egress/${started.body.id}`, { token: t.key.secret });
    expect(got.body).toMatchObject({ status: "EGRESS_ACTIVE", started_at: iso(t0), ended_at: null, error: null });
    expect(await usage(t.project.id, "egress_minutes")).toEqual([]);
    expect((await call("GET", "/v1/egress?active=true", { token: t.key.secret })).body.data).toHaveLength(1);

    const ended = {
      id: `EV_end_${egressId}`,
      event: "egress_ended",
      room: { sid: "RM_1", name: wireRoom },
      // 2 min 5 s of recording: billed as 3 whole minutes.
      egressInfo: { egressId, roomId: "RM_1", roomName: wireRoom, status: "EGRESS_COMPLETE", startedAt: ns(t0), endedAt: ns(t0 + 125_000), updatedAt: ns(t0 + 125_000) },
    };
    await deliver(ended);
    got = await call("GET", `/v1/egress/${started.body.id}`, { token: t.key.secret });
    expect(got.body).toMatchObject({ status: "EGRESS_COMPLETE", started_at: iso(t0), ended_at: iso(t0 + 125_000) });
    expect(await usage(t.project.id, "egress_minutes")).toEqual([{ quantity: 3, source_id: egressId, occurred_at: t0 + 125_000 }]);
    expect((await call("GET", "/v1/egress?active=true", { token: t.key.secret })).body.data).toHaveLength(0);

    // A replay, a second copy under another event id, and a late "active" change nothing.
    await deliver(ended);
    await deliver({ ...ended, id: `EV_again_${egressId}` });
    await deliver({ event: "egress_updated", room: { sid: "RM_1", name: wireRoom }, egressInfo: { egressId, roomName: wireRoom, status: "EGRESS_ACTIVE", startedAt: ns(t0) } });
    got = await call("GET", `/v1/egress/${started.body.id}`, { token: t.key.secret });
    expect(got.body.status).toBe("EGRESS_COMPLETE");
    expect(await usage(t.project.id, "egress_minutes")).toHaveLength(1);
  });

  it("records a failed egress's error and status", async () => {
    const t = await createTenant();
    const started = await call("POST", "/v1/egress", { token: t.key.secret, body: { type: "room_composite", room: "r", stream_outputs: [{ urls: ["rtmp://x.example.com/live/k"] }] } });
    const wireRoom = `${t.project.id}:r`;
    const t0 = Date.now() - 60_000;
    await deliver({ event: "egress_started", egressInfo: { egressId: started.body.egress_id, roomName: wireRoom, status: "EGRESS_ACTIVE", startedAt: ns(t0) } });
    await deliver({
      event: "egress_ended",
      egressInfo: { egressId: started.body.egress_id, roomName: wireRoom, status: "EGRESS_FAILED", error: "rtmp connection refused", startedAt: ns(t0), endedAt: ns(t0 + 30_000) },
    });
    const got = await call("GET", `/v1/egress/${started.body.id}`, { token: t.key.secret });
    expect(got.body).toMatchObject({ status: "EGRESS_FAILED", error: "egress failed", ended_at: iso(t0 + 30_000) });
    expect((await usage(t.project.id, "egress_minutes")).map((u) => u.quantity)).toEqual([1]);
  });

  it("follows a web egress, which has no room, by its LiveKit id", async () => {
    const t = await createTenant();
    const started = await call("POST", "/v1/egress", { token: t.key.secret, body: { type: "web", url: "https://example.com", file_outputs: [{ filepath: "w.mp4" }] } });
    const t0 = Date.now() - 5 * 60_000;
    await deliver({ event: "egress_started", egressInfo: { egressId: started.body.egress_id, status: "EGRESS_ACTIVE", startedAt: ns(t0) } });
    await deliver({ event: "egress_ended", egressInfo: { egressId: started.body.egress_id, status: "EGRESS_COMPLETE", startedAt: ns(t0), endedAt: ns(t0 + 60_000) } });
    const got = await call("GET", `/v1/egress/${started.body.id}`, { token: t.key.secret });
    expect(got.body).toMatchObject({ status: "EGRESS_COMPLETE", room: null });
    expect((await usage(t.project.id, "egress_minutes")).map((u) => u.quantity)).toEqual([1]);
  });

  it("ignores an event that names another project's room, even with this project's egress id", async () => {
    const a = await createTenant();
    const b = await createTenant();
    const started = await call("POST", "/v1/egress", { token: a.key.secret, body: { type: "room_composite", room: "r", file_outputs: [{ filepath: "a.mp4" }] } });
    await deliver({
      event: "egress_ended",
      egressInfo: { egressId: started.body.egress_id, roomName: `${b.project.id}:r`, status: "EGRESS_COMPLETE", startedAt: ns(Date.now() - 60_000), endedAt: ns(Date.now()) },
    });
    expect((await call("GET", `/v1/egress/${started.body.id}`, { token: a.key.secret })).body.status).toBe("EGRESS_STARTING");
    expect(await usage(a.project.id, "egress_minutes")).toEqual([]);
    expect(await usage(b.project.id, "egress_minutes")).toEqual([]);
  });
});

describe("egress events out of order", () => {
  it("keeps an egress complete when its start arrives after its end", async () => {
    const t = await createTenant();
    const started = await call("POST", "/v1/egress", { token: t.key.secret, body: { type: "track", room: "r", track_id: "TR_1", file: { filepath: "t.ogg" } } });
    const wireRoom = `${t.project.id}:r`;
    const t0 = Date.now() - 3 * 60_000;
    const egressId = started.body.egress_id;
    await deliver({ event: "egress_ended", egressInfo: { egressId, roomName: wireRoom, status: "EGRESS_COMPLETE", startedAt: ns(t0), endedAt: ns(t0 + 90_000) } });
    await deliver({ event: "egress_started", egressInfo: { egressId, roomName: wireRoom, status: "EGRESS_ACTIVE", startedAt: ns(t0) } });
    const got = await call("GET", `/v1/egress/${started.body.id}`, { token: t.key.secret });
    expect(got.body).toMatchObject({ status: "EGRESS_COMPLETE", started_at: iso(t0), ended_at: iso(t0 + 90_000) });
    expect((await usage(t.project.id, "egress_minutes")).map((u) => u.quantity)).toEqual([2]);
  });
});

describe("the OpenAPI document", () => {
  it("describes the egress and ingress routes", async () => {
    const res = await call("GET", "/v1/openapi.json");
    expect(res.status).toBe(200);
    for (const path of ["/v1/egress", "/v1/egress/{eg_id}", "/v1/egress/{eg_id}/stop", "/v1/ingress", "/v1/ingress/{ing_id}"]) {
      expect(Object.keys(res.body.paths)).toContain(path);
    }
    expect(res.body.components.schemas.StartEgress).toBeDefined();
  });
});
