/**
 * A plan's `max_concurrent_egress` caps how many egresses an org has starting, active or ending at
 * once: the attack is an org (typically free) opening unbounded parallel recordings on the shared
 * LiveKit deployment. The cap holds over REST and over LiveKit's Twirp API, under concurrent starts,
 * and counts only the org's own egresses.
 */
import { env } from "cloudflare:workers";
import { EgressClient, EncodedFileOutput } from "livekit-server-sdk";
import { describe, expect, it } from "vitest";
import { call, expectEnvelope } from "../support/api";
import { orgOnPlan } from "../support/billing";
import { createUser } from "../support/factories";
import { useFakeLivekit } from "../support/fake-livekit";
import { createLivekitKey } from "../support/livekit-keys";
import { PULSE_HOST, twirpFailure, usePulseHost } from "../support/livekit-sdk";
import { deliverLivekitEvent, ns } from "../support/livekit-webhook";

const livekit = useFakeLivekit();
usePulseHost();

const ADMIN = env.PULSE_ADMIN_TOKEN!;

/** A new paid plan (so usage quotas never interfere) with the given concurrent egress cap. */
async function planWithCap(cap: number | null) {
  const id = `cap-${Math.random().toString(36).slice(2, 10)}`;
  const res = await call("POST", "/v1/admin/plans", {
    token: ADMIN,
    body: {
      id,
      name: `Capped ${id}`,
      monthly_price_cents: 1_000,
      included: { participant_minutes: 1_000, egress_minutes: 1_000, ingress_minutes: 1_000, tokens_issued: 1_000 },
      max_concurrent_egress: cap,
    },
  });
  if (res.status !== 201) throw new Error(res.text);
  return id;
}

async function orgWithCap(cap: number | null) {
  const owner = await createUser();
  const org = await orgOnPlan(owner, await planWithCap(cap));
  return { owner, ...org };
}

const start = (secret: string, room = "show") =>
  call("POST", "/v1/egress", { token: secret, body: { type: "room_composite", room, file_outputs: [{ filepath: `${room}.mp4` }] } });

async function activeRecords(orgId: string) {
  const { results } = await env.DB.prepare("SELECT egress_id FROM egresses WHERE org_id = ? AND status IN ('EGRESS_STARTING', 'EGRESS_ACTIVE', 'EGRESS_ENDING')")
    .bind(orgId)
    .all<{ egress_id: string }>();
  return results.map((r) => r.egress_id);
}

describe("concurrent egress cap per plan", () => {
  it("refuses an org's egress beyond its plan's cap with 402 quota_exceeded naming the limit, before LiveKit hears of it", async () => {
    const t = await orgWithCap(2);
    expect((await start(t.key.secret, "a")).status).toBe(201);
    expect((await start(t.key.secret, "b")).status).toBe(201);
    const before = livekit.callsTo("StartRoomCompositeEgress").length;

    const refused = expectEnvelope(await start(t.key.secret, "c"), 402, "quota_exceeded");
    expect(refused.message).toContain("allows 2 concurrent egresses");
    expect(livekit.callsTo("StartRoomCompositeEgress").length).toBe(before);
    expect(await activeRecords(t.orgId)).toHaveLength(2);
  });

  it("refuses the same over LiveKit's Twirp API with resource_exhausted", async () => {
    const t = await orgWithCap(1);
    const lk = await createLivekitKey(t.owner, t.projectId);
    const egress = new EgressClient(PULSE_HOST, lk.api_key, lk.api_secret);
    await egress.startRoomCompositeEgress("one", { file: new EncodedFileOutput({ filepath: "one.mp4" }) });

    const error = await twirpFailure(egress.startRoomCompositeEgress("two", { file: new EncodedFileOutput({ filepath: "two.mp4" }) }));
    expect(error.code).toBe("resource_exhausted");
    expect(error.message).toContain("allows 1 concurrent egresses");
    const web = await twirpFailure(egress.startWebEgress("https://example.com", { file: new EncodedFileOutput({ filepath: "w.mp4" }) }));
    expect(web.code).toBe("resource_exhausted");
    expect(await activeRecords(t.orgId)).toHaveLength(1);
  });

  it("lets a new egress start once one of the running ones has ended (egress_ended webhook)", async () => {
    const t = await orgWithCap(1);
    const first = await start(t.key.secret, "first");
    expect(first.status).toBe(201);
    expectEnvelope(await start(t.key.secret, "second"), 402, "quota_exceeded");

    const wireRoom = `${t.projectId}:first`;
    const t0 = Date.now() - 60_000;
    await deliverLivekitEvent({
      event: "egress_ended",
      room: { sid: "RM_cap", name: wireRoom },
      egressInfo: { egressId: first.body.egress_id, roomName: wireRoom, status: "EGRESS_COMPLETE", startedAt: ns(t0), endedAt: ns(t0 + 30_000) },
    });
    expect(await activeRecords(t.orgId)).toEqual([]);

    const again = await start(t.key.secret, "second");
    expect(again.status, again.text).toBe(201);
    expectEnvelope(await start(t.key.secret, "third"), 402, "quota_exceeded");
  });

  it("counts an egress that is ending (stopped but not yet complete) against the cap", async () => {
    const t = await orgWithCap(1);
    const first = await start(t.key.secret, "first");
    const stopped = await call("POST", `/v1/egress/${first.body.id}/stop`, { token: t.key.secret });
    expect(stopped.body.status).toBe("EGRESS_ENDING");
    expectEnvelope(await start(t.key.secret, "second"), 402, "quota_exceeded");
  });

  it("admits only the cap's worth of concurrent starts and stops in LiveKit any that lost the race", async () => {
    const t = await orgWithCap(2);
    const results = await Promise.all(["r1", "r2", "r3", "r4", "r5"].map((room) => start(t.key.secret, room)));
    const created = results.filter((r) => r.status === 201);
    expect(created).toHaveLength(2);
    for (const r of results.filter((r) => r.status !== 201)) expectEnvelope(r, 402, "quota_exceeded");

    const recorded = await activeRecords(t.orgId);
    expect(recorded.sort()).toEqual(created.map((r) => r.body.egress_id).sort());
    // Every egress LiveKit started but Pulse did not record is stopped, so nothing runs unseen.
    const mine = [...livekit.egresses.values()].filter((e) => e.room_name.startsWith(`${t.projectId}:`));
    await expect.poll(() => mine.filter((e) => !recorded.includes(e.egress_id) && e.status !== "EGRESS_ENDING")).toEqual([]);
    expect(mine.filter((e) => recorded.includes(e.egress_id)).map((e) => e.status)).toEqual(["EGRESS_STARTING", "EGRESS_STARTING"]);
  });

  it("puts no cap on an org whose plan's cap is null", async () => {
    const t = await orgWithCap(null);
    for (const room of ["a", "b", "c", "d"]) expect((await start(t.key.secret, room)).status).toBe(201);
    expect(await activeRecords(t.orgId)).toHaveLength(4);
  });

  it("does not count another org's egresses against an org's cap", async () => {
    const busy = await orgWithCap(1);
    const quiet = await orgWithCap(1);
    expect((await start(busy.key.secret, "x")).status).toBe(201);
    expectEnvelope(await start(busy.key.secret, "y"), 402, "quota_exceeded");
    expect((await start(quiet.key.secret, "x")).status).toBe(201);
  });
});
