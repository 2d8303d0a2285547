import { env } from "cloudflare:workers";
import { WebhookReceiver } from "livekit-server-sdk";
import { afterEach, describe, expect, it, vi } from "vitest";
import { setClock } from "../../src/lib/clock";
import { BASE, call, expectEnvelope, readResponse } from "../support/api";
import { createTenant } from "../support/factories";
import { createLivekitKey } from "../support/livekit-keys";
import { deliverLivekitEvent } from "../support/livekit-webhook";
import { interleavedD1 } from "../support/interleaved-d1";
import { auditActions, joinOrg } from "../support/team";
import { fetchWithEnv } from "../support/worker-env";
import { consume, createEndpoint, fakeReceiver, messageRow, pendingLivekitMessage, receiverHost } from "../support/webhook-receiver";

afterEach(() => vi.restoreAllMocks());

async function livekitEndpoint() {
  const tenant = await createTenant();
  const lk = await createLivekitKey(tenant.user, tenant.project.id);
  const host = receiverHost();
  const endpoint = await createEndpoint(tenant.user.token, tenant.project.id, { url: `https://${host}/livekit`, format: "livekit", livekit_key_id: lk.id });
  return { ...tenant, lk, host, endpoint };
}

async function messagesOf(endpointId: string) {
  const { results } = await env.DB.prepare("SELECT id, event_type FROM webhook_messages WHERE endpoint_id = ? ORDER BY created_at").bind(endpointId).all<{ id: string; event_type: string }>();
  return results;
}

