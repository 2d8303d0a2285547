import { describe, expect, it } from "vitest";
import { call } from "./support/api";
import { createTenant } from "./support/factories";

describe("smoke", () => {
  it("serves /health and builds a tenant", async () => {
    const health = await call("GET", "/health");
    expect(health.status).toBe(200);
    const t = await createTenant();
    expect(t.key.secret.startsWith("pulse_")).toBe(true);
  });
});
