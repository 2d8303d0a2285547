/**
 * Monthly invoices. The job invoices every organization once per calendar month (UTC) for the
 * month just ended: a base-fee line plus one line per meter with billable overage, amounts in
 * integer cents (see pricing.ts for the rounding rule).
 *
 * - Idempotent: invoices are unique per (org_id, period_start). The job only picks orgs without an
 *   invoice for the period, and an invoice, its lines and its audit entry are one `db.batch()`, so a
 *   concurrent run that loses the race on the unique key writes nothing at all.
 * - Bounded: at most `batchSize` orgs per batch and `maxBatches` batches per run; the rest are
 *   taken by the next run (the job runs hourly, so a large backlog drains within hours).
 * - Waits for late usage: a month is invoiced only `graceMs` after it ends (usage can be recorded
 *   late, e.g. sessions closed by the stale-session job), and the job rolls up that month's hours
 *   still waiting for their rollup before pricing it, so it never depends on the order of cron jobs.
 * - Plans: the month is priced segment by segment between plan changes (segments.ts): each
 *   segment's fee and allowances prorated by its length, its own usage at its own plan's rates.
 *   Each segment gets its own lines; a month on one plan has one segment and nothing prorated.
 */
import { and, asc, eq, exists, gt, gte, isNull, lt, not, or } from "drizzle-orm";
import { auditEntry, SYSTEM_ACTOR } from "../audit/record";
import { isUniqueViolation, runBatch, type Database } from "../db/client";
import { insertRows } from "../db/json-rows";
import { invoiceLines, invoices, organizations } from "../db/schema";
import { toIso } from "../lib/clock";
import { newId } from "../lib/ids";
import { describeError, type Logger } from "../lib/logger";
import { afterCursor, newestFirst } from "../lib/pagination";
import { currentMonth } from "../usage/service";
import { METER_NAMES, METERS } from "../usage/meters";
import { rollUpDirtyHours } from "../usage/rollup";
import { MICROS_PER_CENT } from "./pricing";
import { priceSegments } from "./segments";

export const INVOICE_BATCH_SIZE = 25;
export const INVOICE_MAX_BATCHES = 8;

export type InvoiceRow = typeof invoices.$inferSelect;
export type InvoiceLineRow = typeof invoiceLines.$inferSelect;

/** The calendar month (UTC) before the one containing `at`. */
export function previousMonth(at: number): { since: number; until: number } {
  return currentMonth(currentMonth(at).since - 1);
}

function monthName(start: number): string {
  return new Date(start).toLocaleString("en-US", { month: "long", year: "numeric", timeZone: "UTC" });
}

function dayName(at: number): string {
  return new Date(at).toLocaleString("en-US", { month: "long", day: "numeric", timeZone: "UTC" });
}

/** Creates one org's invoice for `period`; false when it already had one (lost a race). */
export async function invoiceOrg(
  db: Database,
  org: { id: string; planId: string },
  period: { since: number; until: number },
  at: number,
): Promise<boolean> {
  const segments = await priceSegments(db, org, period);
  const invoiceId = newId("invoice");
  const line = (l: Omit<typeof invoiceLines.$inferInsert, "id" | "invoiceId" | "createdAt">) => ({ id: newId("invoiceLine"), invoiceId, createdAt: at, ...l });
  const lines: ReturnType<typeof line>[] = [];
  for (const { plan, whole, priced, since, until } of segments) {
    const when = whole ? monthName(period.since) : `${dayName(since)} to ${dayName(until - 1)} (prorated)`;
    lines.push(
      line({
        kind: "plan",
        description: `${plan.name} plan, ${when}`,
        quantity: 1,
        includedQuantity: 0,
        unitPriceMicros: Number(BigInt(priced.baseFeeCents) * MICROS_PER_CENT),
        amountCents: priced.baseFeeCents,
      }),
    );
    for (const m of METER_NAMES) {
      const charge = priced.meters[m];
      if (charge.overageUnits === 0 || charge.unitPriceMicros === null) continue;
      lines.push(
        line({
          kind: m,
          description: `${METERS[m].label} over the ${charge.included} included${whole ? "" : ` (${plan.name} plan, ${when})`}`,
          quantity: charge.used,
          includedQuantity: charge.included,
          unitPriceMicros: charge.unitPriceMicros,
          amountCents: charge.amountCents,
        }),
      );
    }
  }
  // The invoice names the plan in force at the period's end.
  const plan = segments[segments.length - 1]!.plan;
  const totalCents = lines.reduce((sum, l) => sum + l.amountCents, 0);
  try {
    await runBatch(db, [
      db.insert(invoices).values({
        id: invoiceId,
        orgId: org.id,
        planId: plan.id,
        periodStart: period.since,
        periodEnd: period.until,
        // Final as issued: there is no draft stage; `open` means issued and unpaid.
        status: "open",
        currency: plan.currency,
        subtotalCents: totalCents,
        totalCents,
        createdAt: at,
        finalizedAt: at,
      }),
      // As JSON (one parameter per slice): an org that changed plan often has many lines.
      ...insertRows(db, invoiceLines, lines),
      auditEntry(
        db,
        SYSTEM_ACTOR,
        {
          action: "invoice.created",
          resourceType: "invoice",
          resourceId: invoiceId,
          orgId: org.id,
          metadata: { period_start: toIso(period.since), period_end: toIso(period.until), plan: plan.id, total_cents: totalCents, currency: plan.currency },
        },
        at,
      ),
    ]);
    return true;
  } catch (error) {
    if (isUniqueViolation(error)) return false;
    throw error;
  }
}

