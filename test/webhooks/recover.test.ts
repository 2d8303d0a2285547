/**
 * Recover: `POST …/webhooks/{whk_id}/recover {since}` re-sends every failed message of the endpoint
 * created since then, in bounded batches through the queue (a continuation per batch, so it scales
 * with the backlog), rate-limited like test/retry, audited.
 */
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createDb } from "../../src/db/client";
import { nextFailedQuery, recoverFailedMessages } from "../../src/webhooks/recover";
import { call, expectEnvelope } from "../support/api";
import { createTenant } from "../support/factories";
import { joinOrg } from "../support/team";
import { createEndpoint, fakeReceiver, messageRow, pendingMessage, receiverHost } from "../support/webhook-receiver";
import { postWith } from "../support/worker-env";

afterEach(() => {
  vi.restoreAllMocks();
});

const MINUTE = 60_000;

/** A message of the endpoint in `status`, created at `createdAt`, as the delivery consumer leaves one. */
async function messageAt(projectId: string, endpointId: string, createdAt: number, status: "failed" | "delivered" = "failed") {
  const row = await pendingMessage(projectId, endpointId);
  await env.DB.prepare("UPDATE webhook_messages SET status = ?, attempts = 9, next_attempt_at = NULL, created_at = ? WHERE id = ?").bind(status, createdAt, row.id).run();
  return row.id;
}

async function waitDelivered(ids: string[]) {
  await vi.waitFor(async () => {
    for (const id of ids) expect((await messageRow(id)).status).toBe("delivered");
  }, { timeout: 20_000, interval: 150 });
}

