import { describe, expect, it } from "vitest";
import { createMonthlyInvoices } from "../../src/billing/invoices";
import { HOUR_MS } from "../../src/usage/rollup";
import { setClock } from "../../src/lib/clock";
import { call, expectEnvelope } from "../support/api";
import { createUser } from "../support/factories";
import { addUsage, db, orgOnPlan } from "../support/billing";
import { rows } from "../support/db";
import { runCron } from "../support/cron";

const at = (month: number, d: number, h = 0, m = 0, s = 0) => Date.UTC(2026, month - 1, d, h, m, s);

describe("monthly invoices", () => {
  it("invoices each org once for the month just ended, with exact lines, and a second run creates nothing new", async () => {
    const alice = await createUser();
    const bob = await createUser();
    setClock(() => at(6, 1)); // on Pro for the whole of June (a later start would prorate the month)
    const pro = await orgOnPlan(alice, "pro", "Pro Co");
    const free = await orgOnPlan(bob, "free", "Free Co");
    await addUsage(pro, "participant_minutes", 30_000, at(6, 10, 9));
    await addUsage(pro, "participant_minutes", 20_030, at(6, 30, 23, 59, 59));
    await addUsage(pro, "egress_minutes", 1_250, at(6, 20, 14));
    await addUsage(pro, "tokens_issued", 10, at(6, 1, 0, 0, 0));
    await addUsage(pro, "participant_minutes", 7_777, at(7, 1, 0, 0, 0)); // July: not June's bill
    await addUsage(free, "tokens_issued", 50, at(6, 12));
    // Upgraded after June ended but before invoicing: June is still billed on Pro.
    setClock(() => at(7, 1, 10));
    expect((await call("PUT", `/v1/orgs/${pro.orgId}/plan`, { token: alice.token, body: { plan: "scale" } })).status).toBe(200);
    setClock(() => at(7, 3));
    const late = await orgOnPlan(bob, "free", "Born in July");

    // Inside the grace period (late usage may still arrive): nothing yet.
    setClock(() => at(7, 1, 12, 7));
    await runCron("7 * * * *");
    expect(await rows("SELECT id FROM invoices WHERE org_id IN (?, ?)", pro.orgId, free.orgId)).toEqual([]);

    setClock(() => at(7, 2, 3, 7));
    await runCron("7 * * * *");
    const list = await call("GET", `/v1/orgs/${pro.orgId}/invoices`, { token: alice.token });
    expect(list.status, list.text).toBe(200);
    expect(list.body.next_cursor).toBeNull();
    expect(list.body.data).toHaveLength(1);
    const summary = list.body.data[0];
    expect(summary.id).toMatch(/^in_[0-9A-Za-z]+$/);
    expect(summary).toEqual({
      id: summary.id,
      org_id: pro.orgId,
      plan: "pro",
      status: "open",
      currency: "usd",
      period_start: "2026-06-01T00:00:00Z",
      period_end: "2026-07-01T00:00:00Z",
      subtotal_cents: 5_102,
      total_cents: 5_102,
      created_at: "2026-07-02T03:07:00Z",
      finalized_at: "2026-07-02T03:07:00Z",
    });
    const one = await call("GET", `/v1/orgs/${pro.orgId}/invoices/${summary.id}`, { token: alice.token });
    expect(one.status).toBe(200);
    expect(one.body).toEqual({
      ...summary,
      lines: [
        { kind: "plan", description: "Pro plan, June 2026", quantity: 1, included_quantity: 0, unit_price_micros: 50_000_000, amount_cents: 5_000 },
        { kind: "participant_minutes", description: "Participant minutes over the 50000 included", quantity: 50_030, included_quantity: 50_000, unit_price_micros: 500, amount_cents: 2 },
        { kind: "egress_minutes", description: "Egress minutes over the 1000 included", quantity: 1_250, included_quantity: 1_000, unit_price_micros: 4_000, amount_cents: 100 },
      ],
    });

    const freeList = await call("GET", `/v1/orgs/${free.orgId}/invoices`, { token: bob.token });
    expect(freeList.body.data).toHaveLength(1);
    const freeInvoice = await call("GET", `/v1/orgs/${free.orgId}/invoices/${freeList.body.data[0].id}`, { token: bob.token });
    expect(freeInvoice.body).toMatchObject({ plan: "free", total_cents: 0, lines: [{ kind: "plan", description: "Free plan, June 2026", amount_cents: 0 }] });
    expect(freeInvoice.body.lines).toHaveLength(1);
    expect((await call("GET", `/v1/orgs/${late.orgId}/invoices`, { token: bob.token })).body.data).toEqual([]);

    // Again, later the same day: the same invoices, nothing added.
    setClock(() => at(7, 2, 4, 7));
    await runCron("7 * * * *");
    expect(await call("GET", `/v1/orgs/${pro.orgId}/invoices/${summary.id}`, { token: alice.token })).toMatchObject({ status: 200, body: one.body });
    const stored = await rows("SELECT org_id, COUNT(*) AS n FROM invoices WHERE org_id IN (?, ?) GROUP BY org_id ORDER BY org_id", pro.orgId, free.orgId);
    expect(stored.map((r) => r.n)).toEqual([1, 1]);
    expect(await rows("SELECT COUNT(*) AS n FROM invoice_lines WHERE invoice_id = ?", summary.id)).toEqual([{ n: 3 }]);
    const audit = await rows("SELECT actor_type, actor_id, resource_id, metadata FROM audit_logs WHERE org_id = ? AND action = 'invoice.created'", pro.orgId);
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ actor_type: "system", actor_id: null, resource_id: summary.id });
    expect(JSON.parse(audit[0]!.metadata)).toMatchObject({ plan: "pro", total_cents: 5_102, period_start: "2026-06-01T00:00:00Z" });

    // July: Pro until the upgrade at 10:00 on July 1st, then Scale, each prorated by time: 5000 × 10/744 h → 67 + 50000 × 734/744 → 49328.
    // The 7,777 minutes at midnight were Pro's: 50,000 × 10/744 → 672 included, 7,105 over × 500 micros → 355.
    setClock(() => at(8, 2, 3, 7));
    await runCron("7 * * * *");
    const page1 = await call("GET", `/v1/orgs/${pro.orgId}/invoices?limit=1`, { token: alice.token });
    expect(page1.body.data.map((i: any) => [i.period_start, i.plan, i.total_cents])).toEqual([["2026-07-01T00:00:00Z", "scale", 49_750]]);
    expect(page1.body.next_cursor).toEqual(expect.any(String));
    const page2 = await call("GET", `/v1/orgs/${pro.orgId}/invoices?limit=1&cursor=${page1.body.next_cursor}`, { token: alice.token });
    expect(page2.body.data.map((i: any) => i.id)).toEqual([summary.id]);
    expect(page2.body.next_cursor).toBeNull();
  });

  it("never shows an invoice to another org: 404 through the other org's path and to its members", async () => {
    const alice = await createUser();
    const bob = await createUser();
    setClock(() => at(4, 10));
    const a = await orgOnPlan(alice, "pro");
    const b = await orgOnPlan(bob, "free");
    setClock(() => at(5, 3));
    await runCron("7 * * * *");
    const [invoice] = (await call("GET", `/v1/orgs/${a.orgId}/invoices`, { token: alice.token })).body.data;
    expect(invoice.period_start).toBe("2026-04-01T00:00:00Z");
    expectEnvelope(await call("GET", `/v1/orgs/${b.orgId}/invoices/${invoice.id}`, { token: bob.token }), 404, "not_found");
    expectEnvelope(await call("GET", `/v1/orgs/${a.orgId}/invoices/${invoice.id}`, { token: bob.token }), 404, "not_found");
    expectEnvelope(await call("GET", `/v1/orgs/${a.orgId}/invoices`, { token: bob.token }), 404, "not_found");
    expectEnvelope(await call("GET", `/v1/orgs/${a.orgId}/invoices/in_doesnotexist`, { token: alice.token }), 404, "not_found");
    expect((await call("GET", `/v1/orgs/${b.orgId}/invoices`, { token: bob.token })).body.data.map((i: any) => i.org_id)).toEqual([b.orgId]);
  });

  it("works in bounded batches: a run stops at its bound and the next run finishes the rest", async () => {
    const owners = [await createUser(), await createUser(), await createUser()];
    setClock(() => at(1, 10));
    // One owner each: a user may own only LIMIT_FREE_ORGS_PER_USER (2) free orgs.
    const orgs = [await orgOnPlan(owners[0]!, "free"), await orgOnPlan(owners[1]!, "free"), await orgOnPlan(owners[2]!, "free")];
    const now = at(2, 2, 12);
    const first = await createMonthlyInvoices(db(), { now, graceMs: 26 * HOUR_MS, batchSize: 1, maxBatches: 2 });
    expect(first).toMatchObject({ period_start: "2026-01-01T00:00:00Z", created: 2, failed: 0, complete: false });
    let last = first;
    for (let i = 0; i < 50 && !last.complete; i++) last = await createMonthlyInvoices(db(), { now, graceMs: 26 * HOUR_MS, batchSize: 1, maxBatches: 2 });
    expect(last.complete).toBe(true);
    for (const o of orgs) expect(await rows("SELECT COUNT(*) AS n FROM invoices WHERE org_id = ?", o.orgId)).toEqual([{ n: 1 }]);
    expect(await createMonthlyInvoices(db(), { now, graceMs: 26 * HOUR_MS })).toMatchObject({ created: 0, complete: true });
  });
});
