/**
 * Keyset pagination, newest first: the cursor is the (created_at, id) of the last row returned,
 * base64url-encoded so clients treat it as opaque. Stable under inserts, no OFFSET scans.
 */
import { and, desc, eq, lt, or, type SQL } from "drizzle-orm";
import type { SQLiteColumn } from "drizzle-orm/sqlite-core";
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
  return btoa(JSON.stringify(position)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function decodeCursor(cursor: string): CursorPosition {
  try {
    const json = atob(cursor.replace(/-/g, "+").replace(/_/g, "/"));
    const value = JSON.parse(json) as CursorPosition;
    if (typeof value.t === "number" && typeof value.id === "string") return value;
  } catch {
    // fall through
  }
  throw new ApiError("validation_failed", "Invalid cursor.", { details: [{ path: "cursor", message: "Invalid cursor" }] });
}

/** WHERE fragment selecting rows strictly after the cursor in (created_at desc, id desc) order. */
export function afterCursor(cursor: string | undefined, createdAt: SQLiteColumn, id: SQLiteColumn): SQL | undefined {
  if (!cursor) return undefined;
  const { t, id: lastId } = decodeCursor(cursor);
  return or(lt(createdAt, t), and(eq(createdAt, t), lt(id, lastId)));
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
