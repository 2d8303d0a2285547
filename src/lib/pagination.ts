/**
 * Keyset pagination, newest first: the cursor is the (created_at, id) of the last row returned,
 * base64url-encoded so clients treat it as opaque. Stable under inserts, no OFFSET scans.
 *
 * The "after the cursor" condition is one row-value comparison, `(created_at, id) < (?, ?)`, which
 * SQLite turns into a range on an index ending in `(…, created_at, id)`: a page at any depth costs
 * one index seek plus `limit` rows. (The equivalent `created_at < ? OR (created_at = ? AND id < ?)`
 * defeats the index and makes a page cost O(depth).) Every list's index therefore ends in
 * `created_at, id` after its equality columns; tests assert the plans.
 */
import { desc, sql, type SQL } from "drizzle-orm";
import type { SQLiteColumn } from "drizzle-orm/sqlite-core";
import { base64UrlToBytes, bytesToBase64Url } from "./base64";
import { ApiError } from "./errors";

/** What a caller asks of a list: at most `limit` rows after `cursor` (the previous page's `next_cursor`). */
export interface PageRequest {
  limit: number;
  cursor?: string;
}

interface CursorPosition {
  t: number;
  id: string;
}

export function encodeCursor(position: CursorPosition): string {
  return bytesToBase64Url(new TextEncoder().encode(JSON.stringify(position)));
}

export function decodeCursor(cursor: string): CursorPosition {
  try {
    const json = new TextDecoder().decode(base64UrlToBytes(cursor));
    const value = JSON.parse(json) as CursorPosition;
    // Positions are row times in whole milliseconds: anything else is a forged cursor.
    if (Number.isSafeInteger(value.t) && typeof value.id === "string") return value;
  } catch {
    // fall through
  }
  throw new ApiError("validation_failed", "Invalid cursor.", { details: [{ path: "cursor", message: "Invalid cursor" }] });
}

/** WHERE fragment selecting rows strictly after the cursor in (created_at desc, id desc) order. */
export function afterCursor(cursor: string | undefined, createdAt: SQLiteColumn, id: SQLiteColumn): SQL | undefined {
  if (!cursor) return undefined;
  const { t, id: lastId } = decodeCursor(cursor);
  return sql`(${createdAt}, ${id}) < (${t}, ${lastId})`;
}

/** For jobs walking a backlog oldest first: rows strictly after `position` in (at asc, id asc) order. */
export function afterPosition(position: { at: number; id: string } | null, at: SQLiteColumn, id: SQLiteColumn): SQL | undefined {
  return position ? sql`(${at}, ${id}) > (${position.at}, ${position.id})` : undefined;
}

export function newestFirst(createdAt: SQLiteColumn, id: SQLiteColumn) {
  return [desc(createdAt), desc(id)];
}

/** Fetch `limit + 1` rows, then call this: it trims the extra row and makes the next cursor. */
export function page<Row extends { createdAt: number; id: string }>(rows: Row[], limit: number) {
  const hasMore = rows.length > limit;
  const data = hasMore ? rows.slice(0, limit) : rows;
  const last = data[data.length - 1];
  return { rows: data, nextCursor: hasMore && last ? encodeCursor({ t: last.createdAt, id: last.id }) : null };
}

/**
 * One page of a newest-first list. `query` gets the cursor's WHERE fragment, the order and how many
 * rows to fetch (one more than asked, to learn whether another page follows).
 */
export async function newestFirstPage<Row extends { createdAt: number; id: string }>(
  { limit, cursor }: PageRequest,
  columns: { createdAt: SQLiteColumn; id: SQLiteColumn },
  query: (after: SQL | undefined, order: SQL[], fetch: number) => Promise<Row[]>,
) {
  return page(await query(afterCursor(cursor, columns.createdAt, columns.id), newestFirst(columns.createdAt, columns.id), limit + 1), limit);
}