export interface InvoiceRunResult {
  period_start: string;
  created: number;
  existing: number;
  failed: number;
  /** False when the run stopped at its batch bound with orgs left for the next run. */
  complete: boolean;
  waiting_for_grace?: boolean;
}

/** Invoices the previous month for orgs that lack an invoice for it, in bounded batches. */
export async function createMonthlyInvoices(
  db: Database,
  opts: { now: number; graceMs: number; batchSize?: number; maxBatches?: number; logger?: Logger },
): Promise<InvoiceRunResult> {
  const period = previousMonth(opts.now);
  const result: InvoiceRunResult = { period_start: toIso(period.since), created: 0, existing: 0, failed: 0, complete: true };
  if (opts.now < period.until + opts.graceMs) return { ...result, waiting_for_grace: true };
  const batchSize = opts.batchSize ?? INVOICE_BATCH_SIZE;
  const maxBatches = opts.maxBatches ?? INVOICE_MAX_BATCHES;

  // Orgs that existed during the period and have no invoice for it; keyset by id so an org that
  // keeps failing cannot make a run loop on it.
  const pending = (afterId: string) =>
    db
      .select({ id: organizations.id, planId: organizations.planId })
      .from(organizations)
      .where(
        and(
          gt(organizations.id, afterId),
          lt(organizations.createdAt, period.until),
          or(isNull(organizations.deletedAt), gte(organizations.deletedAt, period.since)),
          not(exists(db.select({ one: invoices.id }).from(invoices).where(and(eq(invoices.orgId, organizations.id), eq(invoices.periodStart, period.since))))),
        ),
      )
      .orderBy(asc(organizations.id))
      .limit(batchSize)
      .all();

  let afterId = "";
  for (let batch = 0; ; batch++) {
    if (batch === maxBatches) {
      result.complete = (await pending(afterId)).length === 0;
      break;
    }
    const orgs = await pending(afterId);
    if (orgs.length === 0) break;
    // Once per run with work: the month's hours that received usage since their rollup (usually
    // none; never the whole month). Priced only once none is left.
    if (batch === 0 && !(await rollUpDirtyHours(db, { from: period.since, until: period.until })).complete) return { ...result, complete: false };
    for (const org of orgs) {
      try {
        if (await invoiceOrg(db, org, period, opts.now)) result.created++;
        else result.existing++;
      } catch (error) {
        result.failed++;
        opts.logger?.error("invoice_failed", { org_id: org.id, period_start: result.period_start, ...describeError(error) });
      }
    }
    afterId = orgs[orgs.length - 1]!.id;
  }
  return result;
}

// Reads -------------------------------------------------------------------------------------------

export async function listInvoices(db: Database, orgId: string, limit: number, cursor: string | undefined): Promise<InvoiceRow[]> {
  return db
    .select()
    .from(invoices)
    .where(and(eq(invoices.orgId, orgId), afterCursor(cursor, invoices.createdAt, invoices.id)))
    .orderBy(...newestFirst(invoices.createdAt, invoices.id))
    .limit(limit)
    .all();
}

const LINE_ORDER = ["plan", ...METER_NAMES];

export async function findInvoice(db: Database, orgId: string, invoiceId: string): Promise<{ invoice: InvoiceRow; lines: InvoiceLineRow[] } | null> {
  const invoice = await db.select().from(invoices).where(and(eq(invoices.id, invoiceId), eq(invoices.orgId, orgId))).get();
  if (!invoice) return null;
  const lines = await db.select().from(invoiceLines).where(eq(invoiceLines.invoiceId, invoice.id)).all();
  lines.sort((a, b) => LINE_ORDER.indexOf(a.kind) - LINE_ORDER.indexOf(b.kind));
  return { invoice, lines };
}
