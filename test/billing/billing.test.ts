import { describe, expect, it } from "vitest";
import { microsToCents } from "../../src/billing/pricing";
import { setClock } from "../../src/lib/clock";
import { call, expectEnvelope } from "../support/api";
import { createUser } from "../support/factories";
import { addUsage, orgOnPlan } from "../support/billing";
import { joinOrg } from "../support/team";
import { runCron } from "../support/cron";

const oct = (d: number, h = 0, m = 0, s = 0) => Date.UTC(2026, 9, d, h, m, s);

describe("money arithmetic", () => {
  it("converts micros to cents rounding half up, exactly, even for large amounts", () => {
    expect(microsToCents(0n)).toBe(0);
    expect(microsToCents(4_999n)).toBe(0);
    expect(microsToCents(5_000n)).toBe(1);
    expect(microsToCents(14_999n)).toBe(1);
    expect(microsToCents(15_000n)).toBe(2);
    // 3 billion minutes at 4,000 micros plus half a cent: $12,000,000.005 → 1,200,000,001 ¢.
    expect(microsToCents(3_000_000_000n * 4_000n + 5_000n)).toBe(1_200_000_001);
  });
});

describe("GET /v1/orgs/{org_id}/billing", () => {
  it("prices this month's usage on Pro: included subtracted, overage at the plan's rates, base fee added, in exact cents", async () => {
    const owner = await createUser();
    setClock(() => oct(1, 0, 0, 1));
    const t = await orgOnPlan(owner, "pro");
    // Rolled-up days, the not-yet-rolled live hour, and usage outside October that must not count.
    await addUsage(t, "participant_minutes", 30_000, oct(3, 10));
    await addUsage(t, "participant_minutes", 20_000, oct(15, 18, 30));
    await addUsage(t, "egress_minutes", 1_250, oct(10, 9));
    await addUsage(t, "ingress_minutes", 1_000, oct(11, 9));
    await addUsage(t, "tokens_issued", 2_000_000, oct(12, 9));
    await addUsage(t, "participant_minutes", 9_999, Date.UTC(2026, 8, 30, 23, 59, 59));
    setClock(() => oct(20, 12, 30));
    await runCron("17 3 * * *"); // the daily backfill rolls the month up
    await addUsage(t, "participant_minutes", 30, oct(20, 12, 10));

    const res = await call("GET", `/v1/orgs/${t.orgId}/billing`, { token: owner.token });
    expect(res.status, res.text).toBe(200);
    expect(res.body).toEqual({
      org_id: t.orgId,
      plan: { id: "pro", name: "Pro", hard_cap: false },
      currency: "usd",
      period_start: "2026-10-01T00:00:00Z",
      period_end: "2026-11-01T00:00:00Z",
      meters: {
        // 30 over × 500 micros = 15,000 micros = 1.5 ¢ → 2 ¢ (half up)
        participant_minutes: { used: 50_030, included: 50_000, overage_units: 30, overage_unit_price_micros: 500, overage_cents: 2, exhausted: false },
        // 250 over × 4,000 micros = $1.00
        egress_minutes: { used: 1_250, included: 1_000, overage_units: 250, overage_unit_price_micros: 4_000, overage_cents: 100, exhausted: false },
        ingress_minutes: { used: 1_000, included: 1_000, overage_units: 0, overage_unit_price_micros: 4_000, overage_cents: 0, exhausted: false },
        // Pro has no token rate: over the quota, yet nothing to pay.
        tokens_issued: { used: 2_000_000, included: 1_000_000, overage_units: 1_000_000, overage_unit_price_micros: null, overage_cents: 0, exhausted: false },
      },
      base_fee_cents: 5_000,
      overage_cents: 102,
      total_cents: 5_102,
      quota_exhausted: false,
      // Free for the second between the org's creation and its upgrade: Pro's fee and allowances,
      // prorated to the rest of the month, still round to the whole.
      segments: [
        expect.objectContaining({ plan: { id: "free", name: "Free", hard_cap: true }, period_start: "2026-10-01T00:00:00Z", period_end: "2026-10-01T00:00:01Z", prorated: true, total_cents: 0 }),
        expect.objectContaining({ plan: { id: "pro", name: "Pro", hard_cap: false }, period_start: "2026-10-01T00:00:01Z", period_end: "2026-11-01T00:00:00Z", prorated: true, base_fee_cents: 5_000, total_cents: 5_102 }),
      ],
    });
  });

  it("shows a free org's exhausted quota and charges it nothing", async () => {
    const owner = await createUser();
    setClock(() => oct(2));
    const t = await orgOnPlan(owner, "free");
    await addUsage(t, "tokens_issued", 100_000, oct(2, 5));
    await addUsage(t, "participant_minutes", 10, oct(2, 6));
    setClock(() => oct(5, 12));
    await runCron("17 3 * * *");
    const viewer = await joinOrg(owner, t.orgId, "viewer");

    const res = await call("GET", `/v1/orgs/${t.orgId}/billing`, { token: viewer.token });
    expect(res.status, res.text).toBe(200);
    expect(res.body.plan).toEqual({ id: "free", name: "Free", hard_cap: true });
    expect(res.body.meters.tokens_issued).toEqual({ used: 100_000, included: 100_000, overage_units: 0, overage_unit_price_micros: null, overage_cents: 0, exhausted: true });
    expect(res.body.meters.participant_minutes).toMatchObject({ used: 10, included: 5_000, exhausted: false });
    expect(res.body).toMatchObject({ base_fee_cents: 0, overage_cents: 0, total_cents: 0, quota_exhausted: true });
  });

  it("needs a signed-in member of the org", async () => {
    const owner = await createUser();
    const t = await orgOnPlan(owner, "free");
    expectEnvelope(await call("GET", `/v1/orgs/${t.orgId}/billing`), 401, "unauthenticated");
    expectEnvelope(await call("GET", `/v1/orgs/${t.orgId}/billing`, { token: t.key.secret }), 401, "unauthenticated");
    expectEnvelope(await call("GET", `/v1/orgs/org_doesnotexist/billing`, { token: owner.token }), 404, "not_found");
  });
});
