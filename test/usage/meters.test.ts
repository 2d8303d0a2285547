import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createDb } from "../../src/db/client";
import { setClock } from "../../src/lib/clock";
import { METERS, type Meter } from "../../src/usage/meters";
import { usageEventInsert } from "../../src/usage/record";
import { call } from "../support/api";
import { createTenant } from "../support/factories";

type JsonSchema = { properties?: Record<string, JsonSchema>; items?: JsonSchema; required?: string[] };

/** The schema at `path` (property names; `[]` steps into array items) under a named component. */
function at(components: Record<string, JsonSchema>, name: string, ...path: string[]): JsonSchema {
  let schema = components[name];
  for (const step of path) schema = step === "[]" ? schema?.items : schema?.properties?.[step];
  if (!schema) throw new Error(`no schema at ${name}.${path.join(".")}`);
  return schema;
}

describe("the meter list", () => {
  it("is what the usage and billing OpenAPI schemas list, exactly and in order", async () => {
    const res = await call("GET", "/v1/openapi.json");
    expect(res.status).toBe(200);
    const components = res.body.components.schemas as Record<string, JsonSchema>;
    const meters = Object.keys(METERS);
    const perMeter: [string, string[], { required: boolean }][] = [
      ["Usage", ["totals"], { required: true }],
      ["Billing", ["meters"], { required: true }],
      ["Plan", ["included"], { required: true }],
      ["Plan", ["overage_rates_micros"], { required: false }],
      ["CreatePlan", ["included"], { required: true }],
      ["CreatePlan", ["overage_rates_micros"], { required: false }],
      ["UpdatePlan", ["included"], { required: true }],
      ["UpdatePlan", ["overage_rates_micros"], { required: false }],
    ];
    for (const [name, path, { required }] of perMeter) {
      const schema = at(components, name, ...path);
      expect(Object.keys(schema.properties ?? {}), `${name}.${path.join(".")}`).toEqual(meters);
      expect(schema.required ?? [], `${name}.${path.join(".")} required`).toEqual(required ? meters : []);
    }
    // A usage bucket is its start plus one number per meter.
    expect(Object.keys(at(components, "Usage", "series", "[]").properties ?? {})).toEqual(["start", ...meters]);
  });

  it("counts each meter's usage under its own name in the usage API and in billing", async () => {
    const now = Date.UTC(2026, 10, 28, 15, 30);
    setClock(() => now);
    const { user, org, project, key } = await createTenant();
    const meters = Object.keys(METERS) as Meter[];
    const db = createDb(env.DB);
    // A different quantity per meter, so a meter counted under another's name shows.
    const quantity = (m: Meter) => 10 + meters.indexOf(m);
    for (const meter of meters) {
      await usageEventInsert(db, { projectId: project.id, orgId: org.id, meter, quantity: quantity(meter), occurredAt: now - 60_000, sourceId: crypto.randomUUID() });
    }
    const expected = Object.fromEntries(meters.map((m) => [m, quantity(m)]));

    const usage = await call("GET", "/v1/usage", { token: key.secret });
    expect(usage.status).toBe(200);
    expect(usage.body.totals).toEqual(expected);

    const billing = await call("GET", `/v1/orgs/${org.id}/billing`, { token: user.token });
    expect(billing.status).toBe(200);
    expect(Object.fromEntries(Object.entries(billing.body.meters).map(([m, charge]) => [m, (charge as { used: number }).used]))).toEqual(expected);
  });
});
