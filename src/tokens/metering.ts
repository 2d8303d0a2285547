/**
 * `tokens_issued` metering without a D1 write on the request's path.
 *
 * Each mint adds one to an in-memory tally for (project, hour, room, identity); the request that
 * finds no flush running starts one and hands it to `waitUntil`, so the write happens after the
 * response. Tallies coalesce: a flush waits COALESCE_MS before each write, and while it runs, later
 * requests only add to the tallies, which its next write picks up, so one D1 batch carries every
 * token the isolate minted in that time. A flush that fails keeps
 * its batch (with the same source ids) for the next flush, so a retry of a write that actually
 * committed is absorbed by usage events' (meter, source_id) idempotency: counts are neither lost
 * nor doubled. The one window for loss is an isolate dying while a failed batch waits for the
 * next request; the failure is logged (`usage_flush_failed`) with the counts.
 */
import { runBatch, type Database } from "../db/client";
import { nowMs } from "../lib/clock";
import { newId } from "../lib/ids";
import { errorMessage, type Logger } from "../lib/logger";
import { usageEventInsert } from "../usage/record";

const HOUR_MS = 3_600_000;
/** A flush hands over to the next request after this long, well inside waitUntil's 30 s budget. */
const MAX_FLUSH_MS = 5_000;
/**
 * A flush waits this long before each write so that the tokens minted meanwhile share it: one D1
 * write per second per isolate instead of one per request. D1 has one writer for every isolate of
 * the deployment; locally a write per request added ~5 ms to the next request as it queued behind
 * it, and a flush that waited before its first write only (then wrote back to back while tokens
 * kept coming) cost about 0.03 ms of CPU per token request under load. Usage shows up that much
 * later (the quota snapshot counts this isolate's tokens at once).
 */
const COALESCE_MS = 1_000;

interface Tally {
  projectId: string;
  orgId: string;
  /** The tenant's room and identity the tokens were for (usage `group_by`). */
  room: string | null;
  identity: string | null;
  count: number;
  /** When the first token of this tally was minted (inside one UTC hour, so rollups bucket it right). */
  occurredAt: number;
}

interface PendingBatch extends Tally {
  sourceId: string;
}

const tallies = new Map<string, Tally>();
let failed: PendingBatch[] = [];
let flushing = false;

/** Counts one minted token; cheap and synchronous. Tallies are per project, room, identity and hour. */
export function countTokenIssued(projectId: string, orgId: string, target: { room?: string; identity?: string } = {}, at = nowMs()): void {
  const hour = Math.floor(at / HOUR_MS);
  const room = target.room ?? null;
  const identity = target.identity ?? null;
  const key = JSON.stringify([projectId, hour, room, identity]);
  const tally = tallies.get(key);
  if (tally) tally.count += 1;
  else tallies.set(key, { projectId, orgId, room, identity, count: 1, occurredAt: at });
}

function takeBatches(): PendingBatch[] {
  const batches = failed;
  failed = [];
  for (const tally of tallies.values()) batches.push({ ...tally, sourceId: `tokens:${newId("usageEvent")}` });
  tallies.clear();
  return batches;
}

const hasPending = () => tallies.size > 0 || failed.length > 0;

/** One D1 batch for `batches`; on failure they wait (same source ids) for the next flush. */
async function write(db: Database, logger: Logger, batches: PendingBatch[]): Promise<boolean> {
  try {
    await runBatch(
      db,
      batches.map((b) =>
        usageEventInsert(db, {
          projectId: b.projectId,
          orgId: b.orgId,
          meter: "tokens_issued",
          quantity: b.count,
          occurredAt: b.occurredAt,
          sourceId: b.sourceId,
          room: b.room,
          identity: b.identity,
        }),
      ),
    );
    return true;
  } catch (error) {
    failed.push(...batches);
    logger.error("usage_flush_failed", {
      meter: "tokens_issued",
      pending_tokens: batches.reduce((n, b) => n + b.count, 0),
      error_message: errorMessage(error),
    });
    return false;
  }
}

/**
 * Writes every pending tally, or returns null when another flush is running: that flush writes
 * this request's count before it stops, so the request has nothing to wait for (and hands nothing
 * to `waitUntil`). A failed write is not retried in a loop (the database is struggling); the next
 * request's flush retries it.
 */
export function flushTokenUsage(db: Database, logger: Logger): Promise<void> | null {
  if (flushing) return null;
  flushing = true;
  return runFlush(db, logger);
}

async function runFlush(db: Database, logger: Logger): Promise<void> {
  const started = Date.now();
  let ok = true;
  try {
    // Under steady load counts arrive during every write: wait again before the next one, so a
    // flush writes once per COALESCE_MS, never back to back, until it hands over.
    do {
      await new Promise((resolve) => setTimeout(resolve, COALESCE_MS));
      ok = await write(db, logger, takeBatches());
    } while (ok && hasPending() && Date.now() - started + COALESCE_MS < MAX_FLUSH_MS);
  } finally {
    flushing = false;
  }
  // Out of time with counts left: they belong to requests that relied on this flush, so write
  // them once more; requests arriving from now on start their own flush.
  if (ok && hasPending()) await write(db, logger, takeBatches());
}
