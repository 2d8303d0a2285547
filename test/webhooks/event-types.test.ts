/**
 * The event catalog (`GET /v1/webhook-event-types`, rendered into the docs) against what Pulse
 * really sends: for every type, a real event goes through Pulse's own path (a signed LiveKit
 * webhook in, the fan-out, the stored body; the `test` action for `webhook.test`) and its body must
 * have the example's shape, key for key, so the catalog cannot drift from the code.
 */
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { WEBHOOK_EVENT_CATALOG } from "../../src/webhooks/event-catalog";
import { WEBHOOK_EVENT_TYPES } from "../../src/webhooks/event-types";
import { call } from "../support/api";
import { createTenant } from "../support/factories";
import { ns, participant, sendEvent } from "../support/livekit-webhook";
import { useFakeLivekit } from "../support/fake-livekit";
import { createEndpoint, fakeReceiver, receiverHost } from "../support/webhook-receiver";

useFakeLivekit();

afterEach(() => {
  vi.restoreAllMocks();
});

/** The keys of a JSON value, recursively (arrays by their first item); leaves are just "leaf". */
function shape(value: unknown): unknown {
  if (Array.isArray(value)) return value.length ? [shape(value[0])] : [];
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.keys(value).sort().map((k) => [k, shape((value as Record<string, unknown>)[k])]));
  }
  return "leaf";
}

describe("the webhook event catalog", () => {
  it("lists every event type Pulse sends, each with a description and an example, without authentication", async () => {
    const res = await call("GET", "/v1/webhook-event-types");
    expect(res.status).toBe(200);
    expect(res.body.next_cursor).toBeNull();
    expect(res.body.data.map((e: { type: string }) => e.type)).toEqual([...WEBHOOK_EVENT_TYPES, "webhook.test"]);
    for (const entry of res.body.data) {
      expect(entry.description.length).toBeGreaterThan(10);
      expect(entry.example.type).toBe(entry.type);
      expect(Number.isNaN(Date.parse(entry.example.timestamp))).toBe(false);
    }
    expect(res.body.data).toEqual(JSON.parse(JSON.stringify(WEBHOOK_EVENT_CATALOG)));
  });

  it("accepts, as an endpoint's events, every type the list shows (webhook.test included)", async () => {
    const { user, project } = await createTenant();
    const types = (await call("GET", "/v1/webhook-event-types")).body.data.map((e: { type: string }) => e.type);
    const created = await call("POST", `/v1/projects/${project.id}/webhooks`, { token: user.token, body: { url: "https://hooks.example.com/all", events: types } });
    expect(created.status, created.text).toBe(201);
    expect(created.body.events).toEqual(types);
  });

  it("has an example of the same shape as a real delivered body, for every type", async () => {
    const { user, project, key } = await createTenant();
    const host = receiverHost();
    fakeReceiver(host, [200]);
    const endpoint = await createEndpoint(user.token, project.id, { url: `https://${host}/all` });
    const now = Date.now();
    const room = { sid: "RM_catalog", name: `${project.id}:standup` };
    const alice = participant("PA_catalog", "alice", now);
    const track = { sid: "TR_catalog", type: "VIDEO", source: "CAMERA", name: "camera", mimeType: "video/VP8", muted: false };
    // A real egress, so that its completion also sends recording.completed.
    const started = await call("POST", "/v1/egress", { token: key.secret, body: { type: "room_composite", room: "standup", file_outputs: [{ filepath: "standup.mp4" }] } });
    expect(started.status, started.text).toBe(201);
    const file = { filename: `${project.id}/standup.mp4`, location: "https://bucket.example.com/standup.mp4?sig=x", size: "1024", duration: "1000000000" };
    const egress = (status: string) => ({
      egressId: started.body.egress_id,
      roomName: room.name,
      status,
      startedAt: ns(now),
      ...(status === "EGRESS_COMPLETE" ? { endedAt: ns(now + 1000), fileResults: [file] } : {}),
    });
    const ingress = (status: string) => ({ ingressId: "IN_catalog", name: "OBS", roomName: room.name, participantIdentity: "obs", state: { status, startedAt: ns(now) } });
    const events: Record<string, unknown>[] = [
      { event: "room_started", room },
      { event: "participant_joined", room, participant: alice },
      { event: "track_published", room, participant: alice, track },
      { event: "track_unpublished", room, participant: alice, track },
      { event: "participant_left", room, participant: alice },
      { event: "egress_started", egressInfo: egress("EGRESS_STARTING") },
      { event: "egress_updated", egressInfo: egress("EGRESS_ACTIVE") },
      { event: "egress_ended", egressInfo: egress("EGRESS_COMPLETE") },
      { event: "ingress_started", ingressInfo: ingress("ENDPOINT_PUBLISHING") },
      { event: "ingress_ended", ingressInfo: ingress("ENDPOINT_INACTIVE") },
      { event: "room_finished", room },
    ];
    for (const event of events) expect((await sendEvent(event)).res.status).toBe(200);
    expect((await call("POST", `/v1/webhooks/${endpoint.id}/test`, { token: key.secret })).status).toBe(202);

    let bodies: Record<string, unknown>[] = [];
    await vi.waitFor(async () => {
      const { results } = await env.DB.prepare("SELECT payload FROM webhook_messages WHERE endpoint_id = ?").bind(endpoint.id).all<{ payload: string }>();
      bodies = results.map((r) => JSON.parse(r.payload));
      expect(bodies).toHaveLength(WEBHOOK_EVENT_CATALOG.length);
    }, { timeout: 15_000, interval: 100 });
    const byType = new Map(bodies.map((b) => [b.type as string, b]));
    for (const entry of WEBHOOK_EVENT_CATALOG) {
      const real = byType.get(entry.type);
      expect(real, `a real ${entry.type}`).toBeDefined();
      expect(shape(entry.example), entry.type).toEqual(shape(real));
    }
  });
});
