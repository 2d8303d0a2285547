import { drizzle } from "drizzle-orm/d1";
import * as schema from "./schema";

export type Database = ReturnType<typeof createDb>;

export function createDb(d1: D1Database) {
  return drizzle(d1, { schema });
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
 * Commits the record of something another system (LiveKit) has already done. If the batch fails,
 * `undo` is handed to `background` before the error is rethrown: undoing beats leaving something
 * running that nobody can see, stop or be billed for.
 */
export async function recordOrUndo(db: Database, items: BatchItem[], undo: () => Promise<unknown>, background: (work: Promise<unknown>) => void) {
  try {
    await runBatch(db, items);
  } catch (error) {
    background(undo().catch(() => undefined));
    throw error;
  }
}
