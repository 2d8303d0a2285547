/**
 * How many deliveries one consumer invocation has in flight. A Worker holds six connections
 * waiting for response headers; a request queued behind them would spend its 15 s timeout unsent.
 * So the consumer sends DELIVERY_CONCURRENCY at a time, at most two per endpoint: one tenant's
 * hanging receiver cannot make other tenants' deliveries in the same batch time out.
 */
import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import worker from "../../src/index";
import { setClock } from "../../src/lib/clock";
import { runPooled } from "../../src/lib/pool";
import { DELIVERY_CONCURRENCY, DELIVERY_CONCURRENCY_PER_ENDPOINT } from "../../src/webhooks/delivery";
import { createTenant } from "../support/factories";
import { createEndpoint, messageRow, pendingMessage, receiverHost } from "../support/webhook-receiver";

afterEach(() => vi.restoreAllMocks());

describe("deliveries in flight", () => {
  it("sends six at a time and two per endpoint, so a hanging receiver holds back only its own messages", async () => {
    // One receiver hangs until every other delivery has arrived; three answer after 20 ms; one at once.
    const kinds = ["hang", "slow", "slow", "slow", "fast"] as const;
    const endpoints = [];
    for (const kind of kinds) {
      const tenant = await createTenant();
      const host = receiverHost();
      const endpoint = await createEndpoint(tenant.user.token, tenant.project.id, { url: `https://${host}/hook` });
      const messages = [];
      for (let i = 0; i < 4; i++) messages.push(await pendingMessage(tenant.project.id, endpoint.id));
      endpoints.push({ kind, host, messages });
    }
    const kindOf = new Map(endpoints.map((e) => [e.host, e.kind]));
    const others = endpoints.filter((e) => e.kind !== "hang").reduce((n, e) => n + e.messages.length, 0);

    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let running = 0;
    let maxRunning = 0;
    let answered = 0;
    const perHost = new Map<string, number>();
    let maxPerHost = 0;
    const original = globalThis.fetch;
    vi.spyOn(globalThis, "fetch").mockImplementation(async (input: RequestInfo | URL, init?: RequestInit) => {
      const host = new URL(new Request(input as RequestInfo, init).url).host;
      const kind = kindOf.get(host);
      if (!kind) return original(input as RequestInfo, init);
      running++;
      maxRunning = Math.max(maxRunning, running);
      perHost.set(host, (perHost.get(host) ?? 0) + 1);
      maxPerHost = Math.max(maxPerHost, perHost.get(host)!);
      if (kind === "hang") await released;
      if (kind === "slow") await new Promise((resolve) => setTimeout(resolve, 20));
      perHost.set(host, perHost.get(host)! - 1);
      running--;
      if (kind !== "hang" && ++answered === others) release();
      return new Response("ok", { status: 200 });
    });

    const all = endpoints.flatMap((e) => e.messages);
    const batch = createMessageBatch(
      "pulse-webhooks",
      all.map((m, i) => ({ id: `qm-pool-${i}-${m.id}`, timestamp: new Date(), attempts: 1, body: { message_id: m.id, base_attempts: 0 } })),
    );
    const ctx = createExecutionContext();
    await worker.queue(batch, env, ctx);
    const result = await getQueueResult(batch, ctx);

    expect(maxRunning).toBe(DELIVERY_CONCURRENCY);
    expect(maxPerHost).toBe(DELIVERY_CONCURRENCY_PER_ENDPOINT);
    expect(result.explicitAcks.length).toBe(all.length);
    for (const m of all) expect((await messageRow(m.id)).status).toBe("delivered");
  });

  it("signs each message when it goes out, so one that waited behind a slow receiver is not stale on arrival", async () => {
    const tenant = await createTenant();
    const host = receiverHost();
    const endpoint = await createEndpoint(tenant.user.token, tenant.project.id, { url: `https://${host}/hook` });
    const messages = [];
    for (let i = 0; i < DELIVERY_CONCURRENCY_PER_ENDPOINT + 1; i++) messages.push(await pendingMessage(tenant.project.id, endpoint.id));
    // Each answer takes four minutes (of the clock Pulse reads).
    let clock = Date.now();
    setClock(() => clock);
    const stamps: { sent: number; stamp: number }[] = [];
    const original = globalThis.fetch;
    vi.spyOn(globalThis, "fetch").mockImplementation(async (input: RequestInfo | URL, init?: RequestInit) => {
      const request = new Request(input as RequestInfo, init);
      if (new URL(request.url).host !== host) return original(input as RequestInfo, init);
      stamps.push({ sent: clock, stamp: Number(request.headers.get("webhook-timestamp")) * 1000 });
      await new Promise((resolve) => setTimeout(resolve, 5));
      clock += 4 * 60_000;
      return new Response("ok", { status: 200 });
    });
    try {
      const batch = createMessageBatch(
        "pulse-webhooks",
        messages.map((m, i) => ({ id: `qm-stamp-${i}-${m.id}`, timestamp: new Date(), attempts: 1, body: { message_id: m.id, base_attempts: 0 } })),
      );
      const ctx = createExecutionContext();
      await worker.queue(batch, env, ctx);
      await getQueueResult(batch, ctx);
    } finally {
      setClock(null);
    }
    expect(stamps).toHaveLength(messages.length);
    // The last one went out after the first two had taken their minutes, and says so.
    expect(Math.max(...stamps.map((s) => s.sent)) - Math.min(...stamps.map((s) => s.sent))).toBeGreaterThanOrEqual(4 * 60_000);
    for (const s of stamps) expect(Math.abs(s.stamp - s.sent)).toBeLessThan(1000);
  });
});

describe("runPooled", () => {
  it("keeps within both bounds, returns results in the items' order, and handles an empty list", async () => {
    let running = 0;
    let max = 0;
    const perKey = new Map<string, number>();
    let maxPerKey = 0;
    const items = Array.from({ length: 20 }, (_, i) => ({ i, key: i % 3 === 0 ? "a" : `k${i}` }));
    const results = await runPooled(items, { limit: 4, perKey: 1, key: (t) => t.key }, async (t) => {
      running++;
      perKey.set(t.key, (perKey.get(t.key) ?? 0) + 1);
      max = Math.max(max, running);
      maxPerKey = Math.max(maxPerKey, perKey.get(t.key)!);
      await new Promise((resolve) => setTimeout(resolve, 1 + (t.i % 4)));
      perKey.set(t.key, perKey.get(t.key)! - 1);
      running--;
      return t.i * 10;
    });
    expect(results).toEqual(items.map((t) => t.i * 10));
    expect(max).toBe(4);
    expect(maxPerKey).toBe(1);
    expect(await runPooled([], { limit: 3 }, async () => 1)).toEqual([]);
    await expect(runPooled([1, 2, 3], { limit: 2 }, async (n) => (n === 2 ? Promise.reject(new Error("boom")) : n))).rejects.toThrow("boom");
  });
});
