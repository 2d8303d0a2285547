/**
 * Set-based statements (src/db/json-rows.ts) carry rows as one JSON parameter: what goes in must
 * come back byte for byte, whatever the text, and large batches split instead of failing.
 */
import { env } from "cloudflare:workers";
import { eq, inArray, sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { createDb, runBatch } from "../../src/db/client";
import { insertRows, jsonTable, jsonValues } from "../../src/db/json-rows";
import { auditLogs } from "../../src/db/schema";

const db = createDb(env.DB);

function row(id: string, metadata: string, extra: Partial<typeof auditLogs.$inferInsert> = {}): typeof auditLogs.$inferInsert {
  return { id, actorType: "system", actorId: "sys", action: "test.json_rows", resourceType: "thing", resourceId: id, metadata, createdAt: 1_700_000_000_123, ...extra };
}

const awkward = [
  "plain",
  "quotes ' \" and back\\slash",
  "emoji 🎉 and 中文 and é (NFD: e\u0301)",
  "newline\nand tab\t and NUL \u0000 inside",
  '{"looks":"like json"}',
  "[1,2,3]",
  "null",
  "  leading and trailing spaces  ",
  "",
];

describe("json rows", () => {
  it("inserts every row in one statement and returns each text byte for byte", async () => {
    const prefix = `jr_${crypto.randomUUID().slice(0, 8)}_`;
    const rows = awkward.map((text, i) => row(`${prefix}${i}`, text, { ip: i % 2 ? null : "203.0.113.9", createdAt: 1_700_000_000_000 + i }));
    const statements = insertRows(db, auditLogs, rows);
    expect(statements).toHaveLength(1);
    await runBatch(db, statements);
    const back = await db.select().from(auditLogs).where(inArray(auditLogs.id, jsonValues(rows.map((r) => r.id!)))).all();
    expect(back).toHaveLength(rows.length);
    for (const r of rows) {
      const got = back.find((b) => b.id === r.id)!;
      expect(got.metadata).toBe(r.metadata);
      expect(got.ip).toBe(r.ip);
      expect(got.createdAt).toBe(r.createdAt);
      expect(got.orgId).toBeNull();
    }
  });

  it("splits a batch too large for one bound value into several statements, losing nothing", async () => {
    const prefix = `jrbig_${crypto.randomUUID().slice(0, 8)}_`;
    const big = "x".repeat(300 * 1024);
    const rows = [0, 1, 2].map((i) => row(`${prefix}${i}`, `${i}${big}`));
    const statements = insertRows(db, auditLogs, rows);
    expect(statements.length).toBeGreaterThan(1);
    await runBatch(db, statements);
    const back = await db.select({ id: auditLogs.id, metadata: auditLogs.metadata }).from(auditLogs).where(inArray(auditLogs.id, jsonValues(rows.map((r) => r.id!)))).all();
    expect(back.map((b) => b.metadata).sort()).toEqual(rows.map((r) => r.metadata).sort());
  });

  it("refuses a row without a required column rather than inserting NULL", () => {
    const bad = { ...row("jr_bad", "{}") } as Record<string, unknown>;
    delete bad.action;
    expect(() => insertRows(db, auditLogs, [bad as typeof auditLogs.$inferInsert])).toThrow(/action is required/);
  });

  it("updates many rows with their own values in one UPDATE … FROM", async () => {
    const prefix = `jrup_${crypto.randomUUID().slice(0, 8)}_`;
    const rows = [0, 1, 2].map((i) => row(`${prefix}${i}`, "{}"));
    await runBatch(db, insertRows(db, auditLogs, rows));
    const changes = jsonTable("change", ["id", "metadata"], [
      { id: `${prefix}0`, metadata: awkward[2]! },
      { id: `${prefix}2`, metadata: awkward[3]! },
    ]);
    await db.update(auditLogs).set({ metadata: sql`${changes.columns.metadata}` }).from(changes.source).where(eq(auditLogs.id, changes.columns.id));
    const back = await db.select({ id: auditLogs.id, metadata: auditLogs.metadata }).from(auditLogs).where(inArray(auditLogs.id, jsonValues(rows.map((r) => r.id!)))).all();
    expect(Object.fromEntries(back.map((b) => [b.id, b.metadata]))).toEqual({ [`${prefix}0`]: awkward[2], [`${prefix}1`]: "{}", [`${prefix}2`]: awkward[3] });
  });
});
