import { drizzle } from "drizzle-orm/d1";
import * as schema from "./schema";

export type Database = ReturnType<typeof createDb>;

function newDb(d1: D1Database) {
  return drizzle(d1, { schema });
}

/**
 * Setting drizzle up walks the whole schema (its relational config), which costs more than the
 * rest of a `/health` request, so it happens once per D1 binding per isolate; a drizzle instance
 * holds no per-request state. A different binding object (tests replace `DB`) gets its own.
 */
const instances = new WeakMap<D1Database, ReturnType<typeof newDb>>();

export function createDb(d1: D1Database): ReturnType<typeof newDb> {
  let db = instances.get(d1);
  if (!db) {
    db = newDb(d1);
    instances.set(d1, db);
  }
  return db;
}

/** One statement of a `db.batch()`: D1 has no interactive transactions, so a change and its audit row travel together. */
export type BatchItem = Parameters<Database["batch"]>[0][number];

/** True for D1/SQLite unique-constraint violations (the loser of a race on a unique key). */
export function isUniqueViolation(error: unknown): boolean {
  const text = String((error as { cause?: unknown })?.cause ?? "") + String((error as Error)?.message ?? "");
  return /UNIQUE constraint failed|SQLITE_CONSTRAINT/i.test(text);
}

/** `db.batch()` for a list built at run time (drizzle's type wants a non-empty tuple). */
export function runBatch(db: Database, items: BatchItem[]) {
  if (items.length === 0) return Promise.resolve([]);
  return db.batch(items as [BatchItem, ...BatchItem[]]);
}

/**
 * A look-up that can share a round trip with other statements (`readTogether`, or after the writes
 * of a `runBatch`): its SELECT, and what its rows mean. Locally every D1 call costs the Worker's
 * thread a couple of milliseconds whatever it carries, and deployed each is a network round trip.
 */
export interface BatchRead<T> {
  statement: BatchItem;
  read(rows: unknown): T;
}

/** Runs `reads` in one D1 batch (one round trip) and returns what each makes of its rows, in order. */
export async function readTogether<T extends readonly unknown[]>(db: Database, reads: { [K in keyof T]: BatchRead<T[K]> }): Promise<T> {
  const all = reads as readonly BatchRead<unknown>[];
  const results = (await runBatch(db, all.map((r) => r.statement))) as unknown[];
  return all.map((r, i) => r.read(results[i])) as unknown as T;
}

/**
 * Commits the record of something another system (LiveKit) has already done. If the batch fails,
 * `undo` is handed to `background` before the error is rethrown: undoing beats leaving something
 * running that nobody can see, stop or be billed for.
 */
export async function recordOrUndo(db: Database, items: BatchItem[], undo: () => Promise<unknown>, background: (work: Promise<unknown>) => void) {
  try {
    return await runBatch(db, items);
  } catch (error) {
    background(undo().catch(() => undefined));
    throw error;
  }
}

/** Ids bound in one `IN (…)`: D1 allows 100 bound parameters per statement; room is left for the rest. */
export const MAX_BOUND_IDS = 90;

/** `items` in consecutive slices of at most `size` (for `IN (…)` lists and Queues' 100-message sends). */
export function chunks<T>(items: readonly T[], size = MAX_BOUND_IDS): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
