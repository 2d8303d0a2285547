import { env } from "cloudflare:workers";
import { Webhook } from "standardwebhooks";
import { afterEach, describe, expect, it, vi } from "vitest";
import { RESPONSE_BODY_LIMIT } from "../../src/webhooks/send";
import { call } from "../support/api";
import { createTenant } from "../support/factories";
import { interleavedD1 } from "../support/interleaved-d1";
import { fetchWithEnv } from "../support/worker-env";
import { consume, createEndpoint, fakeReceiver, messageRow, pendingMessage, receiverHost } from "../support/webhook-receiver";

afterEach(() => {
  vi.restoreAllMocks();
});

async function setup(extra: Record<string, unknown> = {}) {
  const tenant = await createTenant();
  const host = receiverHost();
  const endpoint = await createEndpoint(tenant.user.token, tenant.project.id, { url: `https://${host}/hooks`, ...extra });
  return { ...tenant, host, endpoint };
}

describe("webhook delivery consumer", () => {
  it("delivers a Standard Webhooks message that the standardwebhooks library verifies", async () => {
    const { project, host, endpoint } = await setup();
    const received = fakeReceiver(host, [200]);
    const msg = await pendingMessage(project.id, endpoint.id, { greeting: "héllo" });
    const result = await consume(msg.id, 1);
    expect(result.explicitAcks).toEqual([expect.any(String)]);
    expect(result.retryMessages).toEqual([]);
    expect(received).toHaveLength(1);
    const [hit] = received;
    expect(hit!.headers["webhook-id"]).toBe(msg.id);
    expect(hit!.headers["content-type"]).toBe("application/json");
    const payload = new Webhook(endpoint.secret).verify(hit!.body, hit!.headers) as Record<string, any>;
    expect(payload).toMatchObject({ type: "webhook.test", data: { greeting: "héllo" } });
    expect(payload.timestamp).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
    // Another secret must not verify it: the signature is real.
    expect(() => new Webhook("whsec_" + btoa("x".repeat(32))).verify(hit!.body, hit!.headers)).toThrow();
    expect(await messageRow(msg.id)).toMatchObject({ status: "delivered", attempts: 1 });
  });

  it("retries a receiver that fails twice, then succeeds: three requests with the same webhook-id, all three attempts logged", async () => {
    const { user, project, host, endpoint } = await setup();
    const received = fakeReceiver(host, [500, 503, 204]);
    const msg = await pendingMessage(project.id, endpoint.id);

    const first = await consume(msg.id, 1);
    expect(first.retries).toEqual([{ delaySeconds: 5 }]);
    expect(first.retryMessages).toHaveLength(1);
    const second = await consume(msg.id, 2);
    expect(second.retries).toEqual([{ delaySeconds: 60 }]);
    const third = await consume(msg.id, 3);
    expect(third.retryMessages).toEqual([]);
    expect(third.retries).toEqual([]);
    expect(third.explicitAcks).toHaveLength(1);

    expect(received.map((r) => r.headers["webhook-id"])).toEqual([msg.id, msg.id, msg.id]);
    for (const r of received) new Webhook(endpoint.secret).verify(r.body, r.headers);

    const log = await call("GET", `/v1/projects/${project.id}/webhooks/${endpoint.id}/deliveries`, { token: user.token });
    expect(log.status).toBe(200);
    const [entry] = log.body.data;
    expect(entry).toMatchObject({ id: msg.id, status: "delivered", attempt_count: 3, event_type: "webhook.test" });
    expect(entry.attempts.map((a: any) => [a.attempt, a.status_code])).toEqual([
      [1, 500],
      [2, 503],
      [3, 204],
    ]);
    expect(entry.attempts[0].response_body).toBe("answer 1");
    expect(entry.attempts[0].duration_ms).toBeGreaterThanOrEqual(0);
    expect(entry.delivered_at).not.toBeNull();
  });

  it("follows the whole retry schedule for a receiver that always fails, then the dead-letter consumer records it failed", async () => {
    const { user, project, host, endpoint } = await setup();
    const received = fakeReceiver(host, [500]);
    const msg = await pendingMessage(project.id, endpoint.id);
    const delays: (number | undefined)[] = [];
    for (let attempt = 1; attempt <= 9; attempt++) {
      const result = await consume(msg.id, attempt);
      expect(result.retryMessages).toHaveLength(1);
      expect(result.retries).toHaveLength(1);
      delays.push(result.retries[0]!.delaySeconds);
      const row = await messageRow(msg.id);
      // The log shows when the next attempt is due (none after the last).
      if (attempt < 9) expect(row.next_attempt_at - row.last_attempt_at).toBeGreaterThanOrEqual(delays[attempt - 1]! * 1000);
      else expect(row.next_attempt_at).toBeNull();
    }
    // Eight scheduled retries (~27.6 h in all, none over Queues' 12 h cap); the ninth failure is
    // retried without delay so Queues, out of retries (max_retries = 8), dead-letters it.
    expect(delays).toEqual([5, 60, 300, 1800, 7200, 18000, 36000, 36000, undefined]);
    expect(received).toHaveLength(9);
    expect(await messageRow(msg.id)).toMatchObject({ status: "pending", attempts: 9 });

    const dead = await consume(msg.id, 1, { queue: "pulse-webhooks-dlq" });
    expect(dead.explicitAcks).toHaveLength(1);
    expect(await messageRow(msg.id)).toMatchObject({ status: "failed" });
    const log = await call("GET", `/v1/projects/${project.id}/webhooks/${endpoint.id}/deliveries?status=failed`, { token: user.token });
    expect(log.body.data).toHaveLength(1);
    expect(log.body.data[0].attempts).toHaveLength(9);
    expect(log.body.data[0].next_attempt_at).toBeNull();
    // The endpoint is marked failing (the health job disables it after 5 days).
    const ep = await call("GET", `/v1/projects/${project.id}/webhooks/${endpoint.id}`, { token: user.token });
    expect(ep.body.failing_since).not.toBeNull();
    expect(ep.body.enabled).toBe(true);
  });

  it("records a resend that fails after the schedule was used up as failed at once, without a new schedule", async () => {
    const { project, host, endpoint } = await setup();
    const received = fakeReceiver(host, [500]);
    const msg = await pendingMessage(project.id, endpoint.id);
    await env.DB.prepare("UPDATE webhook_messages SET attempts = 9 WHERE id = ?").bind(msg.id).run();
    // What the retry endpoint enqueues for such a message: base_attempts = 9, Queues' first delivery.
    const result = await consume(msg.id, 1, { base: 9 });
    expect(received).toHaveLength(1);
    expect(result.retries).toEqual([]);
    expect(result.explicitAcks).toHaveLength(1);
    expect(await messageRow(msg.id)).toMatchObject({ status: "failed", attempts: 10, next_attempt_at: null });
  });

  it("records a network error as a failed attempt and retries it", async () => {
    const { project, host, endpoint } = await setup();
    fakeReceiver(host, ["network-error"]);
    const msg = await pendingMessage(project.id, endpoint.id);
    const result = await consume(msg.id, 1);
    expect(result.retries).toEqual([{ delaySeconds: 5 }]);
    const attempt = await env.DB.prepare("SELECT * FROM webhook_attempts WHERE message_id = ?").bind(msg.id).first<Record<string, any>>();
    expect(attempt).toMatchObject({ status_code: null, attempt: 1 });
    expect(attempt!.error).toMatch(/Network error/);
  });

  it("keeps at most 2 KiB of the receiver's answer", async () => {
    const { project, host, endpoint } = await setup();
    fakeReceiver(host, [{ status: 400, body: "é".repeat(5000) }]);
    const msg = await pendingMessage(project.id, endpoint.id);
    await consume(msg.id, 1);
    const attempt = await env.DB.prepare("SELECT response_body FROM webhook_attempts WHERE message_id = ?").bind(msg.id).first<{ response_body: string }>();
    expect(attempt!.response_body.length).toBeLessThanOrEqual(RESPONSE_BODY_LIMIT);
    expect(attempt!.response_body.startsWith("éé")).toBe(true);
  });

  it("builds a retry on an attempt that lands between its read and its write, instead of being superseded by it", async () => {
    const { user, project, host, endpoint } = await setup();
    const received = fakeReceiver(host, [200]);
    const msg = await pendingMessage(project.id, endpoint.id);
    // A scheduled attempt claims and delivers the message just before the retry's write (the batch
    // that changes the message's status).
    const { db, ran: interleaved } = interleavedD1(env.DB, /^update "webhook_messages" set "status"/, () =>
      env.DB.prepare("UPDATE webhook_messages SET attempts = attempts + 1, status = 'delivered', delivered_at = ? WHERE id = ?").bind(Date.now(), msg.id).run(),
    );
    const jobs: unknown[] = [];
    const queue = {
      send: (body: unknown) => (jobs.push(body), Promise.resolve()),
      sendBatch: (messages: { body: unknown }[]) => (jobs.push(...messages.map((m) => m.body)), Promise.resolve()),
    };
    const res = await fetchWithEnv(
      { DB: db, WEBHOOK_QUEUE: queue },
      new Request(`https://pulse.test/v1/projects/${project.id}/webhooks/${endpoint.id}/deliveries/${msg.id}/retry`, { method: "POST", headers: { Authorization: `Bearer ${user.token}` } }),
    );
    expect(res.status, await res.clone().text()).toBe(202);
    expect(interleaved()).toBe(true);
    // The job counts the attempt made meanwhile, so it is the next attempt, not that one again.
    expect(jobs).toEqual([{ kind: "webhook", message_id: msg.id, base_attempts: 1 }]);
    expect(await messageRow(msg.id)).toMatchObject({ status: "pending", attempts: 1 });
    await consume(msg.id, 1, { base: 1 });
    expect(received).toHaveLength(1);
    expect(await messageRow(msg.id)).toMatchObject({ status: "delivered", attempts: 2 });
    const audit = await env.DB.prepare("SELECT COUNT(*) AS n FROM audit_logs WHERE resource_id = ? AND action = 'webhook_message.retried'").bind(msg.id).first<{ n: number }>();
    expect(audit!.n).toBe(1);
  });

  it("sends a retry asked for while an attempt was out, whatever that attempt's outcome", async () => {
    for (const answer of [200, 410]) {
      const { user, project, host, endpoint } = await setup();
      const msg = await pendingMessage(project.id, endpoint.id);
      const retryPath = `/v1/projects/${project.id}/webhooks/${endpoint.id}/deliveries/${msg.id}/retry`;
      let received = 0;
      const original = globalThis.fetch;
      const spy = vi.spyOn(globalThis, "fetch").mockImplementation(async (input: RequestInfo | URL, init?: RequestInit) => {
        const request = new Request(input as RequestInfo, init);
        if (new URL(request.url).host !== host) return original(input as RequestInfo, init);
        // The user asks for a resend while the first attempt waits for its answer.
        if (++received === 1) expect((await call("POST", retryPath, { token: user.token })).status).toBe(202);
        return new Response("ok", { status: received === 1 ? answer : 200 });
      });
      await consume(msg.id, 1);
      // The first attempt's outcome is recorded, and the message waits for the retry.
      expect(await messageRow(msg.id), String(answer)).toMatchObject({ status: "pending", attempts: 1, delivered_at: answer === 200 ? expect.any(Number) : null });
      expect((await messageRow(msg.id)).next_attempt_at).not.toBeNull();
      // The retry's job (base_attempts 1, what the retry read) sends it. (A 410 disabled the endpoint: enabled again first.)
      if (answer === 410) expect((await call("PATCH", `/v1/projects/${project.id}/webhooks/${endpoint.id}`, { token: user.token, body: { enabled: true } })).status).toBe(200);
      await consume(msg.id, 1, { base: 1 });
      expect(received).toBe(2);
      expect(await messageRow(msg.id)).toMatchObject({ status: "delivered", attempts: 2 });
      spy.mockRestore();
    }
  });

  /** A message whose nine attempts are used up (left `status` by the last one), retried by hand, and its receiver. */
  async function retriedAfterLastAttempt(answers: number[], status: "pending" | "failed") {
    const { user, project, host, endpoint } = await setup();
    const received = fakeReceiver(host, answers);
    const msg = await pendingMessage(project.id, endpoint.id);
    await env.DB.prepare("UPDATE webhook_messages SET attempts = 9, status = ?, next_attempt_at = NULL WHERE id = ?").bind(status, msg.id).run();
    expect((await call("POST", `/v1/projects/${project.id}/webhooks/${endpoint.id}/deliveries/${msg.id}/retry`, { token: user.token })).status).toBe(202);
    return { msg, received };
  }

  it("leaves a message retried by hand after its last attempt to the retry, not to the dead-letter consumer", async () => {
    // Its ninth attempt failed and Queues is dead-lettering it.
    const { msg, received } = await retriedAfterLastAttempt([200], "pending");
    await consume(msg.id, 1, { queue: "pulse-webhooks-dlq" });
    expect(await messageRow(msg.id)).toMatchObject({ status: "pending" });
    await consume(msg.id, 1, { base: 9 });
    expect(received).toHaveLength(1);
    expect(await messageRow(msg.id)).toMatchObject({ status: "delivered", attempts: 10 });
  });

  it("gives a message that used its whole schedule one more attempt by hand: a miss leaves it failed, with nothing scheduled", async () => {
    const { msg, received } = await retriedAfterLastAttempt([500], "failed");
    const result = await consume(msg.id, 1, { base: 9 });
    expect(received).toHaveLength(1);
    expect(result.retryMessages).toEqual([]);
    expect(await messageRow(msg.id)).toMatchObject({ status: "failed", attempts: 10, next_attempt_at: null });
  });

  it("sends an attempt once even when Queues delivers its message twice", async () => {
    const { project, host, endpoint } = await setup();
    const received = fakeReceiver(host, [500]);
    const msg = await pendingMessage(project.id, endpoint.id);
    await consume(msg.id, 1);
    const duplicate = await consume(msg.id, 1);
    expect(duplicate.explicitAcks).toHaveLength(1);
    expect(duplicate.retryMessages).toEqual([]);
    expect(received).toHaveLength(1);
  });

  it("disables the endpoint when the receiver answers 410 Gone, audited as the system", async () => {
    const { user, org, project, host, endpoint } = await setup();
    fakeReceiver(host, [410]);
    const msg = await pendingMessage(project.id, endpoint.id);
    const result = await consume(msg.id, 1);
    expect(result.explicitAcks).toHaveLength(1);
    expect(result.retryMessages).toEqual([]);
    expect(await messageRow(msg.id)).toMatchObject({ status: "failed" });
    const ep = await call("GET", `/v1/projects/${project.id}/webhooks/${endpoint.id}`, { token: user.token });
    expect(ep.body).toMatchObject({ enabled: false, disabled_reason: expect.stringMatching(/410/) });
    const audit = await call("GET", `/v1/orgs/${org.id}/audit-logs?action=webhook_endpoint.disabled`, { token: user.token });
    expect(audit.body.data).toHaveLength(1);
    expect(audit.body.data[0]).toMatchObject({ resource_id: endpoint.id });
    expect(JSON.stringify(audit.body.data[0])).toMatch(/system/);

    // Later messages for the disabled endpoint are not sent.
    const later = await pendingMessage(project.id, endpoint.id);
    const skipped = await consume(later.id, 1);
    expect(skipped.explicitAcks).toHaveLength(1);
    expect(await messageRow(later.id)).toMatchObject({ status: "failed" });
  });

  it("signs with both secrets during a rotation, and each verifies on its own", async () => {
    const { user, project, host, endpoint } = await setup();
    const rotated = await call("POST", `/v1/projects/${project.id}/webhooks/${endpoint.id}/rotate-secret`, { token: user.token });
    expect(rotated.status).toBe(201);
    expect(rotated.body.secret).toMatch(/^whsec_/);
    expect(rotated.body.secret).not.toBe(endpoint.secret);
    const received = fakeReceiver(host, [200]);
    const msg = await pendingMessage(project.id, endpoint.id);
    await consume(msg.id, 1);
    const signatures = received[0]!.headers["webhook-signature"]!.split(" ");
    expect(signatures).toHaveLength(2);
    expect(signatures.every((s) => s.startsWith("v1,"))).toBe(true);
    new Webhook(endpoint.secret).verify(received[0]!.body, received[0]!.headers);
    new Webhook(rotated.body.secret).verify(received[0]!.body, received[0]!.headers);
  });

  it("stops signing with the previous secret 24 hours after a rotation", async () => {
    const { user, project, host, endpoint } = await setup();
    const rotated = await call("POST", `/v1/projects/${project.id}/webhooks/${endpoint.id}/rotate-secret`, { token: user.token });
    const { setClock } = await import("../../src/lib/clock");
    const later = Date.now() + 24 * 3600_000 + 1000;
    setClock(() => later);
    const received = fakeReceiver(host, [200]);
    const msg = await pendingMessage(project.id, endpoint.id);
    await consume(msg.id, 1);
    expect(received[0]!.headers["webhook-signature"]!.split(" ")).toHaveLength(1);
    // The receiver checks timestamps against its own clock; give the library the message's time.
    const headers = received[0]!.headers;
    const verifyAt = (secret: string) => {
      vi.useFakeTimers({ now: later, toFake: ["Date"] });
      try {
        return new Webhook(secret).verify(received[0]!.body, headers);
      } finally {
        vi.useRealTimers();
      }
    };
    expect(verifyAt(rotated.body.secret)).toBeTruthy();
    expect(() => verifyAt(endpoint.secret)).toThrow();
  });
});
