/**
 * Set-based statements over a whole batch: the rows travel as one JSON text parameter and SQLite
 * reads them back as a table with `json_each`, so 100 inserts or 100 per-row updates are one
 * statement instead of 100 (each statement of a `db.batch()` costs D1 a parse, a plan and a
 * result, which dominated the queue consumers), and D1's 100 bound parameters per statement do
 * not cap the number of rows. The values are still bound, never spliced into the SQL.
 *
 * Only scalar values travel this way (text, numbers, booleans, null): `json_extract` gives back a
 * JSON string as the same TEXT, a JSON integer as INTEGER and true/false as 1/0.
 */
import { getTableColumns, sql, type SQL } from "drizzle-orm";
import type { SQLiteTable } from "drizzle-orm/sqlite-core";
import type { Database } from "./client";

export type JsonScalar = string | number | boolean | null;

/**
 * D1 caps a bound value (and a row) at 2 MB. One statement's JSON stays under 512 Ki UTF-16 code
 * units, at most 1.5 MB of UTF-8 (3 bytes per unit at worst); rows beyond go to further statements.
 */
const MAX_JSON_PARAM_CHARS = 512 * 1024;

/** `rows` in consecutive slices whose JSON text fits one bound parameter. */
function jsonSlices<R>(rows: readonly R[]): string[] {
  const out: string[] = [];
  let slice: string[] = [];
  let size = 0;
  for (const row of rows) {
    const text = JSON.stringify(row);
    if (slice.length > 0 && size + text.length > MAX_JSON_PARAM_CHARS) {
      out.push(`[${slice.join(",")}]`);
      slice = [];
      size = 0;
    }
    slice.push(text);
    size += text.length + 1;
  }
  if (slice.length > 0) out.push(`[${slice.join(",")}]`);
  return out;
}

/** `SELECT json_extract(value, '$.k') AS k, … FROM json_each(?)`: the rows of one JSON array. */
function selectFromJson(keys: readonly string[], json: string): SQL {
  const columns = keys.map((k) => sql`json_extract(value, ${`$.${k}`}) AS ${sql.identifier(k)}`);
  // `WHERE true` keeps SQLite from reading a following ON CONFLICT as part of the SELECT's join.
  return sql`SELECT ${sql.join(columns, sql`, `)} FROM json_each(${json}) WHERE true`;
}

/**
 * The rows as a table named `alias` for `UPDATE … FROM` (or a join), with a reference to each of
 * its columns. Meant for one batch's rows: it does not split them (see `MAX_JSON_PARAM_CHARS`).
 */
export function jsonTable<K extends string>(alias: string, keys: readonly K[], rows: readonly Record<K, JsonScalar>[]) {
  const columns = Object.fromEntries(keys.map((k) => [k, sql`${sql.identifier(alias)}.${sql.identifier(k)}`])) as Record<K, SQL>;
  return { source: sql`(${selectFromJson(keys, JSON.stringify(rows))}) AS ${sql.identifier(alias)}`, columns };
}

/**
 * `INSERT INTO table SELECT … FROM json_each(?)` for every row: one statement per ~512 KiB of rows.
 * Each row gives every NOT NULL column (a missing key would insert NULL, not the column's default,
 * so it is refused here); nullable columns left out are NULL.
 */
export function insertRows<T extends SQLiteTable>(db: Database, table: T, rows: readonly T["$inferInsert"][]) {
  const columns = getTableColumns(table);
  const keys = Object.keys(columns);
  for (const row of rows) {
    for (const key of keys) {
      if (columns[key]!.notNull && (row as Record<string, unknown>)[key] === undefined) throw new Error(`insertRows: ${key} is required`);
    }
  }
  return jsonSlices(rows).map((json) => db.insert(table).select(selectFromJson(keys, json)));
}

/** `(SELECT value FROM json_each(?))`: a list of values for `IN`, however long, as one parameter. */
export function jsonValues(values: readonly JsonScalar[]): SQL {
  return sql`(SELECT value FROM json_each(${JSON.stringify(values)}))`;
}
