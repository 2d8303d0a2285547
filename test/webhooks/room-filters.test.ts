/**
 * Per-endpoint room filters: `rooms: ["pattern*", …]` globs on the tenant's own room names
 * (`*` only, everything else exact); events about no room are still delivered.
 */
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { roomMatches } from "../../src/webhooks/room-filter";
import { call, expectEnvelope } from "../support/api";
import { createTenant } from "../support/factories";
import { participant, sendEvent } from "../support/livekit-webhook";
import { createEndpoint, fakeReceiver, receiverHost } from "../support/webhook-receiver";

afterEach(() => {
  vi.restoreAllMocks();
});

async function roomsMessaged(endpointId: string) {
  const { results } = await env.DB.prepare("SELECT payload FROM webhook_messages WHERE endpoint_id = ? ORDER BY created_at").bind(endpointId).all<{ payload: string }>();
  return results.map((r) => JSON.parse(r.payload) as { type: string; data: Record<string, any> });
}

describe("room filters", () => {
  it("matches `*` against any run of characters and everything else byte for byte", () => {
    const cases: [string, string, boolean][] = [
      ["support-*", "support-42", true],
      ["support-*", "support-", true],
      ["support-*", "Support-42", false],
      ["*-prod", "eu-prod", true],
      ["*-prod", "eu-prod-2", false],
      ["a*b*c", "a-x-b-y-c", true],
      ["a*b*c", "acb", false],
      ["*", "", true],
      ["standup", "standup", true],
      ["standup", "standup2", false],
      ["caf\u00e9", "cafe\u0301", false],
      ["r.o.o.m", "rXoXoXm", false],
      ["[a]", "a", false],
      ["a**", "a", true],
    ];
    for (const [pattern, name, expected] of cases) expect(roomMatches(pattern, name), `${pattern} ~ ${name}`).toBe(expected);
  });

  it("stores and returns the patterns, validates them, and clears them with null", async () => {
    const { user, project } = await createTenant();
    const ep = await createEndpoint(user.token, project.id, { url: "https://a.example.com/", rooms: ["support-*", "ünïcødé 🚀"] });
    const base = `/v1/projects/${project.id}/webhooks/${ep.id}`;
    expect((await call("GET", base, { token: user.token })).body.rooms).toEqual(["support-*", "ünïcødé 🚀"]);
    for (const rooms of [[], [""], ["x".repeat(129)], Array.from({ length: 21 }, (_, i) => `r${i}`), ["a", "a"], "support-*", [1]]) {
      expectEnvelope(await call("POST", `/v1/projects/${project.id}/webhooks`, { token: user.token, body: { url: "https://b.example.com/", rooms } }), 400, "validation_failed");
      expectEnvelope(await call("PATCH", base, { token: user.token, body: { rooms } }), 400, "validation_failed");
    }
    expect((await call("PATCH", base, { token: user.token, body: { rooms: null } })).body.rooms).toBeNull();
  });

  it("sends an endpoint only the events of matching rooms, and events about no room whatever the filter", async () => {
    const { user, project, key } = await createTenant();
    const host = receiverHost();
    fakeReceiver(host, [200]);
    const filtered = await createEndpoint(user.token, project.id, { url: `https://${host}/f`, rooms: ["support-*"] });
    const everything = await createEndpoint(user.token, project.id, { url: `https://${host}/all` });

    for (const room of ["support-1", "sales-1", "support"]) {
      const sent = await sendEvent({ event: "participant_joined", room: { sid: `RM_${room}`, name: `${project.id}:${room}` }, participant: participant(`PA_${room}`, "alice", Date.now()) });
      expect(sent.res.status).toBe(200);
    }
    // An egress about a room follows the filter too.
    await sendEvent({ event: "egress_started", egressInfo: { egressId: "EG_filter1", roomName: `${project.id}:sales-1`, status: "EGRESS_STARTING" } });
    await vi.waitFor(async () => expect(await roomsMessaged(everything.id)).toHaveLength(4), { timeout: 15_000, interval: 100 });
    const got = await roomsMessaged(filtered.id);
    expect(got.map((m) => m.data.room?.name ?? m.data.egress?.room)).toEqual(["support-1"]);

    // The endpoint's own test is about no room: delivered despite the filter.
    const test = await call("POST", `/v1/webhooks/${filtered.id}/test`, { token: key.secret });
    expect(test.status).toBe(202);
    expect((await roomsMessaged(filtered.id)).map((m) => m.type)).toEqual(["participant.joined", "webhook.test"]);
  });
});
