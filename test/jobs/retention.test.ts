import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createTenant } from "../support/factories";
import { rows } from "../support/db";
import { runCron } from "../support/cron";

const DAY = 24 * 3600_000;

describe("webhook log retention", () => {
  it("deletes finished inbound events and deliveries past WEBHOOK_RETENTION_DAYS, keeping unfinished ones and recent ones", async () => {
    const { org, project } = await createTenant();
    const now = Date.now();
    const tag = crypto.randomUUID().slice(0, 8);
    const old = now - 31 * DAY;
    const recent = now - 29 * DAY;
    const event = (id: string, receivedAt: number, processedAt: number | null) =>
      env.DB.prepare(
        "INSERT INTO livekit_events (id, event_id, event, room_name, project_id, payload, occurred_at, received_at, processed_at) VALUES (?, ?, 'room_started', ?, ?, '{}', ?, ?, ?)",
      ).bind(`lke_${tag}${id}`, `EV_${tag}${id}`, `${project.id}:r`, project.id, receivedAt, receivedAt, processedAt);
    const endpointId = `whk_${tag}`;
    const message = (id: string, status: string, createdAt: number) =>
      env.DB.prepare(
        "INSERT INTO webhook_messages (id, project_id, endpoint_id, event_type, payload, status, attempts, created_at) VALUES (?, ?, ?, 'room.started', '{}', ?, 1, ?)",
      ).bind(`msg_${tag}${id}`, project.id, endpointId, status, createdAt);
    const attempt = (id: string, messageId: string, createdAt: number) =>
      env.DB.prepare(
        "INSERT INTO webhook_attempts (id, message_id, endpoint_id, attempt, status_code, duration_ms, created_at) VALUES (?, ?, ?, 1, 500, 10, ?)",
      ).bind(`dlv_${tag}${id}`, `msg_${tag}${messageId}`, endpointId, createdAt);
    await env.DB.batch([
      env.DB.prepare(
        "INSERT INTO webhook_endpoints (id, project_id, org_id, url, enabled, secret_encrypted, created_at, updated_at) VALUES (?, ?, ?, 'https://example.com/hook', 1, 'v1.x.y', ?, ?)",
      ).bind(endpointId, project.id, org.id, old, old),
      event("oldprocessed", old, old),
      event("oldunprocessed", old, null),
      event("recent", recent, recent),
      message("olddelivered", "delivered", old),
      message("oldfailed", "failed", old),
      message("oldpending", "pending", old),
      message("recent", "delivered", recent),
      attempt("a1", "olddelivered", old),
      attempt("a2", "oldpending", old),
    ]);

    await runCron("17 3 * * *");

    const ids = async (table: string) => (await rows(`SELECT id FROM ${table} WHERE id LIKE ?`, `%_${tag}%`)).map((r) => r.id as string).sort();
    expect(await ids("livekit_events")).toEqual([`lke_${tag}oldunprocessed`, `lke_${tag}recent`]);
    expect(await ids("webhook_messages")).toEqual([`msg_${tag}oldpending`, `msg_${tag}recent`]);
    // The deleted message's attempts went with it; the pending one's stay.
    expect(await ids("webhook_attempts")).toEqual([`dlv_${tag}a2`]);
  });
});
