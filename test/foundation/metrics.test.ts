import { describe, expect, it } from "vitest";
import { call, expectEnvelope } from "../support/api";
import { createTenant } from "../support/factories";

const ADMIN = "pulse-dev-admin-token"; // wrangler.toml [vars] development value

describe("GET /metrics", () => {
  it("serves Prometheus gauges to the platform admin", async () => {
    await createTenant();
    const res = await call("GET", "/metrics", { token: ADMIN });
    expect(res.status).toBe(200);
    expect(res.headers.get("Content-Type")).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(res.text).toContain("# TYPE pulse_organizations gauge");
    const orgs = Number(/^pulse_organizations (\d+)$/m.exec(res.text)?.[1]);
    expect(orgs).toBeGreaterThanOrEqual(1);
    expect(res.text).toMatch(/^pulse_api_keys_active \d+$/m);
  });

  it("refuses anyone without the admin token, including tenants", async () => {
    const { user, key } = await createTenant();
    expectEnvelope(await call("GET", "/metrics"), 401, "unauthenticated");
    expectEnvelope(await call("GET", "/metrics", { token: user.token }), 401, "unauthenticated");
    expectEnvelope(await call("GET", "/metrics", { token: key.secret }), 401, "unauthenticated");
    expectEnvelope(await call("GET", "/metrics", { token: ADMIN + "x" }), 401, "unauthenticated");
  });
});
