/**
 * Count caps (free orgs per user, projects per org, keys, webhook endpoints, pending invitations)
 * enforced inside the INSERT itself: `INSERT … SELECT <row> WHERE (SELECT count(*) …) < cap`.
 * D1 runs each statement in its single writer, so two concurrent creates cannot both see room for
 * one more: a read-then-write check could let both through.
 */
import { and, count, eq, getTableColumns, isNull, sql, type SQL, type SQLWrapper } from "drizzle-orm";
import type { SQLiteColumn, SQLiteTable } from "drizzle-orm/sqlite-core";
import { conflict } from "../lib/errors";
import type { Database } from "./client";
import { memberships, organizations } from "./schema";

/** `SELECT <row> WHERE condition`, for `INSERT INTO table SELECT …`: the row, only when `condition` holds. */
export function rowWhen<T extends SQLiteTable>(table: T, row: T["$inferInsert"], condition: SQL): SQL {
  const values = Object.entries(getTableColumns(table)).map(([key, column]) => {
    const value = (row as Record<string, unknown>)[key];
    // drizzle's INSERT … SELECT lists every column in definition order; the SELECT matches it,
    // each value encoded the way its column stores it (booleans as 0/1, and so on).
    return value === null || value === undefined ? sql`NULL` : sql`${sql.param(value, column)}`;
  });
  return sql`SELECT ${sql.join(values, sql`, `)} WHERE ${condition}`;
}

/** `INSERT INTO table SELECT <row> WHERE condition`, returning the row when it was written. */
export function insertWhen<T extends SQLiteTable>(db: Database, table: T, row: T["$inferSelect"], condition: SQL) {
  return db.insert(table).select(rowWhen(table, row, condition)).returning();
}

/** True (as SQL) while `countQuery` (a `SELECT count(*) …`) is below `cap`. */
export function belowCap(countQuery: SQLWrapper, cap: number): SQL {
  return sql`(${countQuery}) < ${cap}`;
}

/** The 409 a create gets at its cap, naming the limit and the variable that sets it. */
export function capReached(what: string, cap: number, variable: string) {
  return conflict(`Limit reached: ${what} (${cap}, set by ${variable}).`);
}

/**
 * True (as SQL) while some row of `table` matches `where`. The guard of an audit entry placed
 * before the guarded change it records, in the same batch: `auditEntryWhen(…, rowsMatch(t, live))`
 * then `UPDATE t … WHERE live` (one transaction, so the entry exists exactly when the change does).
 */
export function rowsMatch(table: SQLiteTable, where: SQL): SQL {
  return sql`EXISTS (SELECT 1 FROM ${table} WHERE ${where})`;
}

/** True (as SQL) once the row `id` exists: guards the statements that follow a capped insert in its batch. */
export function rowWritten(idColumn: SQLiteColumn, id: string): SQL {
  return rowsMatch(idColumn.table, eq(idColumn, id));
}

/**
 * `SELECT count(*)` of the live free-plan orgs `userId` owns, for LIMIT_FREE_ORGS_PER_USER: checked
 * when an org is created (it starts free) and when an org moves to the free plan.
 */
export function freeOrgsOwnedBy(db: Database, userId: string) {
  return db
    .select({ n: count() })
    .from(memberships)
    .innerJoin(organizations, eq(organizations.id, memberships.orgId))
    .where(and(eq(memberships.userId, userId), eq(memberships.role, "owner"), eq(organizations.planId, "free"), isNull(organizations.deletedAt)));
}
