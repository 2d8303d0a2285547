/**
 * Key rotation for sealed secrets: rewrites, under the keyring's primary key, every sealed value
 * that is not already there (older keys and the pre-keyring `v1.` format). Bounded per run and per
 * column so a cron run stays small; hourly runs finish a rotation of any realistic table in hours.
 * Each rewrite is guarded on the old ciphertext (`WHERE … = old`), so a value changed meanwhile
 * (a webhook secret rotated by its owner) is left alone and picked up next run if still needed.
 * The plaintext never changes, so no audit entry is written; the run logs its counts.
 */
import { and, asc, eq, getTableName, gt, isNotNull, ne, sql } from "drizzle-orm";
import type { SQLiteColumn, SQLiteTable } from "drizzle-orm/sqlite-core";
import { runBatch, type Database } from "../db/client";
import { ingresses, livekitKeys, webhookEndpoints } from "../db/schema";
import { sealedAt } from "../db/sealed";
import { decryptSecret, encryptSecret, type Keyring } from "../lib/secrets";

interface SealedColumn {
  table: SQLiteTable;
  id: SQLiteColumn;
  value: SQLiteColumn;
}

/** Every column that holds a value sealed with lib/secrets.ts. A new one must be listed here. */
export const SEALED_COLUMNS: SealedColumn[] = [
  { table: webhookEndpoints, id: webhookEndpoints.id, value: webhookEndpoints.secretEncrypted },
  { table: webhookEndpoints, id: webhookEndpoints.id, value: webhookEndpoints.previousSecretEncrypted },
  { table: livekitKeys, id: livekitKeys.id, value: livekitKeys.secretEncrypted },
  { table: ingresses, id: ingresses.id, value: ingresses.streamKeyEncrypted },
];

export const REENCRYPT_BATCH = 200;

export interface ReencryptResult {
  rewritten: number;
  /** Values no key of the ring opens (logged by column and id; never their content). */
  unreadable: string[];
  /** True when a column used its whole batch: more may be left for the next run. */
  more: boolean;
}

export async function reencryptSecrets(db: Database, keyring: Keyring, limitPerColumn = REENCRYPT_BATCH): Promise<ReencryptResult> {
  const prefix = `v2.${keyring.primary}.`;
  const result: ReencryptResult = { rewritten: 0, unreadable: [], more: false };
  for (const { table, id, value } of SEALED_COLUMNS) {
    // Pages by id, so values no key opens are stepped over instead of blocking the rotation.
    let after = "";
    let rewritten = 0;
    while (rewritten < limitPerColumn) {
      const rows = (await db
        .select({ id, value })
        .from(table)
        .where(and(isNotNull(value), ne(sql`substr(${value}, 1, ${prefix.length})`, prefix), gt(id, after)))
        .orderBy(asc(id))
        .limit(limitPerColumn - rewritten)
        .all()) as { id: string; value: string }[];
      if (rows.length === 0) break;
      after = rows[rows.length - 1]!.id;
      const updates = [];
      for (const row of rows) {
        const at = sealedAt(value, row.id);
        let plaintext: string;
        try {
          plaintext = await decryptSecret(row.value, keyring, at);
        } catch {
          result.unreadable.push(`${getTableName(table)}.${value.name}:${row.id}`);
          continue;
        }
        updates.push(
          db
            .update(table)
            .set({ [columnKey(table, value)]: await encryptSecret(plaintext, keyring, at) })
            .where(and(eq(id, row.id), eq(value, row.value))),
        );
      }
      await runBatch(db, updates);
      rewritten += updates.length;
    }
    if (rewritten >= limitPerColumn) result.more = true;
    result.rewritten += rewritten;
  }
  return result;
}

/** The drizzle property name of `column` in `table` (what `.set()` takes). */
function columnKey(table: SQLiteTable, column: SQLiteColumn): string {
  const entry = Object.entries(table).find(([, c]) => c === column);
  if (!entry) throw new Error(`Column ${column.name} is not in its table`);
  return entry[0];
}
