/**
 * Dashboard sessions: opaque bearer tokens (`sess_…`), stored only as SHA-256, revocable at once.
 * They never start with `pulse_`, which the contract reserves for project API keys. Presented
 * sessions are checked by `auth/session.ts`.
 */
import type { Database } from "../db/client";
import { sessions } from "../db/schema";
import { nowMs } from "../lib/clock";
import { newId } from "../lib/ids";
import { generateSecret, sha256Hex } from "../lib/secrets";
import { SESSION_TOKEN_PREFIX } from "../auth/credentials";

export async function newSession(db: Database, userId: string, ttlHours: number, meta: { ip: string | null; userAgent: string | null }) {
  const token = generateSecret(SESSION_TOKEN_PREFIX, 32);
  const createdAt = nowMs();
  const expiresAt = createdAt + ttlHours * 3600_000;
  const id = newId("session");
  const insert = db.insert(sessions).values({
    id,
    userId,
    tokenHash: await sha256Hex(token),
    ip: meta.ip,
    userAgent: meta.userAgent,
    createdAt,
    expiresAt,
  });
  return { id, token, expiresAt, insert };
}
