/**
 * Hard caps: on a hard-cap plan (free), a request that would consume a meter whose included
 * quantity for this calendar month is used up is refused with 402 `quota_exceeded`. Paid plans
 * are never blocked here; they pay overage.
 *
 * The token endpoint is hot, so the check must not cost a D1 query per request. Each isolate keeps,
 * per org, the plan and the month's usage (from `orgUsageTotals`: rollups plus the open hours) for
 * QUOTA_CACHE_MS, and counts the tokens it mints itself on top, so a burst inside one isolate stops
 * at the cap rather than a minute later. One request at a time refreshes an expired snapshot, and
 * no request waits for another's (see `snapshotFor`).
 *
 * Accepted imprecision (documented in docs/billing.md): other isolates' tokens and usage recorded
 * after the snapshot are seen within QUOTA_CACHE_MS, so a free org can overshoot its cap by what it
 * uses in that window; a plan change is seen at once in the isolate that made it, and within
 * QUOTA_CACHE_MS elsewhere. If the snapshot cannot be computed (D1 failing), the request is let
 * through and the failure logged: the cap is a billing limit, not a security boundary.
 */
import type { Database } from "../db/client";
import { nowMs } from "../lib/clock";
import { ApiError } from "../lib/errors";
import { describeError, type Logger } from "../lib/logger";
import { currentMonth } from "../usage/service";
import { METERS, perMeter, type Meter } from "../usage/meters";
import { orgPlan, type Plan } from "./plans";
import { orgUsageTotals } from "./usage-totals";

export const QUOTA_CACHE_MS = 60_000;

interface Snapshot {
  periodStart: number;
  expiresAt: number;
  plan: Plan;
  used: Record<Meter, number>;
}

const snapshots = new Map<string, Snapshot>();
/** Orgs whose expired snapshot one request of this isolate is recomputing, and since when. */
const refreshing = new Map<string, number>();
/** A refresh not finished by then (its request was cancelled) no longer keeps others from refreshing. */
const REFRESH_STALE_MS = 10_000;

async function computeSnapshot(db: Database, orgId: string, at: number): Promise<Snapshot | null> {
  const month = currentMonth(at);
  const plan = await orgPlan(db, orgId);
  if (!plan) return null;
  // Paid plans are never blocked: no usage query for them.
  const used = plan.hardCap
    ? await orgUsageTotals(db, orgId, month.since, month.until)
    : perMeter(() => 0);
  const snapshot = { periodStart: month.since, expiresAt: at + QUOTA_CACHE_MS, plan, used };
  snapshots.set(orgId, snapshot);
  return snapshot;
}

/** The cached snapshot for `orgId` if it is of this month and not expired: no I/O, no promise. */
function freshSnapshot(orgId: string, at: number): Snapshot | undefined {
  const cached = snapshots.get(orgId);
  return cached && cached.expiresAt > at && cached.periodStart === monthStart(at) ? cached : undefined;
}

/**
 * The org's snapshot when `freshSnapshot` has none (expired, of last month, or never made). No
 * request ever waits on another request's queries: a request whose client
 * disconnects is cancelled with its I/O, and every request awaiting that I/O would hang until the
 * runtime gives up on it (a 500, "your Worker's code had hung"). So while one request recomputes an
 * expired snapshot, the others use the expired one (at most a refresh late; this isolate's own
 * consumption is counted into it meanwhile), and without any snapshot of this month each request
 * computes its own.
 */
async function snapshotFor(db: Database, orgId: string, at: number): Promise<Snapshot | null> {
  const cached = snapshots.get(orgId);
  // A new month resets quotas at once, whatever the cache age.
  const thisMonth = cached && cached.periodStart === monthStart(at) ? cached : undefined;
  const since = refreshing.get(orgId);
  if (thisMonth && since !== undefined && at - since < REFRESH_STALE_MS) return thisMonth;
  refreshing.set(orgId, at);
  try {
    return await computeSnapshot(db, orgId, at);
  } finally {
    if (refreshing.get(orgId) === at) refreshing.delete(orgId);
  }
}

/** The current UTC month's first millisecond, recomputed only when `at` leaves the month last asked about. */
let cachedMonth = { since: 0, until: 0 };
function monthStart(at: number): number {
  if (at < cachedMonth.since || at >= cachedMonth.until) cachedMonth = currentMonth(at);
  return cachedMonth.since;
}

export function exhaustedMeter(snapshot: Pick<Snapshot, "plan" | "used">, meters: readonly Meter[]): Meter | null {
  if (!snapshot.plan.hardCap) return null;
  return meters.find((m) => snapshot.used[m] >= snapshot.plan.included[m]) ?? null;
}

/** Forget an org's cached state (after its plan changed in this isolate). */
export function forgetQuota(orgId: string): void {
  snapshots.delete(orgId);
}

/** What a passed quota check hands back: the caller reports what it consumed once it succeeded. */
export interface QuotaCheck {
  /** Counts units just consumed into this isolate's snapshot, so a burst stops at the cap at once. */
  consumed(meter: Meter, quantity?: number): void;
}

const NOTHING_TO_COUNT: QuotaCheck = { consumed: () => undefined };

/**
 * Refuses with 402 `quota_exceeded` when the org is on a hard-cap plan and any of `meters` is used
 * up this month. Call it before doing the work (nothing is counted here); after the work succeeded,
 * report what it consumed through the returned check.
 */
export function checkQuota(deps: { db: Database; logger: Logger }, orgId: string, meters: readonly Meter[]): QuotaCheck | Promise<QuotaCheck> {
  const at = nowMs();
  // A cached snapshot (nearly every call) decides synchronously: this is on the token path.
  const fresh = freshSnapshot(orgId, at);
  if (fresh) return decide(fresh, meters);
  return snapshotFor(deps.db, orgId, at).then(
    (snapshot) => (snapshot ? decide(snapshot, meters) : NOTHING_TO_COUNT),
    (error: unknown) => {
      deps.logger.error("quota_check_failed", { org_id: orgId, ...describeError(error) });
      return NOTHING_TO_COUNT;
    },
  );
}

/** Throws `quota_exceeded` when one of `meters` is used up on a hard-capped plan. */
function decide(snapshot: Snapshot, meters: readonly Meter[]): QuotaCheck {
  const meter = exhaustedMeter(snapshot, meters);
  if (meter) {
    throw new ApiError(
      "quota_exceeded",
      `This organization's ${snapshot.plan.name} plan includes ${snapshot.plan.included[meter]} ${METERS[meter].units} per month and they are used up. Upgrade the plan or wait for next month.`,
    );
  }
  return { consumed: (m, quantity = 1) => void (snapshot.used[m] += quantity) };
}
