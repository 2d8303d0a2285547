import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { setClock } from "../../src/lib/clock";
import { call, expectEnvelope } from "../support/api";
import { createOrg, createUser } from "../support/factories";
import { rows } from "../support/db";

const ADMIN = env.PULSE_ADMIN_TOKEN!;
const uniqueId = () => `team-${Math.random().toString(36).slice(2, 10)}`;
const planBody = (id: string) => ({
  id,
  name: "Team <beta> ✨",
  monthly_price_cents: 2_500,
  included: { participant_minutes: 20_000, egress_minutes: 500, ingress_minutes: 500, tokens_issued: 500_000 },
  overage_rates_micros: { participant_minutes: 450, tokens_issued: 2 },
});

describe("platform admin plan management", () => {
  it("needs the platform admin token on every verb; a user session or a wrong token gets 401", async () => {
    const user = await createUser();
    for (const [method, path, body] of [
      ["GET", "/v1/admin/plans", undefined],
      ["POST", "/v1/admin/plans", planBody(uniqueId())],
      ["PATCH", "/v1/admin/plans/pro", { active: false }],
    ] as const) {
      expectEnvelope(await call(method, path, { body }), 401, "unauthenticated");
      expectEnvelope(await call(method, path, { body, token: user.token }), 401, "unauthenticated");
      expectEnvelope(await call(method, path, { body, token: `${ADMIN}x` }), 401, "unauthenticated");
    }
    expect((await call("GET", "/v1/plans")).body.data.find((p: any) => p.id === "pro").active).toBe(true);
  });

  it("creates a plan (text byte for byte, audited without an org), lists it, and rejects duplicates and unknown fields", async () => {
    const id = uniqueId();
    const created = await call("POST", "/v1/admin/plans", { token: ADMIN, body: planBody(id) });
    expect(created.status, created.text).toBe(201);
    expect(created.body).toEqual({
      id,
      name: "Team <beta> ✨",
      currency: "usd",
      monthly_price_cents: 2_500,
      hard_cap: false,
      active: true,
      included: { participant_minutes: 20_000, egress_minutes: 500, ingress_minutes: 500, tokens_issued: 500_000 },
      overage_rates_micros: { participant_minutes: 450, tokens_issued: 2 },
      max_concurrent_egress: null,
    });
    expect((await call("GET", "/v1/plans")).body.data).toContainEqual(created.body);
    expect((await call("GET", "/v1/admin/plans", { token: ADMIN })).body.data).toContainEqual(created.body);
    const audit = await rows("SELECT org_id, actor_type, actor_id, action FROM audit_logs WHERE resource_type = 'plan' AND resource_id = ?", id);
    expect(audit).toEqual([{ org_id: null, actor_type: "system", actor_id: "platform_admin", action: "plan.created" }]);

    expectEnvelope(await call("POST", "/v1/admin/plans", { token: ADMIN, body: planBody(id) }), 409, "conflict");
    expectEnvelope(await call("POST", "/v1/admin/plans", { token: ADMIN, body: { ...planBody(uniqueId()), seats: 5 } }), 400, "validation_failed");
    const { tokens_issued: _, ...partial } = planBody("x").included;
    expectEnvelope(await call("POST", "/v1/admin/plans", { token: ADMIN, body: { ...planBody(uniqueId()), included: partial } }), 400, "validation_failed");
    expectEnvelope(await call("POST", "/v1/admin/plans", { token: ADMIN, body: { ...planBody(uniqueId()), monthly_price_cents: 9.5 } }), 400, "validation_failed");
    expectEnvelope(await call("POST", "/v1/admin/plans", { token: ADMIN, body: { ...planBody("Bad Id!"), } }), 400, "validation_failed");
    expectEnvelope(await call("POST", "/v1/admin/plans", { token: ADMIN, body: { ...planBody(uniqueId()), overage_rates_micros: { bandwidth_gb: 1 } } }), 400, "validation_failed");
  });

  it("sets, changes and clears a plan's concurrent egress cap, refusing a negative or fractional one", async () => {
    const id = uniqueId();
    const created = await call("POST", "/v1/admin/plans", { token: ADMIN, body: { ...planBody(id), max_concurrent_egress: 3 } });
    expect(created.status, created.text).toBe(201);
    expect(created.body.max_concurrent_egress).toBe(3);
    expect((await call("GET", "/v1/plans")).body.data.find((p: any) => p.id === id).max_concurrent_egress).toBe(3);
    expect((await call("PATCH", `/v1/admin/plans/${id}`, { token: ADMIN, body: { max_concurrent_egress: 10 } })).body.max_concurrent_egress).toBe(10);
    expect((await call("PATCH", `/v1/admin/plans/${id}`, { token: ADMIN, body: { name: "Renamed" } })).body.max_concurrent_egress).toBe(10);
    expect((await call("PATCH", `/v1/admin/plans/${id}`, { token: ADMIN, body: { max_concurrent_egress: null } })).body.max_concurrent_egress).toBeNull();
    expectEnvelope(await call("PATCH", `/v1/admin/plans/${id}`, { token: ADMIN, body: { max_concurrent_egress: -1 } }), 400, "validation_failed");
    expectEnvelope(await call("PATCH", `/v1/admin/plans/${id}`, { token: ADMIN, body: { max_concurrent_egress: 1.5 } }), 400, "validation_failed");
    expect((await call("GET", "/v1/admin/plans", { token: ADMIN })).body.data.find((p: any) => p.id === id).max_concurrent_egress).toBeNull();
  });

  it("re-prices and deactivates a plan: gone from the public list and refused for switching, orgs already on it stay", async () => {
    // On the plan from the month's first milliseconds: its fee, prorated to the rest of the month, rounds to the whole.
    let now = Date.UTC(2026, 9, 1);
    setClock(() => now++);
    const id = uniqueId();
    expect((await call("POST", "/v1/admin/plans", { token: ADMIN, body: planBody(id) })).status).toBe(201);
    const owner = await createUser();
    const onIt = await createOrg(owner);
    const other = await createOrg(owner);
    expect((await call("PUT", `/v1/orgs/${onIt.id}/plan`, { token: owner.token, body: { plan: id } })).status).toBe(200);

    const repriced = await call("PATCH", `/v1/admin/plans/${id}`, { token: ADMIN, body: { monthly_price_cents: 3_000 } });
    expect(repriced.status).toBe(200);
    expect(repriced.body).toMatchObject({ id, monthly_price_cents: 3_000, active: true });
    const off = await call("PATCH", `/v1/admin/plans/${id}`, { token: ADMIN, body: { active: false } });
    expect(off.body).toMatchObject({ id, active: false, monthly_price_cents: 3_000 });

    expect((await call("GET", "/v1/plans")).body.data.map((p: any) => p.id)).not.toContain(id);
    expect((await call("GET", "/v1/admin/plans", { token: ADMIN })).body.data.find((p: any) => p.id === id)).toMatchObject({ active: false });
    expectEnvelope(await call("PUT", `/v1/orgs/${other.id}/plan`, { token: owner.token, body: { plan: id } }), 400, "validation_failed");
    const billing = await call("GET", `/v1/orgs/${onIt.id}/billing`, { token: owner.token });
    expect(billing.body).toMatchObject({ plan: { id }, base_fee_cents: 3_000, segments: [{ plan: { id: "free" } }, { plan: { id }, base_fee_cents: 3_000 }] });

    const audit = await rows("SELECT action, metadata FROM audit_logs WHERE resource_type = 'plan' AND resource_id = ? ORDER BY created_at, id", id);
    expect(audit.map((r) => [r.action, JSON.parse(r.metadata)])).toEqual([
      ["plan.created", expect.objectContaining({ id })],
      ["plan.updated", { monthly_price_cents: 3_000 }],
      ["plan.updated", { active: false }],
    ]);
  });

  it("answers 404 for an unknown plan and writes nothing; refuses an empty change and deactivating free", async () => {
    expectEnvelope(await call("PATCH", "/v1/admin/plans/nosuchplan", { token: ADMIN, body: { name: "x" } }), 404, "not_found");
    expect(await rows("SELECT id FROM audit_logs WHERE resource_type = 'plan' AND resource_id = 'nosuchplan'")).toEqual([]);
    expectEnvelope(await call("PATCH", "/v1/admin/plans/pro", { token: ADMIN, body: {} }), 400, "validation_failed");
    expectEnvelope(await call("PATCH", "/v1/admin/plans/pro", { token: ADMIN, body: { currency: "eur" } }), 400, "validation_failed");
    expectEnvelope(await call("PATCH", "/v1/admin/plans/free", { token: ADMIN, body: { active: false } }), 409, "conflict");
    expect((await call("GET", "/v1/plans")).body.data.map((p: any) => p.id)).toContain("free");
  });
});
