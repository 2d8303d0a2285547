import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createDb } from "../../src/db/client";
import { createLogger } from "../../src/lib/logger";
import { countTokenIssued, flushTokenUsage } from "../../src/tokens/metering";
import { call } from "../support/api";
import { createTenant } from "../support/factories";

async function tokensMetered(projectId: string) {
  const row = await env.DB.prepare("SELECT COALESCE(SUM(quantity), 0) AS n, COUNT(*) AS events FROM usage_events WHERE project_id = ? AND meter = 'tokens_issued'")
    .bind(projectId)
    .first<{ n: number; events: number }>();
  return row!;
}

/** The count is written after the response (waitUntil): poll until it settles. */
async function settled(projectId: string, expected: number) {
  const deadline = Date.now() + 10_000;
  let last = await tokensMetered(projectId);
  while (last.n < expected && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 25));
    last = await tokensMetered(projectId);
  }
  // A little longer, to catch any double count arriving late.
  await new Promise((r) => setTimeout(r, 100));
  return tokensMetered(projectId);
}

describe("tokens_issued metering", () => {
  it("meters every minted token exactly once, sequential and concurrent, per project", async () => {
    const a = await createTenant();
    const b = await createTenant();
    const mint = (secret: string, i: number) => call("POST", "/v1/tokens", { token: secret, body: { identity: `u${i}`, room: "r" } });
    for (let i = 0; i < 5; i++) expect((await mint(a.key.secret, i)).status).toBe(201);
    const burst = await Promise.all([...Array.from({ length: 40 }, (_, i) => mint(a.key.secret, i)), ...Array.from({ length: 7 }, (_, i) => mint(b.key.secret, i))]);
    expect(burst.every((r) => r.status === 201)).toBe(true);

    const meteredA = await settled(a.project.id, 45);
    const meteredB = await settled(b.project.id, 7);
    expect(meteredA.n).toBe(45);
    expect(meteredB.n).toBe(7);
  });

  it("writes the tokens counted while a flush waits as one usage event per project", async () => {
    const { project, org } = await createTenant();
    const db = createDb(env.DB);
    for (let i = 0; i < 10; i++) countTokenIssued(project.id, org.id);
    const flush = flushTokenUsage(db, createLogger());
    // Counted while the flush is already running: its own flush returns at once, the running one takes it.
    countTokenIssued(project.id, org.id);
    await flushTokenUsage(db, createLogger());
    await flush;
    expect(await tokensMetered(project.id)).toEqual({ n: 11, events: 1 });
  });

  it("under steady minting writes once per interval, never back to back, and counts every token", async () => {
    const { project, org } = await createTenant();
    const db = createDb(env.DB);
    countTokenIssued(project.id, org.id);
    let minted = 1;
    const first = flushTokenUsage(db, createLogger());
    expect(first).not.toBeNull();
    const flushes = [first];
    // One token every 5 ms for 2.5 s, each handing a flush to the caller as a request does.
    const until = Date.now() + 2_500;
    while (Date.now() < until) {
      countTokenIssued(project.id, org.id);
      minted += 1;
      flushes.push(flushTokenUsage(db, createLogger()));
      await new Promise((r) => setTimeout(r, 5));
    }
    await Promise.all(flushes);
    const metered = await tokensMetered(project.id);
    expect(metered.n).toBe(minted);
    // A write per second of minting (plus the hand-over), not one per database round trip.
    expect(metered.events).toBeLessThanOrEqual(5);
  });

  it("does not meter refused requests", async () => {
    const { project, key } = await createTenant();
    await call("POST", "/v1/tokens", { token: key.secret, body: { identity: "a", room: "r", grants: { room_create: true } } });
    await call("POST", "/v1/tokens", { token: key.secret, body: { identity: "" } });
    expect((await call("POST", "/v1/tokens", { token: key.secret, body: { identity: "a", room: "r" } })).status).toBe(201);
    expect((await settled(project.id, 1)).n).toBe(1);
  });

  it("keeps counts through a failed write and writes them on the next flush without doubling", async () => {
    const { project, org } = await createTenant();
    const logged: string[] = [];
    const logger = { ...createLogger(), error: (message: string) => void logged.push(message) };
    const db = createDb(env.DB);
    // A database whose batch fails once, as D1 does when overloaded.
    let failNext = true;
    const flaky = new Proxy(db, {
      get(target, prop, receiver) {
        if (prop === "batch" && failNext) {
          return async () => {
            failNext = false;
            throw new Error("D1_ERROR: overloaded");
          };
        }
        return Reflect.get(target, prop, receiver);
      },
    });
    for (let i = 0; i < 3; i++) countTokenIssued(project.id, org.id);
    await flushTokenUsage(flaky, logger);
    expect(logged).toEqual(["usage_flush_failed"]);
    expect((await tokensMetered(project.id)).n).toBe(0);

    countTokenIssued(project.id, org.id);
    await flushTokenUsage(db, logger);
    expect(await tokensMetered(project.id)).toEqual({ n: 4, events: 2 });
    await flushTokenUsage(db, logger);
    expect((await tokensMetered(project.id)).n).toBe(4);
  });
});
