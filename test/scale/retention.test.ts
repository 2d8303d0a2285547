import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createDb } from "../../src/db/client";
import { cleanupExpired } from "../../src/jobs/cleanup";
import { rollUpDirtyHours } from "../../src/usage/rollup";
import { createTenant } from "../support/factories";
import { rows } from "../support/db";
import { runCron } from "../support/cron";

const DAY = 24 * 3600_000;
const series = (n: number) => `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ${n})`;

describe("retention with a large backlog", () => {
  it("leaves nothing past retention after one daily run over a 100,000-row backlog, and keeps what is still inside it", async () => {
    const { org, project } = await createTenant();
    const now = Date.now();
    const tag = crypto.randomUUID().slice(0, 8);
    // Raw usage 40–80 days old (past USAGE_EVENT_RETENTION_DAYS = 35) and audit entries past 365 days.
    await env.DB.prepare(
      `INSERT INTO usage_events (id, project_id, org_id, meter, quantity, occurred_at, source_id, created_at) ${series(70_000)}
       SELECT 'ue_${tag}' || i, ?1, ?2, 'participant_minutes', 1, ?3 - 40 * ${DAY} - i * 10000, '${tag}' || i, ?3 - 40 * ${DAY} FROM n`,
    ).bind(project.id, org.id, now).run();
    await env.DB.prepare(
      `INSERT INTO audit_logs (id, org_id, actor_type, action, resource_type, metadata, created_at) ${series(30_000)}
       SELECT 'aud_${tag}' || i, ?1, 'system', 'test.old', 'test', '{}', ?2 - 366 * ${DAY} - i * 1000 FROM n`,
    ).bind(org.id, now).run();
    // Inside retention: kept.
    await env.DB.prepare(
      `INSERT INTO usage_events (id, project_id, org_id, meter, quantity, occurred_at, source_id, created_at) ${series(100)}
       SELECT 'uk_${tag}' || i, ?1, ?2, 'participant_minutes', 1, ?3 - 30 * ${DAY} - i * 1000, 'k${tag}' || i, ?3 FROM n`,
    ).bind(project.id, org.id, now).run();
    // Their hours are rolled up (the trigger marked them), as the hourly job does before retention.
    expect((await rollUpDirtyHours(createDb(env.DB))).complete).toBe(true);
    const rolled = await rows("SELECT SUM(quantity) AS q FROM usage_rollups WHERE project_id = ? AND granularity = 'day'", project.id);
    expect(rolled[0]!.q).toBe(70_100);

    await runCron("17 3 * * *");

    expect(await rows("SELECT COUNT(*) AS n FROM usage_events WHERE project_id = ? AND occurred_at < ?", project.id, now - 35 * DAY)).toEqual([{ n: 0 }]);
    expect(await rows("SELECT COUNT(*) AS n FROM usage_events WHERE project_id = ?", project.id)).toEqual([{ n: 100 }]);
    expect(await rows("SELECT COUNT(*) AS n FROM audit_logs WHERE org_id = ? AND created_at < ?", org.id, now - 365 * DAY)).toEqual([{ n: 0 }]);
    // The rollups outlive the raw events: usage and bills read them.
    expect(await rows("SELECT SUM(quantity) AS q FROM usage_rollups WHERE project_id = ? AND granularity = 'day'", project.id)).toEqual([{ q: 70_100 }]);
  });

  it("keeps the raw events of an hour still waiting for its rollup, whatever their age", async () => {
    const { org, project } = await createTenant();
    const now = Date.now();
    const old = Math.floor((now - 50 * DAY) / 3600_000) * 3600_000 + 60_000;
    const db = createDb(env.DB);
    await rollUpDirtyHours(db); // nothing else waiting
    await env.DB.prepare("INSERT INTO usage_events (id, project_id, org_id, meter, quantity, occurred_at, source_id, created_at) VALUES (?, ?, ?, 'egress_minutes', 7, ?, ?, ?)")
      .bind(`ue_late${crypto.randomUUID().slice(0, 6)}`, project.id, org.id, old, `late-${crypto.randomUUID()}`, now)
      .run();
    const result = await cleanupExpired(db, { now, auditRetentionDays: 365, webhookRetentionDays: 30, usageEventRetentionDays: 35 });
    expect(result.complete).toBe(true);
    expect(await rows("SELECT quantity FROM usage_events WHERE project_id = ?", project.id)).toEqual([{ quantity: 7 }]);
    // Once rolled up, the next cleanup takes it; the rollup keeps the 7 minutes.
    await rollUpDirtyHours(db);
    await cleanupExpired(db, { now, auditRetentionDays: 365, webhookRetentionDays: 30, usageEventRetentionDays: 35 });
    expect(await rows("SELECT quantity FROM usage_events WHERE project_id = ?", project.id)).toEqual([]);
    expect(await rows("SELECT quantity FROM usage_rollups WHERE project_id = ? AND granularity = 'hour'", project.id)).toEqual([{ quantity: 7 }]);
  });
});
