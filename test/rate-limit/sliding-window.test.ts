import { abortAllDurableObjects, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it, vi } from "vitest";
import { setClock } from "../../src/lib/clock";
import { limiterStub, WINDOW_MS } from "../../src/rate-limit/service";
import type { RateLimiter } from "../../src/rate-limit/rate-limiter-do";
import { createApiKey, createTenant } from "../support/factories";
import { countStatuses, mintToken, setProjectLimit } from "./helpers";

function limiterOf(projectId: string) {
  return env.RATE_LIMITER.get(env.RATE_LIMITER.idFromName(`project:${projectId}`));
}

/** The limiter's stored per-millisecond counts, oldest first. */
function storedCounts(projectId: string) {
  return runInDurableObject(limiterOf(projectId), (_, state) =>
    state.storage.sql.exec<{ ms: number; n: number }>("SELECT ms, n FROM hit_counts ORDER BY ms").toArray().map((r) => ({ ...r })),
  );
}

/** Waits until the limiter's write-behind flush (FLUSH_AFTER_MS after a hit) has stored `expected`. */
async function storedEventually(projectId: string, expected: { ms: number; n: number }[]) {
  await vi.waitFor(async () => expect(await storedCounts(projectId)).toEqual(expected), { timeout: 5_000, interval: 10 });
}

