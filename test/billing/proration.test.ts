import { describe, expect, it } from "vitest";
import { createMonthlyInvoices } from "../../src/billing/invoices";
import { setClock } from "../../src/lib/clock";
import { call } from "../support/api";
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

  it("prices each segment's share of usage against its own prorated allowance", async () => {
    const owner = await createUser();
    setClock(() => at(11, 1));
    const org = await orgOnPlan(owner, "pro", "Half and half");
    // 60,000 minutes over November; half the month on Pro (25,000 included in the half), half on Scale.
    await addUsage(org, "participant_minutes", 60_000, at(11, 10));
    setClock(() => at(11, 16));
    expect((await call("PUT", `/v1/orgs/${org.orgId}/plan`, { token: owner.token, body: { plan: "scale" } })).status).toBe(200);
    await createMonthlyInvoices(db(), { now: at(12, 2), graceMs: 0 });

    const { invoice, lines } = await invoiceFor(org.orgId);
    const byDescription = Object.fromEntries(lines.map((l) => [l.description, l]));
    expect(byDescription["Pro plan, November 1 to November 15 (prorated)"]).toMatchObject({ amount_cents: 2500 });
    expect(byDescription["Scale plan, November 16 to November 30 (prorated)"]).toMatchObject({ amount_cents: 25000 });
    // Pro half: 30,000 used of 25,000 included → 5,000 over at 500 micros = 250 cents. Scale half: within 375,000.
    const overage = lines.filter((l) => l.kind === "participant_minutes");
    expect(overage).toEqual([expect.objectContaining({ quantity: 30_000, included_quantity: 25_000, amount_cents: 250 })]);
    expect(invoice.total_cents).toBe(2500 + 25000 + 250);
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
