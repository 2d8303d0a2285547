import { abortAllDurableObjects, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { setClock } from "../../src/lib/clock";
import { createApiKey, createTenant } from "../support/factories";
import { countStatuses, mintToken, setProjectLimit } from "./helpers";

function limiterOf(projectId: string) {
  return env.RATE_LIMITER.get(env.RATE_LIMITER.idFromName(`project:${projectId}`));
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
    for (let i = 0; i < 3; i++) expect((await mintToken(key.secret)).status).toBe(201);

    const before = await runInDurableObject(limiterOf(project.id), (instance) => instance);
    await abortAllDurableObjects();
    const fresh = await runInDurableObject(limiterOf(project.id), (instance) => instance);
    expect(fresh).not.toBe(before);
    // A fresh instance reloads the three hits from storage: one slot is left, not four.
    const after = await Promise.all(Array.from({ length: 3 }, (_, i) => mintToken(key.secret, i)));
    expect(countStatuses(after.map((r) => r.status))).toEqual({ 201: 1, 429: 2 });
    const stored = await runInDurableObject(limiterOf(project.id), (_, state) =>
      state.storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM hits").one().n,
    );
    expect(stored).toBe(4);

    // Refused requests are not recorded; once the window has passed, old entries are deleted.
    setClock(() => t0 + 61_000);
    expect((await mintToken(key.secret)).status).toBe(201);
    const remaining = await runInDurableObject(limiterOf(project.id), (_, state) =>
      state.storage.sql.exec<{ ts: number }>("SELECT ts FROM hits").toArray().map((r) => r.ts),
    );
    expect(remaining).toEqual([t0 + 61_000]);
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
