import { createExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { forgetQuota } from "../../src/billing/quota";
import worker from "../../src/index";
import { setClock } from "../../src/lib/clock";
import { currentMonth } from "../../src/usage/service";
import { call, expectEnvelope } from "../support/api";
import { createUser } from "../support/factories";
import { useFakeLivekit } from "../support/fake-livekit";
import { addUsage, orgOnPlan } from "../support/billing";
import { rows } from "../support/db";
import { runCron } from "../support/cron";

const mar = (d: number, h = 0, m = 0) => Date.UTC(2026, 2, d, h, m);
const mint = (secret: string) => call("POST", "/v1/tokens", { token: secret, body: { identity: "alice", room: "standup" } });

const livekit = useFakeLivekit();

describe("hard-cap quotas (free plan)", () => {
  it("refuses tokens with 402 quota_exceeded once the month's tokens are used up, never on Pro, and resets next month", async () => {
    const owner = await createUser();
    setClock(() => mar(2));
    const free = await orgOnPlan(owner, "free");
    const pro = await orgOnPlan(owner, "pro");
    for (const t of [free, pro]) await addUsage(t, "tokens_issued", 100_000, mar(3, 9));
    setClock(() => mar(15, 12));
    await runCron("17 3 * * *");

    const refused = await mint(free.key.secret);
    const error = expectEnvelope(refused, 402, "quota_exceeded");
    expect(error.message).toMatch(/100000 tokens per month/);
    expect((await mint(pro.key.secret)).status).toBe(201);
    // Verifying a token consumes nothing and stays available.
    expect((await call("POST", "/v1/tokens/verify", { token: free.key.secret, body: { token: "not-a-jwt" } })).status).toBe(200);

    setClock(() => Date.UTC(2026, 3, 1, 0, 5));
    const april = await mint(free.key.secret);
    expect(april.status, april.text).toBe(201);
  });

  it("counts this isolate's own tokens at once: the token that reaches the quota is the last one", async () => {
    const owner = await createUser();
    setClock(() => mar(2));
    const free = await orgOnPlan(owner, "free");
    await addUsage(free, "tokens_issued", 99_998, mar(3, 9));
    setClock(() => mar(16, 12));
    await runCron("17 3 * * *");
    expect((await mint(free.key.secret)).status).toBe(201);
    expect((await mint(free.key.secret)).status).toBe(201);
    expectEnvelope(await mint(free.key.secret), 402, "quota_exceeded");
  });

  it("refuses new tokens when participant minutes are used up, while unexhausted meters stay usable", async () => {
    // Real time here: the fake LiveKit judges service tokens against the real clock.
    const owner = await createUser();
    const free = await orgOnPlan(owner, "free");
    // Minutes from the last minute (in the live hours the usage query reads from raw events).
    await addUsage(free, "participant_minutes", 5_000, Math.max(currentMonth().since, Date.now() - 60_000));
    expect(expectEnvelope(await mint(free.key.secret), 402, "quota_exceeded").message).toMatch(/participant minutes/);
    const ingress = await call("POST", "/v1/ingress", { token: free.key.secret, body: { input_type: "rtmp", room: "stage", participant_identity: "cam" } });
    expect(ingress.status, ingress.text).toBe(201);
  });

  it("refuses starting egress and creating ingress when their minutes are used up, without calling LiveKit", async () => {
    const owner = await createUser();
    setClock(() => mar(2));
    const free = await orgOnPlan(owner, "free");
    await addUsage(free, "egress_minutes", 60, mar(5, 9));
    await addUsage(free, "ingress_minutes", 61, mar(5, 10));
    setClock(() => mar(18, 12));
    await runCron("17 3 * * *");
    const egress = await call("POST", "/v1/egress", { token: free.key.secret, body: { type: "room_composite", room: "stage", file_outputs: [{ filepath: "rec.mp4" }] } });
    expectEnvelope(egress, 402, "quota_exceeded");
    const ingress = await call("POST", "/v1/ingress", { token: free.key.secret, body: { input_type: "rtmp", room: "stage", participant_identity: "cam" } });
    expectEnvelope(ingress, 402, "quota_exceeded");
    expect(livekit.calls).toEqual([]);
    expect(await rows("SELECT id FROM egresses WHERE org_id = ? UNION ALL SELECT id FROM ingresses WHERE org_id = ?", free.orgId, free.orgId)).toEqual([]);
    // Reading is not consuming.
    expect((await call("GET", "/v1/egress", { token: free.key.secret })).status).toBe(200);
    expect((await mint(free.key.secret)).status).toBe(201);
  });

  it("lifts the cap at once when the owner upgrades to a paid plan", async () => {
    const owner = await createUser();
    setClock(() => mar(2));
    const free = await orgOnPlan(owner, "free");
    await addUsage(free, "tokens_issued", 100_000, mar(6, 9));
    setClock(() => mar(19, 12));
    await runCron("17 3 * * *");
    expectEnvelope(await mint(free.key.secret), 402, "quota_exceeded");
    expect((await call("PUT", `/v1/orgs/${free.orgId}/plan`, { token: owner.token, body: { plan: "pro" } })).status).toBe(200);
    expect((await mint(free.key.secret)).status).toBe(201);
  });

  describe("never makes a request wait on another request's quota queries", () => {
    // A request whose client disconnects is cancelled with its queries; a request waiting on them
    // would hang until the runtime answers 500. Here the first request's queries never answer.
    const never = new Promise<never>(() => undefined);
    const statement = { bind: () => statement, all: () => never, raw: () => never, first: () => never, run: () => never };
    const unanswering = { prepare: () => statement, batch: () => never, exec: () => never };

    async function mintWhileAnotherHangs(secret: string) {
      const hung = Promise.resolve(worker.fetch(
        new Request("https://pulse.test/v1/tokens", { method: "POST", headers: { Authorization: `Bearer ${secret}`, "Content-Type": "application/json", "CF-Connecting-IP": "203.0.113.7" }, body: JSON.stringify({ identity: "bob", room: "standup" }) }),
        Object.assign(Object.create(null), env, { DB: unanswering }),
        createExecutionContext(),
      ));
      let settled = false;
      void hung.then(() => (settled = true), () => (settled = true));
      await new Promise((r) => setTimeout(r, 50));
      const next = await Promise.race([mint(secret), new Promise<null>((r) => setTimeout(() => r(null), 3_000))]);
      expect(settled, "the first request answered although its queries never do").toBe(false);
      return next;
    }

    it("uses the expired snapshot while one request refreshes it", async () => {
      const owner = await createUser();
      setClock(() => mar(20, 9));
      const free = await orgOnPlan(owner, "free");
      expect((await mint(free.key.secret)).status).toBe(201);
      // Past the snapshot's 60 s; the key's own 30 s cache is refilled by a call that checks no quota.
      setClock(() => mar(20, 9, 2));
      expect((await call("POST", "/v1/tokens/verify", { token: free.key.secret, body: { token: "not-a-jwt" } })).status).toBe(200);
      const next = await mintWhileAnotherHangs(free.key.secret);
      expect(next?.status, "the second request waited on the first one's refresh").toBe(201);
    });

    it("computes its own snapshot when there is none", async () => {
      const owner = await createUser();
      setClock(() => mar(21, 9));
      const free = await orgOnPlan(owner, "free");
      expect((await mint(free.key.secret)).status).toBe(201);
      forgetQuota(free.orgId);
      const next = await mintWhileAnotherHangs(free.key.secret);
      expect(next?.status, "the second request waited on the first one's computation").toBe(201);
    });
  });
});
