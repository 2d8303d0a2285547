import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { call } from "../support/api";
import { createApiKey, createProject, createTenant } from "../support/factories";
import { createEndpoint, pendingMessage } from "../support/webhook-receiver";

const ADMIN = "pulse-dev-admin-token";

async function scrape() {
  const res = await call("GET", "/metrics", { token: ADMIN });
  expect(res.status).toBe(200);
  const values = new Map<string, number>();
  for (const line of res.text.split("\n")) {
    const m = /^(pulse_\w+(?:\{[^}]*\})?) (-?\d+(?:\.\d+)?)$/.exec(line);
    if (m) values.set(m[1]!, Number(m[2]));
  }
  return values;
}

const count = async (sql: string) => ((await env.DB.prepare(sql).first<{ n: number }>())?.n ?? 0);

describe("/metrics counts kept by triggers", () => {
  it("equal the tables' real counts after creates, soft deletes, revokes and status changes", async () => {
    const { user, org, project, key } = await createTenant();
    const second = await createProject(user, org.id, "Second");
    await createApiKey(user, project.id, { name: "two" });
    expect((await call("DELETE", `/v1/projects/${project.id}/keys/${key.id}`, { token: user.token })).status).toBe(204);
    expect((await call("DELETE", `/v1/projects/${second.id}`, { token: user.token })).status).toBe(204);
    const endpoint = await createEndpoint(user.token, project.id, { url: "https://hooks.example.com/m" });
    const a = await pendingMessage(project.id, endpoint.id);
    await pendingMessage(project.id, endpoint.id);
    await env.DB.prepare("UPDATE webhook_messages SET status = 'delivered' WHERE id = ?").bind(a.id).run();
    await env.DB.prepare("DELETE FROM webhook_messages WHERE id = ?").bind(a.id).run();

    // One event given up on, one given up on but processed after all (not counted), one in line
    // for an hour, one processed. The older ones are not in line, so the lag is the hour's.
    const hourAgo = Date.now() - 3_600_000;
    for (const [id, processed, abandoned, receivedAt] of [
      ["lke_mgiven", null, 1, 0],
      ["lke_mlate", 2, 1, 0],
      ["lke_mdone", 3, null, 0],
      ["lke_mline", null, null, hourAgo],
    ] as const) {
      await env.DB.prepare("INSERT INTO livekit_events (id, event_id, event, payload, occurred_at, received_at, processed_at, abandoned_at) VALUES (?, ?, 'room_started', '{}', 0, ?, ?, ?)")
        .bind(id, `EV_${id}`, receivedAt, processed, abandoned)
        .run();
    }

    const m = await scrape();
    expect(m.get("pulse_users")).toBe(await count("SELECT COUNT(*) AS n FROM users"));
    expect(m.get("pulse_organizations")).toBe(await count("SELECT COUNT(*) AS n FROM organizations WHERE deleted_at IS NULL"));
    expect(m.get("pulse_projects")).toBe(await count("SELECT COUNT(*) AS n FROM projects WHERE deleted_at IS NULL"));
    expect(m.get("pulse_api_keys_active")).toBe(await count("SELECT COUNT(*) AS n FROM api_keys WHERE revoked_at IS NULL"));
    expect(m.get("pulse_livekit_events")).toBe(await count("SELECT COUNT(*) AS n FROM livekit_events"));
    for (const status of ["pending", "delivered", "failed"]) {
      expect(m.get(`pulse_webhook_messages{status="${status}"}`) ?? 0, status).toBe(await count(`SELECT COUNT(*) AS n FROM webhook_messages WHERE status = '${status}'`));
    }
    expect(m.get("pulse_livekit_events_abandoned")).toBe(await count("SELECT COUNT(*) AS n FROM livekit_events WHERE abandoned_at IS NOT NULL AND processed_at IS NULL"));
    expect(m.get("pulse_livekit_events_abandoned")).toBeGreaterThanOrEqual(1);
    expect(m.get("pulse_participant_sessions_open")).toBe(await count("SELECT COUNT(*) AS n FROM participant_sessions WHERE left_at IS NULL"));
    const lag = m.get("pulse_livekit_events_unprocessed_oldest_seconds")!;
    expect(lag).toBeGreaterThanOrEqual(3600);
    expect(lag).toBeLessThan(3660);
  });

  it("report the inbound lag as 0 once nothing is in line", async () => {
    await env.DB.prepare("INSERT INTO livekit_events (id, event_id, event, payload, occurred_at, received_at) VALUES ('lke_mwait', 'EV_mwait', 'room_started', '{}', 0, ?)")
      .bind(Date.now() - 120_000)
      .run();
    const waiting = (await scrape()).get("pulse_livekit_events_unprocessed_oldest_seconds")!;
    expect(waiting).toBeGreaterThanOrEqual(120);
    await env.DB.prepare("UPDATE livekit_events SET processed_at = ? WHERE processed_at IS NULL AND abandoned_at IS NULL").bind(Date.now()).run();
    expect((await scrape()).get("pulse_livekit_events_unprocessed_oldest_seconds")).toBe(0);
  });
});
