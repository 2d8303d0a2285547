import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createDb } from "../../src/db/client";
import { setClock } from "../../src/lib/clock";
import type { Meter } from "../../src/usage/meters";
import { usageEventInsert } from "../../src/usage/record";
import { call, expectEnvelope } from "../support/api";
import { createApiKey, createTenant } from "../support/factories";

async function record(projectId: string, orgId: string, meter: Meter, quantity: number, occurredAt: number) {
  await usageEventInsert(createDb(env.DB), { projectId, orgId, meter, quantity, occurredAt, sourceId: crypto.randomUUID() });
}

describe("usage API", () => {
  it("shows this hour's usage before any rollup ran, defaulting to the current month by day", async () => {
    const now = Date.UTC(2026, 10, 28, 15, 30);
    setClock(() => now);
    const { user, org, project, key } = await createTenant();
    await record(project.id, org.id, "egress_minutes", 7, now - 60_000);
    await record(project.id, org.id, "participant_minutes", 4, now - 120_000);
    const res = await call("GET", "/v1/usage", { token: key.secret });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ since: "2026-11-01T00:00:00Z", until: "2026-12-01T00:00:00Z", granularity: "day" });
    expect(res.body.series).toHaveLength(30);
    expect(res.body.series[27]).toEqual({ start: "2026-11-28T00:00:00Z", participant_minutes: 4, egress_minutes: 7, ingress_minutes: 0, tokens_issued: 0 });
    expect(res.body.totals).toEqual({ participant_minutes: 4, egress_minutes: 7, ingress_minutes: 0, tokens_issued: 0 });

    const viaProject = await call("GET", `/v1/projects/${project.id}/usage`, { token: user.token });
    expect(viaProject.body).toEqual(res.body);
  });

  it("sums an organization's projects and keeps other organizations out", async () => {
    const now = Date.UTC(2026, 10, 28, 15, 30);
    setClock(() => now);
    const a = await createTenant();
    const second = await call("POST", `/v1/orgs/${a.org.id}/projects`, { token: a.user.token, body: { name: "Second" } });
    const b = await createTenant();
    await record(a.project.id, a.org.id, "tokens_issued", 5, now - 1000);
    await record(second.body.id, a.org.id, "tokens_issued", 6, now - 1000);
    await record(b.project.id, b.org.id, "tokens_issued", 100, now - 1000);
    const res = await call("GET", `/v1/orgs/${a.org.id}/usage?granularity=hour&since=2026-11-28T15:00:00Z&until=2026-11-28T16:00:00Z`, { token: a.user.token });
    expect(res.status).toBe(200);
    expect(res.body.totals.tokens_issued).toBe(11);
    expect(res.body.series).toEqual([{ start: "2026-11-28T15:00:00Z", participant_minutes: 0, egress_minutes: 0, ingress_minutes: 0, tokens_issued: 11 }]);
    expectEnvelope(await call("GET", `/v1/orgs/${a.org.id}/usage`, { token: b.user.token }), 404, "not_found");
    expectEnvelope(await call("GET", `/v1/projects/${a.project.id}/usage`, { token: b.user.token }), 404, "not_found");
    expectEnvelope(await call("GET", `/v1/orgs/${a.org.id}/usage`), 401, "unauthenticated");
    expectEnvelope(await call("GET", `/v1/projects/${a.project.id}/usage`, { token: a.key.secret }), 401, "unauthenticated");
  });

  it("rejects bad ranges and granularities, and keys without usage:read", async () => {
    const { user, project, key } = await createTenant();
    for (const q of ["granularity=week", "since=yesterday", "since=2026-11-02T00:00:00Z&until=2026-11-01T00:00:00Z", "granularity=hour&since=2026-01-01T00:00:00Z&until=2026-03-01T00:00:00Z"]) {
      expectEnvelope(await call("GET", `/v1/usage?${q}`, { token: key.secret }), 400, "validation_failed");
    }
    const narrow = await createApiKey(user, project.id, { scopes: ["tokens:write"] });
    expectEnvelope(await call("GET", "/v1/usage", { token: narrow.secret }), 403, "forbidden");
    expectEnvelope(await call("GET", "/v1/usage"), 401, "unauthenticated");
  });

  it("rounds a range to whole buckets", async () => {
    const { key } = await createTenant();
    const res = await call("GET", "/v1/usage?granularity=hour&since=2026-11-28T10:15:00Z&until=2026-11-28T12:01:00Z", { token: key.secret });
    expect(res.body).toMatchObject({ since: "2026-11-28T10:00:00Z", until: "2026-11-28T13:00:00Z" });
    expect(res.body.series.map((s: any) => s.start)).toEqual(["2026-11-28T10:00:00Z", "2026-11-28T11:00:00Z", "2026-11-28T12:00:00Z"]);
  });

  it("keeps every time it answers within what RFC 3339 can write, refusing ranges whose buckets would leave it", async () => {
    const { key } = await createTenant();
    // The first instants RFC 3339 writes are fine, rounded as usual.
    const first = await call("GET", "/v1/usage?granularity=hour&since=0000-01-01T00:30:00Z&until=0000-01-01T01:00:00Z", { token: key.secret });
    expect(first.status, first.text).toBe(200);
    expect(first.body).toMatchObject({ since: "0000-01-01T00:00:00Z", until: "0000-01-01T01:00:00Z" });
    const last = await call("GET", "/v1/usage?granularity=hour&since=9999-12-31T21:10:00Z&until=9999-12-31T23:00:00Z", { token: key.secret });
    expect(last.status, last.text).toBe(200);
    expect(last.body.series.map((s: any) => s.start)).toEqual(["9999-12-31T21:00:00Z", "9999-12-31T22:00:00Z"]);
    // 0000-01-01 at +01:00 is the year -1 in UTC.
    const before = expectEnvelope(await call("GET", "/v1/usage?since=0000-01-01T00:00:00%2B01:00&until=0000-01-02T00:00:00Z", { token: key.secret }), 400, "validation_failed");
    expect(before.details).toEqual([{ path: "query.since", message: "must not be before the year 0000 (UTC)" }]);
    // The last day of 9999, rounded up, ends at the first instant of 10000.
    for (const q of ["granularity=day&since=9999-12-30T00:00:00Z&until=9999-12-31T12:00:00Z", "granularity=hour&since=9999-12-31T22:00:00Z&until=9999-12-31T23:00:01Z"]) {
      const after = expectEnvelope(await call("GET", `/v1/usage?${q}`, { token: key.secret }), 400, "validation_failed");
      expect(after.details, q).toEqual([{ path: "until", message: "The last bucket must end before the year 10000 (UTC)" }]);
    }
  });
});
