import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createDb } from "../../src/db/client";
import { createMonthlyInvoices } from "../../src/billing/invoices";
import { usageEventInsert } from "../../src/usage/record";
import { DAY_MS, HOUR_MS, rollUpDirtyHours } from "../../src/usage/rollup";
import { createTenant } from "../support/factories";
import { rows } from "../support/db";

const db = () => createDb(env.DB);
const base = Date.UTC(2026, 8, 10); // a day of its own, far from other tests' hours

async function meter(t: { org: { id: string }; project: { id: string } }, quantity: number, occurredAt: number, room: string | null = null, identity: string | null = null) {
  await usageEventInsert(db(), {
    projectId: t.project.id,
    orgId: t.org.id,
    meter: "participant_minutes",
    quantity,
    occurredAt,
    sourceId: `src-${crypto.randomUUID()}`,
    room,
    identity,
  });
}

async function dimensionBuckets(projectId: string) {
  return rows(
    "SELECT dimension, key, granularity, bucket_start, quantity FROM usage_dimension_rollups WHERE project_id = ? ORDER BY dimension, key, granularity, bucket_start",
    projectId,
  );
}

async function buckets(projectId: string) {
  return rows("SELECT granularity, bucket_start, quantity FROM usage_rollups WHERE project_id = ? ORDER BY granularity, bucket_start", projectId);
}

async function dirty(from: number, until: number) {
  return (await rows("SELECT hour_start FROM usage_dirty_hours WHERE hour_start >= ? AND hour_start < ? ORDER BY hour_start", from, until)).map((r) => r.hour_start);
}

