import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import worker from "../../src/index";
import type { Bindings } from "../../src/env";
import { createTenant } from "../support/factories";
import { fullScans, plansOf, recordingD1, type RecordedStatement } from "../support/query-plans";
import { createEndpoint, pendingMessage, receiverHost } from "../support/webhook-receiver";

afterEach(() => {
  vi.restoreAllMocks();
});

/**
 * Fake receivers for several hosts at once (one fetch stub routing by host): the n-th request to a
 * host gets that host's `answers[n]` (the last one repeats). Returns what each host received.
 */
function fakeReceivers(answers: Record<string, number[]>): Record<string, { webhookId: string }[]> {
  const received: Record<string, { webhookId: string }[]> = Object.fromEntries(Object.keys(answers).map((h) => [h, []]));
  const original = globalThis.fetch;
  vi.spyOn(globalThis, "fetch").mockImplementation(async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = new Request(input as RequestInfo, init);
    const host = new URL(request.url).host;
    const log = received[host];
    if (!log) return original(input as RequestInfo, init);
    log.push({ webhookId: request.headers.get("webhook-id") ?? "" });
    const list = answers[host]!;
    return new Response("ok", { status: list[Math.min(log.length - 1, list.length - 1)]! });
  });
  return received;
}

/** Runs the real consumer on one queue batch of delivery jobs `[message id, Queues' attempts]` (its statements go to `log`). */
async function consumeBatch(jobs: [string, number][], log?: RecordedStatement[]) {
  const batch = createMessageBatch(
    "pulse-webhooks",
    jobs.map(([id, attempts], i) => ({ id: `qm-${i}-${Math.random()}`, timestamp: new Date(), attempts, body: { message_id: id, base_attempts: 0 } })),
  );
  const ctx = createExecutionContext();
  const bindings = log ? (Object.assign(Object.create(null), env, { DB: recordingD1(env.DB, log) }) as Bindings) : env;
  await worker.queue(batch, bindings, ctx);
  return getQueueResult(batch, ctx);
}

async function attemptsOf(ids: string[]) {
  const rows: { message_id: string; attempt: number; status_code: number | null }[] = [];
  for (let i = 0; i < ids.length; i += 50) {
    const chunk = ids.slice(i, i + 50);
    const r = await env.DB.prepare(`SELECT message_id, attempt, status_code FROM webhook_attempts WHERE message_id IN (${chunk.map(() => "?").join(",")})`)
      .bind(...chunk)
      .all<(typeof rows)[number]>();
    rows.push(...r.results);
  }
  return rows;
}

