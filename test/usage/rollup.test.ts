import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createDb } from "../../src/db/client";
import { setClock } from "../../src/lib/clock";
import { usageEventInsert } from "../../src/usage/record";
import { call } from "../support/api";
import { runCron } from "../support/cron";
import { createTenant } from "../support/factories";
import { participant, secs, sendEvent } from "../support/livekit-webhook";

const t = (d: number, h: number, m: number, s = 0) => Date.UTC(2026, 9, d, h, m, s);

async function rollups(projectId: string) {
  return (
    await env.DB.prepare("SELECT meter, granularity, bucket_start, quantity FROM usage_rollups WHERE project_id = ? ORDER BY granularity, bucket_start, meter")
      .bind(projectId)
      .all()
  ).results;
}

describe("usage rollup cron", () => {
  it("rolls a 10:00:05–10:01:10 session into 2 participant minutes per hour and day, and a second run gives the same totals", async () => {
    const { user, project, key } = await createTenant();
    const room = { sid: "RM_u", name: `${project.id}:daily` };
    const p = participant("PA_roll1", "alice", t(5, 10, 0, 5));
    await sendEvent({ event: "participant_joined", createdAt: secs(t(5, 10, 0, 5)), room, participant: p });
    await sendEvent({ event: "participant_left", createdAt: secs(t(5, 10, 1, 10)), room, participant: p });
    const db = createDb(env.DB);
    await usageEventInsert(db, { projectId: project.id, orgId: (await call("GET", `/v1/projects/${project.id}`, { token: user.token })).body.org_id, meter: "tokens_issued", quantity: 3, occurredAt: t(5, 14, 30), sourceId: `tok-${project.id}` });

    setClock(() => t(5, 23, 7));
    await runCron("7 * * * *");
    const first = await rollups(project.id);
    expect(first).toEqual([
      { meter: "participant_minutes", granularity: "day", bucket_start: t(5, 0, 0), quantity: 2 },
      { meter: "tokens_issued", granularity: "day", bucket_start: t(5, 0, 0), quantity: 3 },
      { meter: "participant_minutes", granularity: "hour", bucket_start: t(5, 10, 0), quantity: 2 },
      { meter: "tokens_issued", granularity: "hour", bucket_start: t(5, 14, 0), quantity: 3 },
    ]);
    await runCron("7 * * * *");
    await runCron("17 3 * * *"); // the daily backfill recomputes the same window
    expect(await rollups(project.id)).toEqual(first);

    // The usage API reads the rolled-up buckets.
    const usage = await call("GET", `/v1/usage?since=2026-10-05T00:00:00Z&until=2026-10-06T00:00:00Z&granularity=hour`, { token: key.secret });
    expect(usage.status).toBe(200);
    expect(usage.body.totals).toEqual({ participant_minutes: 2, egress_minutes: 0, ingress_minutes: 0, tokens_issued: 3 });
    expect(usage.body.series).toHaveLength(24);
    expect(usage.body.series[10]).toEqual({ start: "2026-10-05T10:00:00Z", participant_minutes: 2, egress_minutes: 0, ingress_minutes: 0, tokens_issued: 0 });
  });

  it("replaces a bucket when more usage lands in it, never adding the old total again", async () => {
    const { project } = await createTenant();
    const room = { sid: "RM_v", name: `${project.id}:r` };
    const a = participant("PA_rep1", "a", t(6, 9, 0));
    await sendEvent({ event: "participant_joined", createdAt: secs(t(6, 9, 0)), room, participant: a });
    await sendEvent({ event: "participant_left", createdAt: secs(t(6, 9, 5)), room, participant: a });
    setClock(() => t(6, 10, 7));
    await runCron("7 * * * *");
    setClock(null); // LiveKit signs with the real time
    const b = participant("PA_rep2", "b", t(6, 9, 10));
    await sendEvent({ event: "participant_joined", createdAt: secs(t(6, 9, 10)), room, participant: b });
    const left = await sendEvent({ event: "participant_left", createdAt: secs(t(6, 9, 40, 1)), room, participant: b });
    expect(left.res.status).toBe(200);
    setClock(() => t(6, 11, 7));
    await runCron("7 * * * *");
    const hour = (await rollups(project.id)).find((r: any) => r.granularity === "hour");
    expect(hour).toMatchObject({ bucket_start: t(6, 9, 0), quantity: 5 + 31 });
  });
});
