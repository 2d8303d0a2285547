import { describe, expect, it } from "vitest";
import { call } from "../support/api";

describe("the OpenAPI document", () => {
  it("is generated from the route schemas and lists the contract's paths", async () => {
    const res = await call("GET", "/v1/openapi.json");
    expect(res.status).toBe(200);
    expect(res.body.openapi).toBe("3.1.0");
    const paths = Object.keys(res.body.paths);
    for (const p of [
      "/v1/auth/signup",
      "/v1/auth/login",
      "/v1/auth/logout",
      "/v1/me",
      "/v1/orgs",
      "/v1/orgs/{org_id}",
      "/v1/orgs/{org_id}/projects",
      "/v1/projects/{project_id}",
      "/v1/projects/{project_id}/keys",
      "/v1/projects/{project_id}/keys/{key_id}",
      "/v1/projects/{project_id}/keys/{key_id}/roll",
      "/v1/orgs/{org_id}/audit-logs",
      "/v1/orgs/{org_id}/audit-logs/export",
      "/v1/orgs/{org_id}/audit-logs/{id}",
      "/health",
      "/v1/status",
    ]) {
      expect(paths).toContain(p);
    }
    // Strict bodies are documented as such.
    const signup = res.body.components.schemas.SignupRequest;
    expect(signup.additionalProperties).toBe(false);
    expect(signup.required).toEqual(expect.arrayContaining(["email", "password", "name"]));
  });
});
