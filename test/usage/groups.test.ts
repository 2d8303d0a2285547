import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createDb } from "../../src/db/client";
import type { Meter } from "../../src/usage/meters";
import { usageEventInsert } from "../../src/usage/record";
import { rollUpDirtyHours } from "../../src/usage/rollup";
import { call, expectEnvelope } from "../support/api";
import { createProject, createTenant } from "../support/factories";

const db = () => createDb(env.DB);
const mar = (d: number, h = 0) => Date.UTC(2026, 2, d, h);
const march = "since=2026-03-01T00:00:00Z&until=2026-04-01T00:00:00Z";

let n = 0;
async function usage(t: { projectId: string; orgId: string }, meter: Meter, quantity: number, at: number, room: string | null, identity: string | null) {
  await usageEventInsert(db(), { ...t, meter, quantity, occurredAt: at, sourceId: `groups-${n++}-${Math.random()}`, room, identity });
}

describe("usage group_by", () => {
  it("groups by room and by identity, largest participant minutes first then key, and keeps working after raw events are deleted", async () => {
    const t = await createTenant();
    const ref = { projectId: t.project.id, orgId: t.org.id };
    await usage(ref, "participant_minutes", 30, mar(2, 10), "b-room", "alice");
    await usage(ref, "participant_minutes", 12, mar(9, 10), "a-room", "bob");
    await usage(ref, "participant_minutes", 18, mar(9, 11), "c-room", "alice");
    await usage(ref, "participant_minutes", 18, mar(10, 11), "a-room", "carol");
    await usage(ref, "egress_minutes", 7, mar(9, 12), "a-room", null);
    await usage(ref, "egress_minutes", 4, mar(9, 12), null, null); // web egress: no room
    await usage(ref, "tokens_issued", 3, mar(9, 9), "b-room", "alice");
    await rollUpDirtyHours(db());
    // Raw events past retention: gone.
    await env.DB.prepare("DELETE FROM usage_events WHERE project_id = ?").bind(t.project.id).run();

    const byRoom = await call("GET", `/v1/usage?group_by=room&${march}`, { token: t.key.secret });
    expect(byRoom.status, byRoom.text).toBe(200);
    expect(byRoom.body.group_by).toBe("room");
    expect(byRoom.body.groups).toEqual([
      { key: "a-room", participant_minutes: 30, egress_minutes: 7, ingress_minutes: 0, tokens_issued: 0 },
      { key: "b-room", participant_minutes: 30, egress_minutes: 0, ingress_minutes: 0, tokens_issued: 3 },
      { key: "c-room", participant_minutes: 18, egress_minutes: 0, ingress_minutes: 0, tokens_issued: 0 },
    ]);
    // Totals count everything, the usage without a room too.
    expect(byRoom.body.totals).toEqual({ participant_minutes: 78, egress_minutes: 11, ingress_minutes: 0, tokens_issued: 3 });

    const byIdentity = await call("GET", `/v1/usage?group_by=identity&granularity=hour&since=2026-03-09T00:00:00Z&until=2026-03-10T00:00:00Z`, { token: t.key.secret });
    expect(byIdentity.body.groups.map((g: any) => [g.key, g.participant_minutes, g.tokens_issued])).toEqual([
      ["alice", 18, 3],
      ["bob", 12, 0],
    ]);

    // The org's view sums its projects per room.
    const second = await createProject(t.user, t.org.id, "Second");
    await usage({ projectId: second.id, orgId: t.org.id }, "participant_minutes", 5, mar(3), "c-room", "dan");
    await rollUpDirtyHours(db());
    const org = await call("GET", `/v1/orgs/${t.org.id}/usage?group_by=room&${march}`, { token: t.user.token });
    expect(org.body.groups.map((g: any) => [g.key, g.participant_minutes])).toEqual([["a-room", 30], ["b-room", 30], ["c-room", 23]]);
    expectEnvelope(await call("GET", "/v1/usage?group_by=track", { token: t.key.secret }), 400, "validation_failed");
    expect((await call("GET", `/v1/usage?${march}`, { token: t.key.secret })).body.groups).toBeUndefined();
  });

  it("groups tokens minted through the API by the room and identity they were minted for", async () => {
    const t = await createTenant();
    for (const [identity, room] of [["alice", "x"], ["alice", "y"], ["bob", "x"]]) {
      expect((await call("POST", "/v1/tokens", { token: t.key.secret, body: { identity, room } })).status).toBe(201);
    }
    const deadline = Date.now() + 10_000;
    let groups: any[] = [];
    while (Date.now() < deadline) {
      groups = (await call("GET", "/v1/usage?group_by=room", { token: t.key.secret })).body.groups;
      if (groups.reduce((s, g) => s + g.tokens_issued, 0) >= 3) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(groups.map((g) => [g.key, g.tokens_issued])).toEqual([["x", 2], ["y", 1]]);
    const ids = (await call("GET", "/v1/usage?group_by=identity", { token: t.key.secret })).body.groups;
    expect(ids.map((g: any) => [g.key, g.tokens_issued])).toEqual([["alice", 2], ["bob", 1]]);
  });
});
