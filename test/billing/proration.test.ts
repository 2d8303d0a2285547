import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createMonthlyInvoices } from "../../src/billing/invoices";
import { apportion } from "../../src/billing/segments";
import { setClock } from "../../src/lib/clock";
import { rollUpDirtyHours } from "../../src/usage/rollup";
import { call } from "../support/api";
import { DashboardClient } from "../support/dashboard";
import { addUsage, db, orgOnPlan } from "../support/billing";
import { rows } from "../support/db";
import { createUser } from "../support/factories";

const at = (month: number, d: number, h = 0) => Date.UTC(2026, month - 1, d, h);

async function invoiceFor(orgId: string) {
  const [invoice] = await rows<{ id: string; plan_id: string; total_cents: number }>("SELECT id, plan_id, total_cents FROM invoices WHERE org_id = ?", orgId);
  const lines = await rows<{ kind: string; description: string; amount_cents: number; quantity: number; included_quantity: number }>(
    "SELECT kind, description, amount_cents, quantity, included_quantity FROM invoice_lines WHERE invoice_id = ? ORDER BY amount_cents DESC, kind",
    invoice!.id,
  );
  return { invoice: invoice!, lines };
}

describe("plan changes within a month", () => {
  it("bills the pro days of an org that downgrades to free on the last day, instead of skipping the bill", async () => {
    const owner = await createUser();
    setClock(() => at(9, 1));
    const org = await orgOnPlan(owner, "pro", "Downgrader");
    await addUsage(org, "participant_minutes", 40_000, at(9, 15));
    setClock(() => at(9, 30));
    expect((await call("PUT", `/v1/orgs/${org.orgId}/plan`, { token: owner.token, body: { plan: "free" } })).status).toBe(200);
    setClock(() => at(10, 2));
    await createMonthlyInvoices(db(), { now: at(10, 2), graceMs: 0 });

    const { invoice, lines } = await invoiceFor(org.orgId);
    // 29 of September's 30 days on Pro ($50.00/month): 5000 × 29/30 = 4833.3 → 4833 cents.
    expect(lines[0]).toMatchObject({ kind: "plan", amount_cents: 4833 });
    expect(lines[0]!.description).toMatch(/^Pro plan, September 1 to September 29 \(prorated\)$/);
    expect(lines.find((l) => l.description.startsWith("Free plan"))).toMatchObject({ amount_cents: 0 });
    expect(invoice.total_cents).toBe(4833);
    expect(invoice.plan_id).toBe("free");
  });

  it("bills usage at the rates of the plan it was made on, against that plan's prorated allowance", async () => {
    const owner = await createUser();
    setClock(() => at(11, 1));
    const org = await orgOnPlan(owner, "pro", "Half and half");
    // All 60,000 minutes on the 10th, on Pro (25,000 included in its half of November); none on Scale.
    await addUsage(org, "participant_minutes", 60_000, at(11, 10));
    setClock(() => at(11, 16));
    expect((await call("PUT", `/v1/orgs/${org.orgId}/plan`, { token: owner.token, body: { plan: "scale" } })).status).toBe(200);
    await createMonthlyInvoices(db(), { now: at(12, 2), graceMs: 0 });

    const { invoice, lines } = await invoiceFor(org.orgId);
    const byDescription = Object.fromEntries(lines.map((l) => [l.description, l]));
    expect(byDescription["Pro plan, November 1 to November 15 (prorated)"]).toMatchObject({ amount_cents: 2500 });
    expect(byDescription["Scale plan, November 16 to November 30 (prorated)"]).toMatchObject({ amount_cents: 25000 });
    // 35,000 over Pro's half allowance at 500 micros = 1,750 cents; Scale's half used nothing.
    const overage = lines.filter((l) => l.kind === "participant_minutes");
    expect(overage).toEqual([expect.objectContaining({ quantity: 60_000, included_quantity: 25_000, amount_cents: 1750 })]);
    expect(overage[0]!.description).toBe("Participant minutes over the 25000 included (Pro plan, November 1 to November 15 (prorated))");
    expect(invoice.total_cents).toBe(2500 + 25000 + 1750);
  });

  it("bills what an org used after upgrading from free, not a time share of the month", async () => {
    const owner = await createUser();
    setClock(() => at(11, 1));
    const org = await orgOnPlan(owner, "free", "Upgrader");
    await addUsage(org, "participant_minutes", 4_000, at(11, 5)); // within Free's cap, never billed
    setClock(() => at(11, 16));
    expect((await call("PUT", `/v1/orgs/${org.orgId}/plan`, { token: owner.token, body: { plan: "pro" } })).status).toBe(200);
    await addUsage(org, "participant_minutes", 60_000, at(11, 20));

    // The bill on the last day already says what the invoice will.
    setClock(() => at(11, 30, 12));
    await rollUpDirtyHours(db());
    const bill = await call("GET", `/v1/orgs/${org.orgId}/billing`, { token: owner.token });
    expect(bill.status).toBe(200);
    expect(bill.body).toMatchObject({ plan: { id: "pro" }, base_fee_cents: 2500, overage_cents: 1750, total_cents: 4250, quota_exhausted: false });
    expect(bill.body.meters.participant_minutes).toMatchObject({ used: 64_000, included: 2500 + 25_000, overage_units: 1500 + 35_000, overage_cents: 1750 });
    expect(bill.body.segments).toEqual([
      expect.objectContaining({ plan: { id: "free", name: "Free", hard_cap: true }, period_start: "2026-11-01T00:00:00Z", period_end: "2026-11-16T00:00:00Z", prorated: true, total_cents: 0 }),
      expect.objectContaining({ plan: { id: "pro", name: "Pro", hard_cap: false }, period_start: "2026-11-16T00:00:00Z", period_end: "2026-12-01T00:00:00Z", prorated: true, total_cents: 4250 }),
    ]);
    expect(bill.body.segments[0].meters.participant_minutes).toEqual({ used: 4000, included: 2500, overage_units: 1500, overage_unit_price_micros: null, overage_cents: 0 });
    expect(bill.body.segments[1].meters.participant_minutes).toMatchObject({ used: 60_000, included: 25_000, overage_cents: 1750 });
    const page = await DashboardClient.signedIn(owner.token).get(`/orgs/${org.orgId}/billing`);
    expect(page.html).toContain("Plans this period");
    expect(page.html).toContain("$42.50");

    await createMonthlyInvoices(db(), { now: at(12, 2), graceMs: 0 });
    const { invoice, lines } = await invoiceFor(org.orgId);
    expect(invoice.total_cents).toBe(4250);
    expect(lines.filter((l) => l.kind === "participant_minutes")).toEqual([expect.objectContaining({ quantity: 60_000, included_quantity: 25_000, amount_cents: 1750 })]);
  });

  it("prorates by the whole seconds each plan was in force, as the change's time reads in the API", async () => {
    const owner = await createUser();
    setClock(() => at(9, 1));
    const org = await orgOnPlan(owner, "pro", "Seconds");
    // Nine days and 1.999 s on Pro: 777,601 whole seconds of September's 2,592,000.
    const change = at(9, 10) + 1_999;
    setClock(() => change);
    expect((await call("PUT", `/v1/orgs/${org.orgId}/plan`, { token: owner.token, body: { plan: "scale" } })).status).toBe(200);
    setClock(() => at(9, 20));
    const bill = await call("GET", `/v1/orgs/${org.orgId}/billing`, { token: owner.token });
    const [pro, scale] = bill.body.segments;
    expect(pro.period_end).toBe("2026-09-10T00:00:01Z");
    const secondsOnPro = (Date.parse(pro.period_end) - Date.parse(pro.period_start)) / 1000;
    const secondsInMonth = (at(10, 1) - at(9, 1)) / 1000;
    // 1,000,000 × 777,601 / 2,592,000 = 300,000.39 → 300,000 (by milliseconds it was 300,000.77 → 300,001).
    expect(pro.meters.tokens_issued.included).toBe(Math.round((1_000_000 * secondsOnPro) / secondsInMonth));
    expect(pro.meters.tokens_issued.included).toBe(300_000);
    expect(scale.meters.tokens_issued.included).toBeGreaterThan(0);
  });

  it("splits the hour a plan changed in at the change, event by event", async () => {
    const owner = await createUser();
    setClock(() => at(11, 1));
    const org = await orgOnPlan(owner, "pro", "Mid-hour");
    const minute = (m: number) => at(11, 16, 10) + m * 60_000;
    await addUsage(org, "participant_minutes", 60_000, minute(10));
    setClock(() => minute(30));
    expect((await call("PUT", `/v1/orgs/${org.orgId}/plan`, { token: owner.token, body: { plan: "scale" } })).status).toBe(200);
    await addUsage(org, "participant_minutes", 1_000, minute(30)); // at the change: Scale's
    await addUsage(org, "participant_minutes", 500, minute(50));
    setClock(() => at(11, 20));
    await rollUpDirtyHours(db());

    const bill = await call("GET", `/v1/orgs/${org.orgId}/billing`, { token: owner.token });
    expect(bill.body.segments.map((s: any) => [s.plan.id, s.period_start, s.meters.participant_minutes.used])).toEqual([
      ["pro", "2026-11-01T00:00:00Z", 60_000],
      ["scale", "2026-11-16T10:30:00Z", 1_500],
    ]);
    expect(bill.body.meters.participant_minutes.used).toBe(61_500);
  });

  it("splits the hour by time when its raw events are gone (past their retention)", async () => {
    const owner = await createUser();
    setClock(() => at(11, 1));
    const org = await orgOnPlan(owner, "pro", "Pruned");
    const minute = (m: number) => at(11, 16, 10) + m * 60_000;
    await addUsage(org, "participant_minutes", 60_001, minute(10));
    setClock(() => minute(20));
    expect((await call("PUT", `/v1/orgs/${org.orgId}/plan`, { token: owner.token, body: { plan: "scale" } })).status).toBe(200);
    setClock(() => at(11, 20));
    await rollUpDirtyHours(db());
    await env.DB.prepare("DELETE FROM usage_events WHERE org_id = ?").bind(org.orgId).run();

    const bill = await call("GET", `/v1/orgs/${org.orgId}/billing`, { token: owner.token });
    // 20 minutes of the hour on Pro, 40 on Scale: 20,000.33 → 20,000 and 40,000.67 → 40,001, adding up.
    expect(bill.body.segments.map((s: any) => s.meters.participant_minutes.used)).toEqual([20_000, 40_001]);
    expect(bill.body.meters.participant_minutes.used).toBe(60_001);
  });

  it("splits many changes within the same hours exactly, over more boundaries than one statement can bind", async () => {
    const owner = await createUser();
    setClock(() => at(11, 1));
    const org = await orgOnPlan(owner, "pro", "Flapper");
    // 100 changes 7 minutes apart (about 9 in each hour), and usage of k + 1 minutes in the k-th segment.
    const change = (k: number) => at(11, 16, 9) + 3 * 60_000 + k * 7 * 60_000;
    await addUsage(org, "participant_minutes", 1, change(0) - 1);
    for (let k = 0; k < 100; k++) {
      setClock(() => change(k));
      expect((await call("PUT", `/v1/orgs/${org.orgId}/plan`, { token: owner.token, body: { plan: k % 2 === 0 ? "scale" : "pro" } })).status).toBe(200);
      await addUsage(org, "participant_minutes", k + 2, change(k) + 3 * 60_000);
    }
    setClock(() => at(11, 20));
    await rollUpDirtyHours(db());

    const bill = await call("GET", `/v1/orgs/${org.orgId}/billing`, { token: owner.token });
    expect(bill.status, bill.text).toBe(200);
    expect(bill.body.segments).toHaveLength(101);
    expect(bill.body.segments.map((s: any) => s.meters.participant_minutes.used)).toEqual(Array.from({ length: 101 }, (_, k) => k + 1));
    expect(bill.body.meters.participant_minutes.used).toBe((101 * 102) / 2);
  });

  it("splits by time an hour with more plan changes than one statement can bind, the parts adding up", async () => {
    const owner = await createUser();
    setClock(() => at(11, 1));
    const org = await orgOnPlan(owner, "pro", "Flapping fast");
    const second = (s: number) => at(11, 16, 10) + s * 1000;
    await addUsage(org, "participant_minutes", 10_007, second(1));
    for (let k = 0; k < 95; k++) {
      setClock(() => second(30 + k * 30));
      expect((await call("PUT", `/v1/orgs/${org.orgId}/plan`, { token: owner.token, body: { plan: k % 2 === 0 ? "scale" : "pro" } })).status).toBe(200);
    }
    setClock(() => at(11, 20));
    await rollUpDirtyHours(db());

    const bill = await call("GET", `/v1/orgs/${org.orgId}/billing`, { token: owner.token });
    expect(bill.status, bill.text).toBe(200);
    expect(bill.body.segments).toHaveLength(96);
    const used = bill.body.segments.map((s: any) => s.meters.participant_minutes.used);
    expect(used.reduce((a: number, b: number) => a + b, 0)).toBe(10_007);
    // 30 s each (83.4 minutes' worth), the last 750 s (2,084.8): floors add up to 9,969, and the 38
    // units left go to the largest remainders, the last segment's and then the earliest 37.
    expect(used[0]).toBe(84);
    expect(used[36]).toBe(84);
    expect(used[37]).toBe(83);
    expect(used[95]).toBe(2085);
    await createMonthlyInvoices(db(), { now: at(12, 2), graceMs: 0 });
    expect((await invoiceFor(org.orgId)).lines.filter((l) => l.kind === "plan")).toHaveLength(96);
  });

  it("invoices an org that changed plan every day of a fortnight: a line per segment, none lost", async () => {
    const owner = await createUser();
    setClock(() => at(6, 1));
    const org = await orgOnPlan(owner, "pro", "Indecisive");
    for (let day = 2; day <= 14; day++) {
      setClock(() => at(6, day));
      const plan = day % 2 === 0 ? "scale" : "pro";
      expect((await call("PUT", `/v1/orgs/${org.orgId}/plan`, { token: owner.token, body: { plan } })).status).toBe(200);
    }
    await createMonthlyInvoices(db(), { now: at(7, 2), graceMs: 0 });

    const { invoice, lines } = await invoiceFor(org.orgId);
    // 14 segments (13 changes), each its own prorated plan line: more rows than one statement can bind.
    const planLines = lines.filter((l) => l.kind === "plan");
    expect(planLines).toHaveLength(14);
    expect(planLines.map((l) => l.description)).toContain("Scale plan, June 14 to June 30 (prorated)");
    expect(invoice.total_cents).toBe(lines.reduce((sum, l) => sum + l.amount_cents, 0));
  });
});

describe("apportion", () => {
  it("splits a whole quantity in proportion, the parts adding up exactly", () => {
    expect(apportion(60_001, [20, 40])).toEqual([20_000, 40_001]);
    expect(apportion(10, [1, 1, 1])).toEqual([4, 3, 3]);
    expect(apportion(1_000_000_000_000, [3_599_999, 1])).toEqual([999_999_722_222, 277_778]);
    expect(apportion(7, [0, 0])).toEqual([7, 0]);
  });
});
