/**
 * The authentication table (`src/auth/table.ts`) is the one place that says which credential a
 * path takes. These tests hold it to the OpenAPI document: every route is covered by exactly one
 * rule, and every protected route refuses a request without credentials before anything else.
 */
import { describe, expect, it } from "vitest";
import { AUTH_RULES, authRuleFor } from "../../src/auth/table";
import { call, expectEnvelope } from "../support/api";

async function documentedOperations(): Promise<{ method: string; template: string; path: string }[]> {
  const doc = (await call("GET", "/v1/openapi.json")).body as { paths: Record<string, Record<string, unknown>> };
  return Object.entries(doc.paths).flatMap(([template, operations]) =>
    Object.keys(operations).map((method) => ({ method: method.toUpperCase(), template, path: template.replace(/\{[^}]+\}/g, "x_1") })),
  );
}

describe("the authentication table", () => {
  it("covers every documented route with exactly one rule", async () => {
    const operations = await documentedOperations();
    expect(operations.length).toBeGreaterThan(50);
    const uncovered = operations.filter((op) => AUTH_RULES.filter((rule) => authRuleFor(op.path) === rule).length !== 1);
    expect(uncovered).toEqual([]);
    // No two rules overlap: each rule's own path is covered by that rule and no other.
    for (const rule of AUTH_RULES) {
      const sample = rule.path.replace(/\/\*$/, "/x_1");
      expect(AUTH_RULES.filter((r) => r !== rule && authRuleFor(sample) === r)).toEqual([]);
      expect(authRuleFor(sample)).toBe(rule);
    }
  });

  it("answers 401 to a request without credentials on every protected route, before validating anything", async () => {
    const operations = await documentedOperations();
    const protectedOps = operations.filter((op) => {
      const rule = authRuleFor(op.path)!;
      return rule.credential !== "none" && rule.credential !== "livekit_signature";
    });
    expect(protectedOps.length).toBeGreaterThan(40);
    for (const op of protectedOps) {
      // A body that would fail validation: authentication must refuse first.
      const res = await call(op.method, op.path, { body: op.method === "GET" || op.method === "DELETE" ? undefined : { unexpected: true } });
      expect(res.status, `${op.method} ${op.template}`).toBe(401);
      expectEnvelope(res, 401, "unauthenticated");
    }
  });

  it("refuses a session on API-key routes and an API key on session routes", async () => {
    const wrongKind = [
      { method: "POST", path: "/v1/tokens", token: "sess_not_a_key" },
      { method: "GET", path: "/v1/egress", token: "sess_not_a_key" },
      { method: "GET", path: "/v1/orgs", token: "pulse_live_not_a_session" },
      { method: "GET", path: "/v1/projects/proj_1/keys", token: "pulse_live_not_a_session" },
      { method: "GET", path: "/metrics", token: "pulse_live_not_the_admin" },
    ];
    for (const { method, path, token } of wrongKind) {
      expectEnvelope(await call(method, path, { token }), 401, "unauthenticated");
    }
  });

  it("authenticates protected prefixes before routing: an unknown path under them is 401, a public unknown path 404", async () => {
    expectEnvelope(await call("GET", "/v1/orgs/org_1/no-such-thing"), 401, "unauthenticated");
    expectEnvelope(await call("GET", "/v1/egress/eg_1/no-such-thing"), 401, "unauthenticated");
    expectEnvelope(await call("GET", "/v1/admin/no-such-thing"), 401, "unauthenticated");
    expectEnvelope(await call("GET", "/v1/no-such-thing"), 404, "not_found");
  });
});