describe("webhook recover", () => {
  it("re-sends every failed message since the given time, and nothing older, delivered or of another endpoint", async () => {
    const { user, org, project } = await createTenant();
    const host = receiverHost();
    const received = fakeReceiver(host, [200]);
    const endpoint = await createEndpoint(user.token, project.id, { url: `https://${host}/hook` });
    const other = await createEndpoint(user.token, project.id, { url: `https://${host}/other` });
    const now = Date.now();
    const old = await messageAt(project.id, endpoint.id, now - 120 * MINUTE);
    const recent = [await messageAt(project.id, endpoint.id, now - 50 * MINUTE), await messageAt(project.id, endpoint.id, now - 20 * MINUTE), await messageAt(project.id, endpoint.id, now - 5 * MINUTE)];
    const delivered = await messageAt(project.id, endpoint.id, now - 10 * MINUTE, "delivered");
    const otherFailed = await messageAt(project.id, other.id, now - 10 * MINUTE);

    const since = new Date(now - 60 * MINUTE).toISOString();
    const res = await call("POST", `/v1/projects/${project.id}/webhooks/${endpoint.id}/recover`, { token: user.token, body: { since } });
    expect(res.status, res.text).toBe(202);
    expect(res.body).toMatchObject({ endpoint_id: endpoint.id, queued: 3, more: false });
    // API times are whole seconds.
    expect(res.body.since).toBe(since.replace(/\.\d+Z$/, "Z"));

    await waitDelivered(recent);
    // Each keeps its id (the webhook-id header), and was sent once.
    expect(received.map((r) => r.headers["webhook-id"]).sort()).toEqual([...recent].sort());
    expect(await messageRow(old)).toMatchObject({ status: "failed" });
    expect(await messageRow(delivered)).toMatchObject({ status: "delivered" });
    expect(await messageRow(otherFailed)).toMatchObject({ status: "failed" });

    const audit = await call("GET", `/v1/orgs/${org.id}/audit-logs?resource_id=${endpoint.id}&action=webhook_endpoint.recovered`, { token: user.token });
    expect(audit.body.data).toHaveLength(1);
    expect(audit.body.data[0]).toMatchObject({ actor_id: user.id, metadata: { since: res.body.since, until: res.body.until } });
    expect([...audit.body.data[0].metadata.message_ids].sort()).toEqual([...recent].sort());
  });

  it("works through a backlog larger than one batch by continuing through the queue, up to the time it was asked", async () => {
    const { user, project } = await createTenant();
    const host = receiverHost();
    fakeReceiver(host, [200]);
    const endpoint = await createEndpoint(user.token, project.id, { url: `https://${host}/hook` });
    const now = Date.now();
    const backlog: string[] = [];
    for (let i = 0; i < 7; i++) backlog.push(await messageAt(project.id, endpoint.id, now - (30 - i) * MINUTE));
    const later = await messageAt(project.id, endpoint.id, now + 10 * MINUTE);

    const deps = { db: createDb(env.DB), queue: env.WEBHOOK_QUEUE };
    const actor = { actorType: "user" as const, actorId: user.id, ip: null, userAgent: null, requestId: null };
    const result = await recoverFailedMessages(deps, actor, { projectId: project.id, orgId: project.org_id }, endpoint.id, { since: new Date(now - 60 * MINUTE).toISOString() }, { batchSize: 2 });
    expect(result).toMatchObject({ queued: 2, more: true });

    await waitDelivered(backlog);
    // A message created after the recovery was asked for is not part of it.
    expect(await messageRow(later)).toMatchObject({ status: "failed" });

    // Each step is audited as the asker, listing what it re-queued: together, the backlog once.
    const { results } = await env.DB.prepare("SELECT action, actor_id, metadata FROM audit_logs WHERE resource_id = ? ORDER BY action = 'webhook_endpoint.recovered' DESC, created_at")
      .bind(endpoint.id)
      .all<{ action: string; actor_id: string; metadata: string }>();
    const steps = results.filter((r) => r.action.startsWith("webhook_endpoint.recover"));
    expect(steps.map((r) => r.action)).toEqual(["webhook_endpoint.recovered", ...Array(3).fill("webhook_endpoint.recovery_continued")]);
    expect(steps.every((r) => r.actor_id === user.id)).toBe(true);
    const listed = steps.flatMap((r) => JSON.parse(r.metadata).message_ids as string[]);
    expect(listed.sort()).toEqual([...backlog].sort());
    expect(steps.map((r) => (JSON.parse(r.metadata).message_ids as string[]).length)).toEqual([2, 2, 2, 1]);
  });

  it("re-sends a backlog of 130 failed messages through the route: 100 at once, the rest by continuations", async () => {
    const { user, project } = await createTenant();
    const host = receiverHost();
    const received = fakeReceiver(host, [200]);
    const endpoint = await createEndpoint(user.token, project.id, { url: `https://${host}/hook` });
    const now = Date.now();
    const prefix = `msg_bulk${now.toString(36)}`;
    await env.DB.prepare(
      `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 130)
       INSERT INTO webhook_messages (id, project_id, endpoint_id, event_type, payload, status, attempts, source_id, created_at)
       SELECT ? || i, ?, ?, 'webhook.test', '{"type":"webhook.test","timestamp":"2026-11-28T16:00:00Z","data":{}}', 'failed', 9, 'bulk-' || i, ? - i * 1000 FROM n`,
    ).bind(prefix, project.id, endpoint.id, now).run();

    const res = await call("POST", `/v1/projects/${project.id}/webhooks/${endpoint.id}/recover`, { token: user.token, body: { since: new Date(now - 3_600_000).toISOString() } });
    expect(res.status, res.text).toBe(202);
    expect(res.body).toMatchObject({ queued: 100, more: true });
    await vi.waitFor(async () => {
      const row = await env.DB.prepare("SELECT count(*) AS n FROM webhook_messages WHERE endpoint_id = ? AND status = 'delivered'").bind(endpoint.id).first<{ n: number }>();
      expect(row!.n).toBe(130);
    }, { timeout: 30_000, interval: 250 });
    expect(new Set(received.map((r) => r.headers["webhook-id"])).size).toBe(130);
  });

  it("refuses a disabled endpoint, a future or malformed since, unknown fields and viewers, and changes nothing", async () => {
    const { user, org, project } = await createTenant();
    const endpoint = await createEndpoint(user.token, project.id, { url: "https://a.example.com/" });
    const failed = await messageAt(project.id, endpoint.id, Date.now() - MINUTE);
    const path = `/v1/projects/${project.id}/webhooks/${endpoint.id}/recover`;
    for (const body of [{ since: new Date(Date.now() + 3_600_000).toISOString() }, { since: "yesterday" }, {}, { since: "2026-01-01T00:00:00Z", limit: 5 }]) {
      expectEnvelope(await call("POST", path, { token: user.token, body }), 400, "validation_failed");
    }
    const viewer = await joinOrg(user, org.id, "viewer");
    expectEnvelope(await call("POST", path, { token: viewer.token, body: { since: "2026-01-01T00:00:00Z" } }), 403, "forbidden");
    await call("PATCH", `/v1/projects/${project.id}/webhooks/${endpoint.id}`, { token: user.token, body: { enabled: false } });
    expectEnvelope(await call("POST", path, { token: user.token, body: { since: "2026-01-01T00:00:00Z" } }), 409, "conflict");
    expect(await messageRow(failed)).toMatchObject({ status: "failed" });
  });

  it("limits recovers per endpoint with RATE_LIMIT_WEBHOOK_TEST_PER_MIN so Pulse cannot be made to fire at a third party in a loop", async () => {
    const { user, project } = await createTenant();
    const endpoint = await createEndpoint(user.token, project.id, { url: "https://a.example.com/" });
    const vars = { RATE_LIMIT_WEBHOOK_TEST_PER_MIN: "2" };
    const path = `/v1/projects/${project.id}/webhooks/${endpoint.id}/recover`;
    const body = { since: new Date(Date.now() - MINUTE).toISOString() };
    expect((await postWith(vars, path, user.token, body)).status).toBe(202);
    expect((await postWith(vars, path, user.token, body)).status).toBe(202);
    const limited = await postWith(vars, path, user.token, body);
    expectEnvelope(limited, 429, "rate_limited");
    expect(Number(limited.headers.get("Retry-After"))).toBeGreaterThan(0);
  });
});

describe("webhook recover at scale", () => {
  it("walks an endpoint's failed messages through the (endpoint, status, time) index, not the whole delivery log", async () => {
    const step = { projectId: "proj_x", endpointId: "whk_x", since: 0, until: Date.now(), after: { created_at: 1, id: "msg_x" }, batchSize: 100 };
    for (const s of [step, { ...step, after: null }]) {
      const query = nextFailedQuery(createDb(env.DB), s).toSQL();
      const { results } = await env.DB.prepare(`EXPLAIN QUERY PLAN ${query.sql}`).bind(...query.params).all<{ detail: string }>();
      const plan = results.map((r) => r.detail).join("\n");
      expect(plan).toContain("webhook_messages_endpoint_status_idx");
      expect(plan).not.toContain("TEMP B-TREE");
    }
  });
});