describe("incremental usage rollup", () => {
  it("marks the hour of every recorded event and rolls up only those hours, the day as the sum of its hours", async () => {
    const t = await createTenant();
    await meter(t, 3, base + 2 * HOUR_MS + 5);
    await meter(t, 4, base + 2 * HOUR_MS + 59 * 60_000);
    await meter(t, 5, base + 7 * HOUR_MS);
    expect(await dirty(base, base + DAY_MS)).toEqual([base + 2 * HOUR_MS, base + 7 * HOUR_MS]);

    const result = await rollUpDirtyHours(db(), { from: base, until: base + DAY_MS });
    expect(result).toEqual({ hours: 2, complete: true });
    expect(await dirty(base, base + DAY_MS)).toEqual([]);
    expect(await buckets(t.project.id)).toEqual([
      { granularity: "day", bucket_start: base, quantity: 12 },
      { granularity: "hour", bucket_start: base + 2 * HOUR_MS, quantity: 7 },
      { granularity: "hour", bucket_start: base + 7 * HOUR_MS, quantity: 5 },
    ]);
  });

  it("rolls up usage recorded late into an old hour on the next run, replacing that hour and its day, never adding twice", async () => {
    const t = await createTenant();
    await meter(t, 10, base + 3 * HOUR_MS);
    await meter(t, 1, base + 4 * HOUR_MS);
    await rollUpDirtyHours(db(), { from: base, until: base + DAY_MS });
    // Idempotent: nothing dirty, nothing changes; an hour rolled up again gives the same totals.
    await rollUpDirtyHours(db(), { from: base, until: base + DAY_MS });
    const before = await buckets(t.project.id);
    expect(before.find((b) => b.granularity === "day")!.quantity).toBe(11);

    // A session closed late: its usage happened in hour 3.
    await meter(t, 2, base + 3 * HOUR_MS + 10 * 60_000);
    expect(await dirty(base, base + DAY_MS)).toEqual([base + 3 * HOUR_MS]);
    expect(await rollUpDirtyHours(db(), { from: base, until: base + DAY_MS })).toEqual({ hours: 1, complete: true });
    expect(await buckets(t.project.id)).toEqual([
      { granularity: "day", bucket_start: base, quantity: 13 },
      { granularity: "hour", bucket_start: base + 3 * HOUR_MS, quantity: 12 },
      { granularity: "hour", bucket_start: base + 4 * HOUR_MS, quantity: 1 },
    ]);
  });

  it("rolls up the room and identity buckets of the dirty hours in the same run, days summed from hours, late usage replacing them", async () => {
    const t = await createTenant();
    const day = base + 4 * DAY_MS;
    await meter(t, 3, day + HOUR_MS, "lobby", "alice");
    await meter(t, 4, day + 5 * HOUR_MS, "lobby", "bob");
    await meter(t, 6, day + 5 * HOUR_MS, null, null); // no room, no identity: no group
    expect(await rollUpDirtyHours(db(), { from: day, until: day + DAY_MS })).toEqual({ hours: 2, complete: true });
    await meter(t, 2, day + HOUR_MS + 60_000, "stage", "alice"); // late, into hour 1
    expect(await rollUpDirtyHours(db(), { from: day, until: day + DAY_MS })).toEqual({ hours: 1, complete: true });
    const h = (n: number) => day + n * HOUR_MS;
    expect(await dimensionBuckets(t.project.id)).toEqual([
      { dimension: "identity", key: "alice", granularity: "day", bucket_start: day, quantity: 5 },
      { dimension: "identity", key: "alice", granularity: "hour", bucket_start: h(1), quantity: 5 },
      { dimension: "identity", key: "bob", granularity: "day", bucket_start: day, quantity: 4 },
      { dimension: "identity", key: "bob", granularity: "hour", bucket_start: h(5), quantity: 4 },
      { dimension: "room", key: "lobby", granularity: "day", bucket_start: day, quantity: 7 },
      { dimension: "room", key: "lobby", granularity: "hour", bucket_start: h(1), quantity: 3 },
      { dimension: "room", key: "lobby", granularity: "hour", bucket_start: h(5), quantity: 4 },
      { dimension: "room", key: "stage", granularity: "day", bucket_start: day, quantity: 2 },
      { dimension: "room", key: "stage", granularity: "hour", bucket_start: h(1), quantity: 2 },
    ]);
    expect((await buckets(t.project.id)).find((b) => b.granularity === "day")!.quantity).toBe(15);
  });

  it("stops when its budget is spent and the next run finishes the rest", async () => {
    const t = await createTenant();
    const day = base + 2 * DAY_MS;
    for (let h = 0; h < 5; h++) await meter(t, 1, day + h * HOUR_MS);
    expect(await rollUpDirtyHours(db(), { from: day, until: day + DAY_MS, budgetMs: 0 })).toEqual({ hours: 0, complete: false });
    expect(await dirty(day, day + DAY_MS)).toHaveLength(5);
    expect(await rollUpDirtyHours(db(), { from: day, until: day + DAY_MS })).toEqual({ hours: 5, complete: true });
    expect((await buckets(t.project.id)).find((b) => b.granularity === "day")).toEqual({ granularity: "day", bucket_start: day, quantity: 5 });
  });

  it("rolls up a month's late usage before invoicing it, and only the hours that need it", async () => {
    const t = await createTenant();
    const month = Date.UTC(2026, 5, 1);
    await env.DB.prepare("UPDATE organizations SET created_at = ? WHERE id = ?").bind(month - DAY_MS, t.org.id).run();
    await meter(t, 100, month + 3 * DAY_MS);
    await rollUpDirtyHours(db(), { from: month, until: Date.UTC(2026, 6, 1) });
    await meter(t, 25, month + 20 * DAY_MS); // recorded after the hourly run, before the invoice
    expect(await dirty(month, Date.UTC(2026, 6, 1))).toEqual([month + 20 * DAY_MS]);
    const run = await createMonthlyInvoices(db(), { now: Date.UTC(2026, 6, 3, 8), graceMs: 26 * HOUR_MS });
    expect(run.complete).toBe(true);
    expect(await rows("SELECT id FROM invoices WHERE org_id = ? AND period_start = ?", t.org.id, month)).toHaveLength(1);
    expect(await dirty(month, Date.UTC(2026, 6, 1))).toEqual([]);
    const [used] = await rows("SELECT SUM(quantity) AS q FROM usage_rollups WHERE org_id = ? AND granularity = 'day' AND bucket_start >= ? AND bucket_start < ?", t.org.id, month, Date.UTC(2026, 6, 1));
    expect(used!.q).toBe(125);
  });
});
