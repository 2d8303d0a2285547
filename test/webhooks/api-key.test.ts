/**
 * Webhook endpoints managed with a project API key at `/v1/webhooks…`: the same shapes and the same
 * services as the session routes, the project taken from the key, `webhooks:write` required.
 */
import { Webhook } from "standardwebhooks";
import { afterEach, describe, expect, it, vi } from "vitest";
import { call, expectEnvelope } from "../support/api";
import { createApiKey, createTenant } from "../support/factories";
import { consume, fakeReceiver, messageRow, pendingMessage, receiverHost } from "../support/webhook-receiver";

afterEach(() => {
  vi.restoreAllMocks();
});

describe("webhook endpoints with an API key", () => {
  it("creates, lists, reads, updates, rotates and deletes an endpoint of the key's project, in the session routes' shapes", async () => {
    const { user, project, key } = await createTenant();
    const created = await call("POST", "/v1/webhooks", {
      token: key.secret,
      body: { url: "https://hooks.example.com/in/s3cr3t-path?token=abc", events: ["room.started"], rooms: ["support-*"], description: "from CI" },
    });
    expect(created.status, created.text).toBe(201);
    expect(created.body).toMatchObject({
      id: expect.stringMatching(/^whk_/),
      project_id: project.id,
      url: "https://hooks.example.com/in/s3cr3t-path?token=abc",
      events: ["room.started"],
      rooms: ["support-*"],
      enabled: true,
      secret: expect.stringMatching(/^whsec_/),
    });
    const id = created.body.id as string;
    // The same endpoint, the same shape, through the session route.
    const viaSession = await call("GET", `/v1/projects/${project.id}/webhooks/${id}`, { token: user.token });
    const viaKey = await call("GET", `/v1/webhooks/${id}`, { token: key.secret });
    expect(viaKey.status).toBe(200);
    expect(viaKey.body).toEqual(viaSession.body);
    expect((await call("GET", "/v1/webhooks", { token: key.secret })).body).toMatchObject({ data: [{ id }], next_cursor: null });

    const patched = await call("PATCH", `/v1/webhooks/${id}`, { token: key.secret, body: { rooms: null, enabled: false } });
    expect(patched.body).toMatchObject({ rooms: null, enabled: false });
    const rotated = await call("POST", `/v1/webhooks/${id}/rotate-secret`, { token: key.secret });
    expect(rotated.status).toBe(201);
    expect(rotated.body.secret).not.toBe(created.body.secret);
    expect((await call("DELETE", `/v1/webhooks/${id}`, { token: key.secret })).status).toBe(204);
    expectEnvelope(await call("GET", `/v1/webhooks/${id}`, { token: key.secret }), 404, "not_found");

    // Audited with the key as the actor.
    const audit = await call("GET", `/v1/orgs/${project.org_id}/audit-logs?resource_id=${id}`, { token: user.token });
    expect(audit.body.data.map((a: { action: string }) => a.action).sort()).toEqual([
      "webhook_endpoint.created",
      "webhook_endpoint.deleted",
      "webhook_endpoint.secret_rotated",
      "webhook_endpoint.updated",
    ]);
    expect(audit.body.data.every((a: { actor_type: string; actor_id: string }) => a.actor_type === "api_key" && a.actor_id === key.id)).toBe(true);
  });

  it("lists deliveries with the receiver's answer, retries a message and sends a test", async () => {
    const { project, key } = await createTenant();
    const host = receiverHost();
    const received = fakeReceiver(host, [{ status: 500, body: "receiver says no" }, 200]);
    const created = await call("POST", "/v1/webhooks", { token: key.secret, body: { url: `https://${host}/hook` } });
    const id = created.body.id as string;
    const msg = await pendingMessage(project.id, id);
    await consume(msg.id, 1);
    const log = await call("GET", `/v1/webhooks/${id}/deliveries?status=pending`, { token: key.secret });
    const entry = log.body.data.find((m: { id: string }) => m.id === msg.id);
    expect(entry.attempts[0]).toMatchObject({ status_code: 500, response_body: "receiver says no" });

    const retried = await call("POST", `/v1/webhooks/${id}/deliveries/${msg.id}/retry`, { token: key.secret });
    expect(retried.status).toBe(202);
    await vi.waitFor(async () => expect((await messageRow(msg.id)).status).toBe("delivered"), { timeout: 15_000, interval: 100 });
    const delivered = received.filter((r) => r.headers["webhook-id"] === msg.id).at(-1)!;
    new Webhook(created.body.secret).verify(delivered.body, delivered.headers);

    const test = await call("POST", `/v1/webhooks/${id}/test`, { token: key.secret });
    expect(test.status).toBe(202);
    expect(test.body).toMatchObject({ event_type: "webhook.test", endpoint_id: id });
    await vi.waitFor(() => expect(received.some((r) => r.headers["webhook-id"] === test.body.id)).toBe(true), { timeout: 15_000, interval: 100 });
  });

  it("needs the webhooks:write scope, for reads too", async () => {
    const { user, project, key } = await createTenant();
    const tokensOnly = await createApiKey(user, project.id, { scopes: ["tokens:write"] });
    const created = await call("POST", "/v1/webhooks", { token: key.secret, body: { url: "https://a.example.com/" } });
    for (const [method, path] of [
      ["GET", "/v1/webhooks"],
      ["POST", "/v1/webhooks"],
      ["GET", `/v1/webhooks/${created.body.id}`],
      ["POST", `/v1/webhooks/${created.body.id}/recover`],
    ] as const) {
      expectEnvelope(await call(method, path, { token: tokensOnly.secret, body: method === "POST" ? { url: "https://b.example.com/" } : undefined }), 403, "forbidden");
    }
    expectEnvelope(await call("GET", "/v1/webhooks"), 401, "unauthenticated");
    expectEnvelope(await call("GET", "/v1/webhooks", { token: user.token }), 401, "unauthenticated");
  });

  it("answers 404 to another project's key for every endpoint route, and changes nothing", async () => {
    const a = await createTenant();
    const b = await createTenant();
    const created = await call("POST", "/v1/webhooks", { token: a.key.secret, body: { url: "https://a.example.com/" } });
    const id = created.body.id as string;
    const msg = await pendingMessage(a.project.id, id);
    for (const [method, path, body] of [
      ["GET", `/v1/webhooks/${id}`, undefined],
      ["PATCH", `/v1/webhooks/${id}`, { enabled: false }],
      ["DELETE", `/v1/webhooks/${id}`, undefined],
      ["POST", `/v1/webhooks/${id}/rotate-secret`, undefined],
      ["POST", `/v1/webhooks/${id}/test`, undefined],
      ["GET", `/v1/webhooks/${id}/deliveries`, undefined],
      ["POST", `/v1/webhooks/${id}/deliveries/${msg.id}/retry`, undefined],
      ["POST", `/v1/webhooks/${id}/recover`, { since: "2026-01-01T00:00:00Z" }],
    ] as const) {
      expectEnvelope(await call(method, path, { token: b.key.secret, body }), 404, "not_found");
    }
    expect((await call("GET", "/v1/webhooks", { token: b.key.secret })).body.data).toEqual([]);
    expect((await call("GET", `/v1/webhooks/${id}`, { token: a.key.secret })).body).toMatchObject({ enabled: true });
    expect(await messageRow(msg.id)).toMatchObject({ status: "pending", attempts: 0 });
  });
});
