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
    const m = /^(pulse_\w+(?:\{[^}]*\})?) (-?\d+)$/.exec(line);
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

    const m = await scrape();
    expect(m.get("pulse_users")).toBe(await count("SELECT COUNT(*) AS n FROM users"));
    expect(m.get("pulse_organizations")).toBe(await count("SELECT COUNT(*) AS n FROM organizations WHERE deleted_at IS NULL"));
    expect(m.get("pulse_projects")).toBe(await count("SELECT COUNT(*) AS n FROM projects WHERE deleted_at IS NULL"));
    expect(m.get("pulse_api_keys_active")).toBe(await count("SELECT COUNT(*) AS n FROM api_keys WHERE revoked_at IS NULL"));
    expect(m.get("pulse_livekit_events")).toBe(await count("SELECT COUNT(*) AS n FROM livekit_events"));
    for (const status of ["pending", "delivered", "failed"]) {
      expect(m.get(`pulse_webhook_messages{status="${status}"}`) ?? 0, status).toBe(await count(`SELECT COUNT(*) AS n FROM webhook_messages WHERE status = '${status}'`));
    }
    expect(m.get("pulse_participant_sessions_open")).toBe(await count("SELECT COUNT(*) AS n FROM participant_sessions WHERE left_at IS NULL"));
  });
});
