import { env } from "cloudflare:workers";
import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { createDb } from "../../src/db/client";
import { deleteInBatches, INVITATION_GRACE_MS } from "../../src/jobs/cleanup";
import { call } from "../support/api";
import { createOrg, createUser } from "../support/factories";
import { rows } from "../support/db";
import { runCron } from "../support/cron";

const DAY = 24 * 3600_000;

describe("TTL cleanup", () => {
  it("removes exactly the expired sessions, stale invitations and old audit entries, and nothing else", async () => {
    const user = await createUser();
    const org = await createOrg(user);
    const now = Date.now();
    const tag = crypto.randomUUID().slice(0, 8);
    const session = (id: string, expiresAt: number, revokedAt: number | null) =>
      env.DB.prepare("INSERT INTO sessions (id, user_id, token_hash, created_at, expires_at, revoked_at) VALUES (?, ?, ?, ?, ?, ?)").bind(
        `ses_${tag}${id}`, user.id, `hash-${tag}-${id}`, now - 40 * DAY, expiresAt, revokedAt,
      );
    const invitation = (id: string, expiresAt: number, opts: { revokedAt?: number; acceptedAt?: number } = {}) =>
      env.DB.prepare(
        "INSERT INTO invitations (id, org_id, email, email_normalized, role, token_hash, created_at, expires_at, accepted_at, revoked_at) VALUES (?, ?, ?, ?, 'member', ?, ?, ?, ?, ?)",
      ).bind(`inv_${tag}${id}`, org.id, `${id}@x.test`, `${id}@x.test`, `ih-${tag}-${id}`, now - 90 * DAY, expiresAt, opts.acceptedAt ?? null, opts.revokedAt ?? null);
    const audit = (id: string, createdAt: number) =>
      env.DB.prepare("INSERT INTO audit_logs (id, org_id, actor_type, action, resource_type, metadata, created_at) VALUES (?, ?, 'system', 'test.row', 'test', '{}', ?)").bind(
        `aud_${tag}${id}`, org.id, createdAt,
      );
    await env.DB.batch([
      session("expired", now - 1000, null),
      session("revoked", now + DAY, now - 1000),
      session("live", now + DAY, null),
      invitation("oldexpired", now - INVITATION_GRACE_MS - DAY),
      invitation("recentexpired", now - INVITATION_GRACE_MS + DAY),
      invitation("oldrevoked", now + DAY, { revokedAt: now - INVITATION_GRACE_MS - DAY }),
      invitation("oldaccepted", now - INVITATION_GRACE_MS - DAY, { acceptedAt: now - 100 * DAY }),
      invitation("pending", now + 5 * DAY),
      audit("old", now - 366 * DAY),
      audit("kept", now - 364 * DAY),
    ]);

    await runCron("17 3 * * *");

    const ids = async (table: string) => (await rows(`SELECT id FROM ${table} WHERE id LIKE ?`, `%_${tag}%`)).map((r) => r.id as string).sort();
    expect(await ids("sessions")).toEqual([`ses_${tag}live`]);
    expect(await ids("invitations")).toEqual([`inv_${tag}oldaccepted`, `inv_${tag}pending`, `inv_${tag}recentexpired`].sort());
    expect(await ids("audit_logs")).toEqual([`aud_${tag}kept`]);
    // The user's own live session (from signup) still works.
    expect((await call("GET", "/v1/me", { token: user.token })).status).toBe(200);
  });

  it("deletes in bounded batches until nothing matches, and stops when its time budget is spent", async () => {
    const user = await createUser();
    const org = await createOrg(user);
    const now = Date.now();
    await env.DB.batch(
      Array.from({ length: 5 }, (_, i) =>
        env.DB.prepare("INSERT INTO audit_logs (id, org_id, actor_type, action, resource_type, metadata, created_at) VALUES (?, ?, 'system', 'test.batch', 'test', '{}', ?)").bind(
          `aud_batch${i}${crypto.randomUUID().slice(0, 6)}`, org.id, now - 400 * DAY,
        ),
      ),
    );
    const db = createDb(env.DB);
    const where = sql`org_id = ${org.id} AND action = 'test.batch'`;
    // A spent budget deletes nothing and says the work is not complete.
    expect(await deleteInBatches(db, "audit_logs", where, { batchSize: 2, deadline: Date.now() - 1 })).toEqual({ deleted: 0, batches: 0, complete: false });
    expect(await rows("SELECT id FROM audit_logs WHERE org_id = ? AND action = 'test.batch'", org.id)).toHaveLength(5);
    // With time left it keeps going, batch after batch, until the backlog is gone.
    expect(await deleteInBatches(db, "audit_logs", where, { batchSize: 2 })).toEqual({ deleted: 5, batches: 3, complete: true });
    expect(await rows("SELECT id FROM audit_logs WHERE org_id = ? AND action = 'test.batch'", org.id)).toHaveLength(0);
    // The org's own (recent) entries never matched and are still there.
    expect((await rows("SELECT id FROM audit_logs WHERE org_id = ?", org.id)).length).toBeGreaterThan(0);
  });
});