describe("webhook endpoints in LiveKit's format", () => {
  it("deliver LiveKit's WebhookEvent with the tenant's room names, verified by livekit-server-sdk's WebhookReceiver", async () => {
    const { project, lk, host, endpoint } = await livekitEndpoint();
    const received = fakeReceiver(host, [200]);
    await deliverLivekitEvent({ event: "room_started", room: { sid: "RM_1", name: `${project.id}:standup`, creationTime: "1764579600" } });
    const [message] = await messagesOf(endpoint.id);
    expect(message!.event_type).toBe("room.started");
    await consume(message!.id, 1);

    expect(received).toHaveLength(1);
    expect(received[0]!.headers["content-type"]).toBe("application/webhook+json");
    expect(received[0]!.body).not.toContain(project.id);
    const event = await new WebhookReceiver(lk.api_key, lk.api_secret).receive(received[0]!.body, received[0]!.headers.authorization);
    expect(event.event).toBe("room_started");
    expect(event.room?.name).toBe("standup");
    expect(event.room?.sid).toBe("RM_1");
    // Signed with the endpoint's LiveKit key, never the deployment's.
    await expect(new WebhookReceiver(env.LIVEKIT_API_KEY!, env.LIVEKIT_API_SECRET!).receive(received[0]!.body, received[0]!.headers.authorization)).rejects.toThrow();
    expect((await messageRow(message!.id)).status).toBe("delivered");
  });

  it("leave out an ingress's stream key: not sent, not stored, not in a viewer's delivery log", async () => {
    const { project, org, user, lk, host, endpoint } = await livekitEndpoint();
    const received = fakeReceiver(host, [200]);
    const streamKey = "sk_publishIntoTheRoom42";
    await deliverLivekitEvent({
      event: "ingress_started",
      ingressInfo: { ingressId: "IN_key1", streamKey, url: "rtmp://ingest.example.com/x", roomName: `${project.id}:stage`, inputType: "RTMP_INPUT", state: { status: "ENDPOINT_PUBLISHING" } },
    });
    const [message] = await messagesOf(endpoint.id);
    expect(message!.event_type).toBe("ingress.started");
    const stored = await env.DB.prepare("SELECT payload FROM webhook_messages WHERE id = ?").bind(message!.id).first<{ payload: string }>();
    expect(stored!.payload).not.toContain(streamKey);
    await consume(message!.id, 1);

    const event = await new WebhookReceiver(lk.api_key, lk.api_secret).receive(received[0]!.body, received[0]!.headers.authorization);
    expect([event.ingressInfo?.ingressId, event.ingressInfo?.roomName, event.ingressInfo?.url, event.ingressInfo?.streamKey]).toEqual(["IN_key1", "stage", "rtmp://ingest.example.com/x", ""]);
    expect(received[0]!.body).not.toContain(streamKey);

    const viewer = await joinOrg(user, org.id, "viewer");
    const log = await call("GET", `/v1/projects/${project.id}/webhooks/${endpoint.id}/deliveries`, { token: viewer.token });
    expect(log.status).toBe(200);
    expect(log.body.data).toHaveLength(1);
    expect(log.text).not.toContain(streamKey);
  });

  it("sign every attempt afresh: a retry carries a new token for the same body, and it verifies", async () => {
    const { project, lk, host, endpoint } = await livekitEndpoint();
    const received = fakeReceiver(host, [503, 200]);
    // Never enqueued: the real queue consumer must not take the first attempt before the clock is set.
    const message = await pendingLivekitMessage(project.id, endpoint.id, "egress.started", {
      event: "egress_started",
      id: "EV_w1",
      createdAt: "1764579600",
      egressInfo: { egressId: "EG_w1", roomName: `${project.id}:hall`, status: "EGRESS_ACTIVE" },
    });
    setClock(() => Date.now() - 60_000);
    await consume(message.id, 1);
    setClock(null);
    await consume(message.id, 2);
    expect(received).toHaveLength(2);
    expect(received[1]!.headers.authorization).not.toBe(received[0]!.headers.authorization);
    expect(received[1]!.body).toBe(received[0]!.body);
    const event = await new WebhookReceiver(lk.api_key, lk.api_secret).receive(received[1]!.body, received[1]!.headers.authorization);
    expect(event.egressInfo?.roomName).toBe("hall");
    expect(event.egressInfo?.egressId).toBe("EG_w1");
  });

  it("answer the test action with a room_started for room pulse-webhook-test", async () => {
    const { user, project, lk, host, endpoint } = await livekitEndpoint();
    const received = fakeReceiver(host, [200]);
    const test = await call("POST", `/v1/projects/${project.id}/webhooks/${endpoint.id}/test`, { token: user.token });
    expect(test.status, test.text).toBe(202);
    await consume(test.body.id, 1);
    const event = await new WebhookReceiver(lk.api_key, lk.api_secret).receive(received[0]!.body, received[0]!.headers.authorization);
    expect([event.event, event.room?.name]).toEqual(["room_started", "pulse-webhook-test"]);
    expect(event.id).toMatch(/^EV_/);
  });

  it("are disabled, audited, when their LiveKit key is deleted, and send nothing after", async () => {
    const { user, org, project, lk, host, endpoint } = await livekitEndpoint();
    const received = fakeReceiver(host, [200]);
    // A delivery already waiting when the key goes, never enqueued: the real queue consumer (which
    // runs a second after a send) must not deliver it before the key is deleted.
    const message = await pendingLivekitMessage(project.id, endpoint.id, "room.finished", { event: "room_finished", id: "EV_w2", room: { sid: "RM_2", name: `${project.id}:standup` } });
    expect((await call("DELETE", `/v1/projects/${project.id}/livekit-keys/${lk.id}`, { token: user.token })).status).toBe(204);

    const shown = await call("GET", `/v1/projects/${project.id}/webhooks/${endpoint.id}`, { token: user.token });
    expect(shown.body).toMatchObject({ enabled: false, format: "livekit", livekit_key_id: lk.id, disabled_reason: "Its LiveKit key was deleted." });
    expect((await auditActions(org.id, endpoint.id)).map((a) => a.action)).toEqual(["webhook_endpoint.created", "webhook_endpoint.disabled"]);
    await consume(message.id, 1);
    expect(received).toEqual([]);
    expect((await messageRow(message.id)).status).toBe("failed");
    // It cannot be enabled again without a key to sign with: 409, nothing changed or audited.
    const reenabled = await call("PATCH", `/v1/projects/${project.id}/webhooks/${endpoint.id}`, { token: user.token, body: { enabled: true } });
    expectEnvelope(reenabled, 409, "conflict");
    expect(reenabled.body.error.message).toContain("LiveKit key was deleted");
    expect((await call("GET", `/v1/projects/${project.id}/webhooks/${endpoint.id}`, { token: user.token })).body).toMatchObject({ enabled: false, disabled_reason: "Its LiveKit key was deleted." });
    expect((await auditActions(org.id, endpoint.id)).map((a) => a.action)).toEqual(["webhook_endpoint.created", "webhook_endpoint.disabled"]);
    // Its other fields can still change.
    expect((await call("PATCH", `/v1/projects/${project.id}/webhooks/${endpoint.id}`, { token: user.token, body: { description: "retired" } })).status).toBe(200);
    await deliverLivekitEvent({ event: "room_started", room: { sid: "RM_3", name: `${project.id}:standup` } });
    expect((await messagesOf(endpoint.id)).map((m) => m.id)).toEqual([message.id]);
    expect(received).toEqual([]);
  });

  it("are not created signing with a key deleted between the create's check and its write", async () => {
    const { user, project, lk } = await livekitEndpoint();
    const url = `https://${receiverHost()}/late`;
    const { db, ran } = interleavedD1(env.DB, /^insert into "webhook_endpoints"/, async () => {
      expect((await call("DELETE", `/v1/projects/${project.id}/livekit-keys/${lk.id}`, { token: user.token })).status).toBe(204);
    });
    const res = await fetchWithEnv(
      { DB: db },
      new Request(`${BASE}/v1/projects/${project.id}/webhooks`, {
        method: "POST",
        headers: { Authorization: `Bearer ${user.token}`, "Content-Type": "application/json" },
        body: JSON.stringify({ url, format: "livekit", livekit_key_id: lk.id }),
      }),
    );
    expect(ran()).toBe(true);
    const error = expectEnvelope(await readResponse(res), 400, "validation_failed");
    expect(error.message).toContain("livekit_key_id");
    expect(await env.DB.prepare("SELECT COUNT(*) AS n FROM webhook_endpoints WHERE url = ?").bind(url).first<{ n: number }>()).toEqual({ n: 0 });
  });

  it("are disabled with their key when created between the deletion's read and its write, audited", async () => {
    const { user, org, project, lk } = await livekitEndpoint();
    let late: { id: string } | undefined;
    const { db, ran } = interleavedD1(env.DB, /^update "livekit_keys"/, async () => {
      late = await createEndpoint(user.token, project.id, { url: `https://${receiverHost()}/late`, format: "livekit", livekit_key_id: lk.id });
    });
    const res = await fetchWithEnv({ DB: db }, new Request(`${BASE}/v1/projects/${project.id}/livekit-keys/${lk.id}`, { method: "DELETE", headers: { Authorization: `Bearer ${user.token}` } }));
    expect(res.status).toBe(204);
    expect(ran()).toBe(true);
    const shown = await call("GET", `/v1/projects/${project.id}/webhooks/${late!.id}`, { token: user.token });
    expect(shown.body).toMatchObject({ enabled: false, disabled_reason: "Its LiveKit key was deleted." });
    const audited = await auditActions(org.id, late!.id);
    expect(audited.map((a) => a.action).sort()).toEqual(["webhook_endpoint.created", "webhook_endpoint.disabled"]);
    const disabled = audited.find((a) => a.action === "webhook_endpoint.disabled")!;
    expect([disabled.actor_id, JSON.parse(disabled.metadata)]).toEqual([user.id, { reason: "livekit_key_deleted", livekit_key_id: lk.id }]);
  });

  it("need a LiveKit key of their own project", async () => {
    const a = await createTenant();
    const b = await createTenant();
    const theirs = await createLivekitKey(b.user, b.project.id);
    const url = `https://${receiverHost()}/x`;
    const path = `/v1/projects/${a.project.id}/webhooks`;
    expectEnvelope(await call("POST", path, { token: a.user.token, body: { url, format: "livekit" } }), 400, "validation_failed");
    expectEnvelope(await call("POST", path, { token: a.user.token, body: { url, format: "livekit", livekit_key_id: theirs.id } }), 400, "validation_failed");
    expectEnvelope(await call("POST", path, { token: a.user.token, body: { url, livekit_key_id: theirs.id } }), 400, "validation_failed");
    const standard = await call("POST", path, { token: a.user.token, body: { url } });
    expect(standard.body).toMatchObject({ format: "standard", livekit_key_id: null });
    // The format is fixed at creation (waiting messages are written in it): a PATCH naming it is refused, nothing changed.
    const ours = await createLivekitKey(a.user, a.project.id);
    for (const body of [{ format: "livekit", livekit_key_id: ours.id }, { format: "standard" }]) {
      const refused = expectEnvelope(await call("PATCH", `${path}/${standard.body.id}`, { token: a.user.token, body }), 400, "validation_failed");
      expect(refused.message).toContain("format");
    }
    expect((await call("GET", `${path}/${standard.body.id}`, { token: a.user.token })).body).toMatchObject({ format: "standard", livekit_key_id: null });
  });
});
