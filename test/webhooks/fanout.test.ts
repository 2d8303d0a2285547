import { env } from "cloudflare:workers";
import { Webhook } from "standardwebhooks";
import { afterEach, describe, expect, it, vi } from "vitest";
import { call } from "../support/api";
import { createTenant } from "../support/factories";
import { participant, replay, sendEvent } from "../support/livekit-webhook";
import { consume, createEndpoint, fakeReceiver, messageRow, pendingMessage, receiverHost } from "../support/webhook-receiver";

afterEach(() => {
  vi.restoreAllMocks();
});

async function messagesOf(endpointId: string) {
  return (await env.DB.prepare("SELECT * FROM webhook_messages WHERE endpoint_id = ?").bind(endpointId).all()).results as Record<string, any>[];
}

describe("LiveKit events fanned out to tenant endpoints", () => {
  it("delivers participant.joined through the real queue, signed, with the tenant's own room name, only to subscribed endpoints", async () => {
    const { user, project } = await createTenant();
    const host = receiverHost();
    const received = fakeReceiver(host, [200]);
    const subscribed = await createEndpoint(user.token, project.id, { url: `https://${host}/a`, events: ["participant.joined"] });
    const other = await createEndpoint(user.token, project.id, { url: `https://${host}/b`, events: ["room.finished"] });
    const everything = await createEndpoint(user.token, project.id, { url: `https://${host}/c` });

    const sent = await sendEvent({
      event: "participant_joined",
      room: { sid: "RM_fan", name: `${project.id}:standup` },
      participant: participant("PA_fan", "alice", Date.now()),
    });
    expect(sent.res.status).toBe(200);

    await vi.waitFor(() => expect(received).toHaveLength(2), { timeout: 15_000, interval: 100 });
    const byPath = Object.fromEntries(received.map((r) => [new URL(r.url).pathname, r]));
    expect(Object.keys(byPath).sort()).toEqual(["/a", "/c"]);
    const a = byPath["/a"]!;
    const payload = new Webhook(subscribed.secret).verify(a.body, a.headers) as Record<string, any>;
    expect(payload.type).toBe("participant.joined");
    expect(payload.data.room).toEqual({ name: "standup", sid: "RM_fan" });
    expect(payload.data.participant).toMatchObject({ sid: "PA_fan", identity: "alice" });
    expect(a.body).not.toContain(project.id);
    new Webhook(everything.secret).verify(byPath["/c"]!.body, byPath["/c"]!.headers);
    expect(await messagesOf(other.id)).toHaveLength(0);

    // A replay of the event makes no second message.
    await replay(sent.body);
    expect(await messagesOf(subscribed.id)).toHaveLength(1);
    await vi.waitFor(async () => expect((await messagesOf(subscribed.id))[0]!.status).toBe("delivered"), { timeout: 10_000 });
  });

  it("resends a failed message on request, keeping its id", async () => {
    const { user, project } = await createTenant();
    const host = receiverHost();
    const endpoint = await createEndpoint(user.token, project.id, { url: `https://${host}/hook` });
    const received = fakeReceiver(host, [410, 200]);
    const msg = await pendingMessage(project.id, endpoint.id);
    await consume(msg.id, 1); // 410: failed, endpoint disabled
    expect(await messageRow(msg.id)).toMatchObject({ status: "failed" });

    const path = `/v1/projects/${project.id}/webhooks/${endpoint.id}`;
    expect((await call("POST", `${path}/deliveries/${msg.id}/retry`, { token: user.token })).status).toBe(409);
    await call("PATCH", path, { token: user.token, body: { enabled: true } });
    const retry = await call("POST", `${path}/deliveries/${msg.id}/retry`, { token: user.token });
    expect(retry.status).toBe(202);
    expect(retry.body).toMatchObject({ id: msg.id, status: "pending" });
    await vi.waitFor(async () => expect((await messageRow(msg.id)).status).toBe("delivered"), { timeout: 15_000, interval: 100 });
    expect(received.map((r) => r.headers["webhook-id"])).toEqual([msg.id, msg.id]);
    const log = await call("GET", `${path}/deliveries`, { token: user.token });
    expect(log.body.data[0].attempts.map((a: any) => [a.attempt, a.status_code])).toEqual([
      [1, 410],
      [2, 200],
    ]);
  });

  it("fans out egress events with the tenant's room name and no namespace", async () => {
    const { user, project } = await createTenant();
    const host = receiverHost();
    fakeReceiver(host, [200]);
    const endpoint = await createEndpoint(user.token, project.id, { url: `https://${host}/eg`, events: ["egress.ended"] });
    const sent = await sendEvent({
      event: "egress_ended",
      egressInfo: { egressId: "EG_fan", roomName: `${project.id}:town hall`, status: "EGRESS_COMPLETE", startedAt: "1795000000000000000", endedAt: "1795000090000000000" },
    });
    expect(sent.res.status).toBe(200);
    const [message] = await messagesOf(endpoint.id);
    const payload = JSON.parse(message!.payload);
    expect(payload).toMatchObject({
      type: "egress.ended",
      data: { egress: { egress_id: "EG_fan", room: "town hall", status: "EGRESS_COMPLETE", started_at: "2026-11-18T11:06:40Z", ended_at: "2026-11-18T11:08:10Z" } },
    });
    expect(message!.payload).not.toContain(project.id);
  });

  it("returns 404 when retrying another endpoint's message", async () => {
    const { user, project } = await createTenant();
    const e1 = await createEndpoint(user.token, project.id, { url: "https://one.example.com/" });
    const e2 = await createEndpoint(user.token, project.id, { url: "https://two.example.com/" });
    const msg = await pendingMessage(project.id, e1.id);
    const res = await call("POST", `/v1/projects/${project.id}/webhooks/${e2.id}/deliveries/${msg.id}/retry`, { token: user.token });
    expect(res.status).toBe(404);
  });
});
