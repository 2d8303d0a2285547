import { describe, expect, it } from "vitest";
import { call, expectEnvelope } from "../support/api";
import { createOrg, createUser } from "../support/factories";
import { joinOrg } from "../support/team";
import { rows } from "../support/db";

describe("GET /v1/plans", () => {
  it("lists the active plans without authentication, cheapest first, with quotas and overage rates in micros", async () => {
    const res = await call("GET", "/v1/plans");
    expect(res.status).toBe(200);
    expect(res.body.next_cursor).toBeNull();
    const ids = res.body.data.map((p: { id: string }) => p.id);
    expect(ids.slice(0, 1)).toEqual(["free"]);
    expect(ids).toEqual(expect.arrayContaining(["free", "pro", "scale"]));
    const pro = res.body.data.find((p: { id: string }) => p.id === "pro");
    expect(pro).toEqual({
      id: "pro",
      name: "Pro",
      currency: "usd",
      monthly_price_cents: 5000,
      hard_cap: false,
      active: true,
      included: { participant_minutes: 50000, egress_minutes: 1000, ingress_minutes: 1000, tokens_issued: 1000000 },
      overage_rates_micros: { participant_minutes: 500, egress_minutes: 4000, ingress_minutes: 4000 },
      max_concurrent_egress: null,
    });
    expect(res.body.data.find((p: { id: string }) => p.id === "free")).toMatchObject({ hard_cap: true, monthly_price_cents: 0, overage_rates_micros: {} });
  });
});

describe("PUT /v1/orgs/{org_id}/plan", () => {
  it("lets the owner switch plans and audits the change with from and to", async () => {
    const owner = await createUser();
    const org = await createOrg(owner);
    const res = await call("PUT", `/v1/orgs/${org.id}/plan`, { token: owner.token, body: { plan: "pro" } });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: org.id, plan: "pro", role: "owner" });
    expect((await call("GET", `/v1/orgs/${org.id}`, { token: owner.token })).body.plan).toBe("pro");

    const audit = await call("GET", `/v1/orgs/${org.id}/audit-logs?action=org.plan_changed`, { token: owner.token });
    expect(audit.status).toBe(200);
    expect(audit.body.data).toHaveLength(1);
    expect(audit.body.data[0]).toMatchObject({ action: "org.plan_changed", actor_id: owner.id, resource_id: org.id, metadata: { from: "free", to: "pro" } });

    // Back down again: a second entry, and the billing view follows.
    expect((await call("PUT", `/v1/orgs/${org.id}/plan`, { token: owner.token, body: { plan: "free" } })).body.plan).toBe("free");
    const both = await rows<{ metadata: string }>("SELECT metadata FROM audit_logs WHERE org_id = ? AND action = 'org.plan_changed' ORDER BY created_at, id", org.id);
    expect(both.map((r) => JSON.parse(r.metadata))).toEqual([{ from: "free", to: "pro" }, { from: "pro", to: "free" }]);
  });

  it("changes nothing and writes no audit entry when the org is already on that plan", async () => {
    const owner = await createUser();
    const org = await createOrg(owner);
    const res = await call("PUT", `/v1/orgs/${org.id}/plan`, { token: owner.token, body: { plan: "free" } });
    expect(res.status).toBe(200);
    expect(res.body.plan).toBe("free");
    expect(await rows("SELECT id FROM audit_logs WHERE org_id = ? AND action = 'org.plan_changed'", org.id)).toEqual([]);
  });

  it("refuses admins, members and viewers with 403 and leaves the plan alone", async () => {
    const owner = await createUser();
    const org = await createOrg(owner);
    for (const role of ["admin", "member", "viewer"] as const) {
      const user = await joinOrg(owner, org.id, role);
      expectEnvelope(await call("PUT", `/v1/orgs/${org.id}/plan`, { token: user.token, body: { plan: "pro" } }), 403, "forbidden");
    }
    expect((await call("GET", `/v1/orgs/${org.id}`, { token: owner.token })).body.plan).toBe("free");
    expect(await rows("SELECT id FROM audit_logs WHERE org_id = ? AND action = 'org.plan_changed'", org.id)).toEqual([]);
  });

  it("answers 404 to an owner of another org, as if the org did not exist", async () => {
    const owner = await createUser();
    const org = await createOrg(owner);
    const stranger = await createUser();
    await createOrg(stranger);
    expectEnvelope(await call("PUT", `/v1/orgs/${org.id}/plan`, { token: stranger.token, body: { plan: "pro" } }), 404, "not_found");
    expectEnvelope(await call("GET", `/v1/orgs/${org.id}/billing`, { token: stranger.token }), 404, "not_found");
    expect((await call("GET", `/v1/orgs/${org.id}`, { token: owner.token })).body.plan).toBe("free");
  });

  it("rejects unknown plans, unknown fields and a missing plan with 400 validation_failed", async () => {
    const owner = await createUser();
    const org = await createOrg(owner);
    const unknown = expectEnvelope(await call("PUT", `/v1/orgs/${org.id}/plan`, { token: owner.token, body: { plan: "platinum" } }), 400, "validation_failed");
    expect(unknown.details).toEqual([{ path: "plan", message: "Unknown or inactive plan" }]);
    expectEnvelope(await call("PUT", `/v1/orgs/${org.id}/plan`, { token: owner.token, body: { plan: "pro", seats: 3 } }), 400, "validation_failed");
    expectEnvelope(await call("PUT", `/v1/orgs/${org.id}/plan`, { token: owner.token, body: {} }), 400, "validation_failed");
    expectEnvelope(await call("PUT", `/v1/orgs/${org.id}/plan`, { body: { plan: "pro" } }), 401, "unauthenticated");
    expect((await call("GET", `/v1/orgs/${org.id}`, { token: owner.token })).body.plan).toBe("free");
  });
});