describe("batched webhook consumer", () => {
  it("delivers a 100-message batch over 5 endpoints, each message once, with one attempt row each, even when every job arrives twice", async () => {
    const { user, project } = await createTenant();
    const hosts = Array.from({ length: 5 }, () => receiverHost());
    const byHost = fakeReceivers(Object.fromEntries(hosts.map((h) => [h, [200]])));
    const endpoints = await Promise.all(hosts.map((h) => createEndpoint(user.token, project.id, { url: `https://${h}/hook` })));
    const messages = await Promise.all(Array.from({ length: 100 }, (_, i) => pendingMessage(project.id, endpoints[i % 5]!.id, { n: i })));
    const ids = messages.map((m) => m.id);

    // Queues is at least once: the same job twice in one batch, and again in a later batch.
    const first = await consumeBatch([...ids.map((id): [string, number] => [id, 1]), ...ids.slice(0, 20).map((id): [string, number] => [id, 1])]);
    expect(first.explicitAcks).toHaveLength(120);
    expect(first.retryMessages).toEqual([]);
    const again = await consumeBatch(ids.slice(0, 30).map((id): [string, number] => [id, 1]));
    expect(again.explicitAcks).toHaveLength(30);

    // 0 lost, 0 duplicated: each receiver got exactly its 20 messages, once each.
    hosts.forEach((h, e) => {
      const got = byHost[h]!.map((x) => x.webhookId).sort();
      expect(got).toEqual(messages.filter((_, i) => i % 5 === e).map((m) => m.id).sort());
    });
    const attempts = await attemptsOf(ids);
    expect(attempts).toHaveLength(100);
    expect(new Set(attempts.map((a) => a.message_id)).size).toBe(100);
    const statuses = await env.DB.prepare(`SELECT status, COUNT(*) AS n FROM webhook_messages WHERE project_id = ? GROUP BY status`).bind(project.id).all();
    expect(statuses.results).toEqual([{ status: "delivered", n: 100 }]);
  });

  it("retries only the failed messages of a mixed batch, and records each attempt once", async () => {
    const { user, project } = await createTenant();
    const okHost = receiverHost();
    const badHost = receiverHost();
    const byHost = fakeReceivers({ [okHost]: [200], [badHost]: [503, 503, 503, 200, 503] });
    const good = await createEndpoint(user.token, project.id, { url: `https://${okHost}/hook` });
    const failing = await createEndpoint(user.token, project.id, { url: `https://${badHost}/hook` });
    const goodMessages = await Promise.all(Array.from({ length: 6 }, (_, i) => pendingMessage(project.id, good.id, { n: i })));
    const badMessages = await Promise.all(Array.from({ length: 3 }, (_, i) => pendingMessage(project.id, failing.id, { n: i })));

    const first = await consumeBatch([...goodMessages, ...badMessages].map((m): [string, number] => [m.id, 1]));
    expect(first.explicitAcks.length).toBe(6);
    expect(first.retryMessages.map((r: { msgId: string }) => r.msgId)).toHaveLength(3);
    // The retries Queues makes later carry attempts = 2.
    const second = await consumeBatch(badMessages.map((m): [string, number] => [m.id, 2]));
    expect(second.explicitAcks).toHaveLength(1);
    expect(second.retryMessages).toHaveLength(2);

    expect(byHost[okHost]).toHaveLength(6);
    expect(byHost[badHost]).toHaveLength(6);
    const attempts = await attemptsOf(badMessages.map((m) => m.id));
    expect(attempts.map((a) => [a.message_id, a.attempt]).sort()).toEqual(badMessages.flatMap((m) => [[m.id, 1], [m.id, 2]]).sort());
    expect(attempts.filter((a) => a.status_code === 200)).toHaveLength(1);
  });

  it("claims and records a whole batch in a few set-based statements, each on an index", async () => {
    const { user, project } = await createTenant();
    const hosts = [receiverHost(), receiverHost()];
    const byHost = fakeReceivers({ [hosts[0]!]: [200], [hosts[1]!]: [503] });
    const endpoints = await Promise.all(hosts.map((h) => createEndpoint(user.token, project.id, { url: `https://${h}/hook` })));
    const messages = await Promise.all(Array.from({ length: 60 }, (_, i) => pendingMessage(project.id, endpoints[i % 2]!.id, { n: i })));
    const log: RecordedStatement[] = [];
    // A manual resend met a scheduled retry: the same row twice with different attempt numbers.
    const result = await consumeBatch([...messages.map((m): [string, number] => [m.id, 1]), [messages[0]!.id, 2]], log);

    // The higher attempt number claims the row; the superseded job is acked, and the row is sent once.
    expect(byHost[hosts[0]!]!.filter((r) => r.webhookId === messages[0]!.id)).toHaveLength(1);
    expect(result.explicitAcks).toHaveLength(31);
    expect(result.retryMessages).toHaveLength(30);
    const first = await attemptsOf([messages[0]!.id]);
    expect(first.map((a) => a.attempt)).toEqual([2]);

    // Claim + endpoints, then attempts + messages + each endpoint's failing-since: not one per message.
    const statements = log.filter((s) => !/^\s*(pragma|select 1)/i.test(s.sql));
    expect(statements.length, statements.map((s) => s.sql).join("\n")).toBeLessThanOrEqual(6);
    const planned = await plansOf(log);
    expect(fullScans(planned)).toEqual([]);
    // The claim and the recorded changes find each row by its id, never by status across tenants.
    const updates = planned.filter((s) => /^update "webhook_messages"/i.test(s.sql));
    expect(updates).toHaveLength(2);
    for (const u of updates) expect(u.plan.join("\n"), u.sql).toMatch(/^SEARCH webhook_messages USING INDEX sqlite_autoindex_webhook_messages_1 \(id=\?\)$/m);

    const rows = await env.DB.prepare("SELECT status, attempts, next_attempt_at, delivered_at FROM webhook_messages WHERE project_id = ?").bind(project.id).all<{ status: string; attempts: number; next_attempt_at: number | null; delivered_at: number | null }>();
    const delivered = rows.results.filter((r) => r.status === "delivered");
    const waiting = rows.results.filter((r) => r.status === "pending");
    expect(delivered).toHaveLength(30);
    expect(delivered.every((r) => r.delivered_at !== null && r.next_attempt_at === null)).toBe(true);
    // The 503s wait for their retry 5 s later (the first delay of the schedule).
    expect(waiting).toHaveLength(30);
    expect(waiting.every((r) => r.next_attempt_at !== null && r.next_attempt_at > Date.now() && r.delivered_at === null && r.attempts === 1)).toBe(true);
  });
});
