/** Where a sealed secret lives, named from the drizzle column itself so a rename cannot drift. */
import { getTableName, type Column } from "drizzle-orm";
import type { SealedAt } from "../lib/secrets";

export function sealedAt(column: Column, rowId: string): SealedAt {
  return { table: getTableName(column.table), column: column.name, rowId };
}