describe("the sliding-window rate limiter", () => {
  it("admits exactly L of N concurrent requests", async () => {
    const { project, key } = await createTenant();
    await setProjectLimit(project.id, 7);
    const responses = await Promise.all(Array.from({ length: 25 }, (_, i) => mintToken(key.secret, i)));
    expect(countStatuses(responses.map((r) => r.status))).toEqual({ 201: 7, 429: 18 });
    for (const r of responses.filter((r) => r.status === 429)) expect(r.body.error.code).toBe("rate_limited");
  });

  it("returns capacity as old requests age out of the window, not at a fixed boundary", async () => {
    const { project, key } = await createTenant();
    await setProjectLimit(project.id, 5);
    const t0 = Date.now();
    setClock(() => t0);
    for (let i = 0; i < 3; i++) expect((await mintToken(key.secret)).status).toBe(201);
    setClock(() => t0 + 30_000);
    for (let i = 0; i < 2; i++) expect((await mintToken(key.secret)).status).toBe(201);
    const full = await mintToken(key.secret);
    expect(full.status).toBe(429);
    // The oldest of the five leaves at t0 + 60 s: 30 s from now.
    expect(full.headers.get("Retry-After")).toBe("30");

    // Just before the first three age out: still full.
    setClock(() => t0 + 59_999);
    expect((await mintToken(key.secret)).status).toBe(429);
    // Just after: exactly those three slots return; the two from t0 + 30 s still count.
    setClock(() => t0 + 60_001);
    const next = await Promise.all(Array.from({ length: 5 }, (_, i) => mintToken(key.secret, i)));
    expect(countStatuses(next.map((r) => r.status))).toEqual({ 201: 3, 429: 2 });
    expect(next.find((r) => r.status === 429)!.headers.get("Retry-After")).toBe("30");

    // Once everything has aged out, the full limit is available again.
    setClock(() => t0 + 200_000);
    const later = await Promise.all(Array.from({ length: 6 }, (_, i) => mintToken(key.secret, i)));
    expect(countStatuses(later.map((r) => r.status))).toEqual({ 201: 5, 429: 1 });
  });

  it("keeps its window when the object is evicted and prunes entries that left the window", async () => {
    const { project, key } = await createTenant();
    await setProjectLimit(project.id, 4);
    const t0 = Date.now();
    setClock(() => t0);
    for (let i = 0; i < 2; i++) expect((await mintToken(key.secret)).status).toBe(201);
    setClock(() => t0 + 5);
    expect((await mintToken(key.secret)).status).toBe(201);
    // Written behind the answers, in one flush, one row per millisecond.
    await storedEventually(project.id, [
      { ms: t0, n: 2 },
      { ms: t0 + 5, n: 1 },
    ]);

    const before = await runInDurableObject(limiterOf(project.id), (instance) => instance);
    await abortAllDurableObjects();
    const fresh = await runInDurableObject(limiterOf(project.id), (instance) => instance);
    expect(fresh).not.toBe(before);
    // A fresh instance reloads the three hits from storage: one slot is left, not four.
    const after = await Promise.all(Array.from({ length: 3 }, (_, i) => mintToken(key.secret, i)));
    expect(countStatuses(after.map((r) => r.status))).toEqual({ 201: 1, 429: 2 });
    // The new hit joins its millisecond's row: two at t0, two at t0 + 5 ms.
    await storedEventually(project.id, [
      { ms: t0, n: 2 },
      { ms: t0 + 5, n: 2 },
    ]);

    // Refused requests are not recorded; once the window has passed, old entries are deleted.
    setClock(() => t0 + 61_000);
    expect((await mintToken(key.secret)).status).toBe(201);
    await storedEventually(project.id, [{ ms: t0 + 61_000, n: 1 }]);
  });

  it("frees a slot exactly one window after a hit, not a millisecond earlier", async () => {
    const { project, key } = await createTenant();
    await setProjectLimit(project.id, 2);
    const t0 = Date.now();
    setClock(() => t0);
    expect((await mintToken(key.secret)).status).toBe(201);
    setClock(() => t0 + 1);
    expect((await mintToken(key.secret)).status).toBe(201);

    setClock(() => t0 + WINDOW_MS - 1);
    const early = await mintToken(key.secret);
    expect(early.status).toBe(429);
    expect(early.headers.get("Retry-After")).toBe("1");
    // The hit at t0 leaves at t0 + 60 000 ms exactly: one slot, the one from t0 + 1 ms still counts.
    setClock(() => t0 + WINDOW_MS);
    const onTime = await Promise.all([mintToken(key.secret, 1), mintToken(key.secret, 2)]);
    expect(countStatuses(onTime.map((r) => r.status))).toEqual({ 201: 1, 429: 1 });
    // Then the one from t0 + 1 ms leaves, one millisecond later.
    setClock(() => t0 + WINDOW_MS + 1);
    const next = await Promise.all([mintToken(key.secret, 1), mintToken(key.secret, 2)]);
    expect(countStatuses(next.map((r) => r.status))).toEqual({ 201: 1, 429: 1 });
  });

  it("keeps storage bounded by the window's milliseconds, not by the number of hits", async () => {
    const { project } = await createTenant();
    const stub = limiterOf(project.id);
    const t0 = Date.now();
    const windowMs = 500;
    await runInDurableObject(stub, (object) => {
      const instance = object as unknown as RateLimiter;
      // 20 000 admitted hits in one millisecond: one row.
      setClock(() => t0);
      for (let i = 0; i < 20_000; i++) expect(instance.hit(1_000_000, windowMs).allowed).toBe(true);
      // Then hits every millisecond for ten windows: the window never holds more than its length.
      for (let ms = 1; ms <= 10 * windowMs; ms++) {
        setClock(() => t0 + ms);
        for (let i = 0; i < 3; i++) expect(instance.hit(1_000_000, windowMs).allowed).toBe(true);
      }
    });
    let rows: { ms: number; n: number }[] = [];
    await vi.waitFor(async () => {
      rows = await storedCounts(project.id);
      expect(rows.at(-1)?.ms).toBe(t0 + 10 * windowMs);
    }, { timeout: 5_000, interval: 10 });
    // At most the window plus one storage-prune interval of rows, however many hits went through.
    expect(rows.length).toBeLessThanOrEqual(windowMs + 1_000);
    expect(rows.length).toBeGreaterThanOrEqual(windowMs);
    const last = t0 + 10 * windowMs;
    const live = rows.filter((r) => r.ms > last - windowMs);
    expect(live.reduce((sum, r) => sum + r.n, 0)).toBe(3 * (windowMs - 1) + 3);
    // The decision counts only the window: 1 500 live hits, so 2 of a 1 502 limit remain.
    setClock(() => last);
    const decision = await stub.hit(1_502, windowMs);
    expect(decision).toMatchObject({ allowed: true, remaining: 1 });
  });

  it("names the right wait when the limit is lowered below the hits already counted", async () => {
    const { project } = await createTenant();
    const stub = limiterOf(project.id);
    const t0 = Date.now();
    setClock(() => t0);
    for (let i = 0; i < 5; i++) await stub.hit(10, WINDOW_MS);
    setClock(() => t0 + 10_000);
    for (let i = 0; i < 5; i++) await stub.hit(10, WINDOW_MS);
    setClock(() => t0 + 20_000);
    // Ten counted, limit now 3: the 8th oldest (from t0 + 10 s) must leave first, at t0 + 70 s.
    expect(await stub.hit(3, WINDOW_MS)).toMatchObject({ allowed: false, remaining: 0, resetMs: 50_000 });
    // Full at exactly the limit: the oldest leaves first.
    expect(await stub.hit(10, WINDOW_MS)).toMatchObject({ allowed: false, resetMs: 40_000 });
  });

  it("carries a window stored one row per hit over to per-millisecond counts", async () => {
    const { project, key } = await createTenant();
    await setProjectLimit(project.id, 5);
    const t0 = Date.now();
    setClock(() => t0);
    const stub = limiterOf(project.id);
    // An object as the earlier version left it: one row per admitted hit.
    await runInDurableObject(stub, (_, state) => {
      state.storage.sql.exec("DELETE FROM hit_counts");
      state.storage.sql.exec("CREATE TABLE hits (id INTEGER PRIMARY KEY AUTOINCREMENT, ts INTEGER NOT NULL)");
      for (const ts of [t0 - 2, t0 - 2, t0 - 1, t0]) state.storage.sql.exec("INSERT INTO hits (ts) VALUES (?)", ts);
    });
    await abortAllDurableObjects();
    const results = await Promise.all(Array.from({ length: 3 }, (_, i) => mintToken(key.secret, i)));
    expect(countStatuses(results.map((r) => r.status))).toEqual({ 201: 1, 429: 2 });
    await storedEventually(project.id, [
      { ms: t0 - 2, n: 2 },
      { ms: t0 - 1, n: 1 },
      { ms: t0, n: 2 },
    ]);
    const tables = await runInDurableObject(limiterOf(project.id), (_, state) =>
      state.storage.sql.exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'hits'").toArray(),
    );
    expect(tables).toEqual([]);
  });

  it("counts each project separately", async () => {
    const a = await createTenant();
    const b = await createTenant();
    await setProjectLimit(a.project.id, 2);
    await setProjectLimit(b.project.id, 2);
    for (let i = 0; i < 2; i++) expect((await mintToken(a.key.secret)).status).toBe(201);
    expect((await mintToken(a.key.secret)).status).toBe(429);
    expect((await mintToken(b.key.secret)).status).toBe(201);
  });

  it("shares one project's limit across all of its keys", async () => {
    const { user, project, key } = await createTenant();
    const second = await createApiKey(user, project.id);
    await setProjectLimit(project.id, 3);
    const results = await Promise.all([mintToken(key.secret), mintToken(second.secret), mintToken(key.secret), mintToken(second.secret)]);
    expect(countStatuses(results.map((r) => r.status))).toEqual({ 201: 3, 429: 1 });
  });
});

describe("limiter objects by key", () => {
  it("reaches the object named by the key, and the same one on every call", async () => {
    const a = limiterStub(env.RATE_LIMITER, "project:id-cache-a");
    const again = limiterStub(env.RATE_LIMITER, "project:id-cache-a");
    const b = limiterStub(env.RATE_LIMITER, "project:id-cache-b");
    expect(a.id.equals(env.RATE_LIMITER.idFromName("project:id-cache-a"))).toBe(true);
    expect(again.id.equals(a.id)).toBe(true);
    expect(b.id.equals(a.id)).toBe(false);
    // The counts live in the named object: two stubs for one key share them.
    expect((await a.hit(2, WINDOW_MS)).allowed).toBe(true);
    expect((await again.hit(2, WINDOW_MS)).allowed).toBe(true);
    expect((await a.hit(2, WINDOW_MS)).allowed).toBe(false);
    expect((await b.hit(2, WINDOW_MS)).allowed).toBe(true);
  });
});
