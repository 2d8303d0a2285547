import { describe, expect, it } from "vitest";
import { call } from "../support/api";

describe("the OpenAPI document", () => {
  it("describes the billing and plan admin routes, with strict request bodies", async () => {
    const res = await call("GET", "/v1/openapi.json");
    expect(res.status).toBe(200);
    expect(Object.keys(res.body.paths)).toEqual(
      expect.arrayContaining([
        "/v1/plans",
        "/v1/orgs/{org_id}/plan",
        "/v1/orgs/{org_id}/billing",
        "/v1/orgs/{org_id}/invoices",
        "/v1/orgs/{org_id}/invoices/{in_id}",
        "/v1/admin/plans",
        "/v1/admin/plans/{plan_id}",
      ]),
    );
    expect(Object.keys(res.body.paths["/v1/orgs/{org_id}/plan"])).toEqual(["put"]);
    const schemas = res.body.components.schemas;
    expect(schemas.ChangePlan.additionalProperties).toBe(false);
    expect(schemas.CreatePlan.additionalProperties).toBe(false);
    expect(schemas.Billing.required).toEqual(expect.arrayContaining(["period_start", "period_end", "meters", "total_cents"]));
  });
});
