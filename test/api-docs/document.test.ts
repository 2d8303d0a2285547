/**
 * The OpenAPI document against what the Worker really serves: every route the app's router
 * answers under the API's paths is documented with its request, response and error schemas;
 * security follows the authentication table; every contract endpoint is there.
 */
import { describe, expect, it } from "vitest";
import { createApp } from "../../src/app";
import { authRuleFor } from "../../src/auth/table";
import { ERROR_STATUS } from "../../src/lib/errors";
import { call, expectEnvelope } from "../support/api";
import { createApiKey, createOrg, createProject, createUser } from "../support/factories";

type Doc = {
  servers: { url: string }[];
  tags: { name: string }[];
  paths: Record<string, Record<string, any>>;
  components: { schemas: Record<string, any>; securitySchemes: Record<string, any>; headers: Record<string, any> };
};

async function documentOf(): Promise<Doc> {
  const res = await call("GET", "/v1/openapi.json");
  expect(res.status).toBe(200);
  return res.body as Doc;
}

function operations(doc: Doc) {
  return Object.entries(doc.paths).flatMap(([path, item]) => Object.entries(item).map(([method, op]) => ({ method, path, op })));
}

/** The routes the app's router serves under the API's paths, as `METHOD /template`. */
function servedRoutes(): string[] {
  const app = createApp();
  const api = (path: string) => path.startsWith("/v1/") || path === "/health" || path === "/metrics";
  return [
    ...new Set(
      app.routes
        .filter((r) => r.method !== "ALL" && api(r.path) && r.path !== "/v1/openapi.json")
        .map((r) => `${r.method.toLowerCase()} ${r.path.replace(/:([A-Za-z_]+)/g, "{$1}")}`),
    ),
  ].sort();
}

describe("the OpenAPI document", () => {
  it("documents every route the router serves, and nothing it does not serve", async () => {
    const doc = await documentOf();
    const served = servedRoutes();
    expect(served.length).toBeGreaterThan(90);
    const documented = operations(doc).map(({ method, path }) => `${method} ${path}`).sort();
    expect(documented).toEqual(served);
  });

  it("holds every endpoint of the contract", async () => {
    const doc = await documentOf();
    const contract = [
      "post /v1/auth/signup", "post /v1/auth/login", "post /v1/auth/logout", "get /v1/me",
      "post /v1/auth/verify-email", "post /v1/auth/verify-email/resend", "post /v1/auth/password/forgot", "post /v1/auth/password/reset",
      "post /v1/me/password", "get /v1/me/sessions", "delete /v1/me/sessions/{sess_id}", "post /v1/me/sessions/revoke-all",
      "post /v1/orgs", "get /v1/orgs", "get /v1/orgs/{org_id}", "patch /v1/orgs/{org_id}", "delete /v1/orgs/{org_id}",
      "post /v1/orgs/{org_id}/projects", "get /v1/orgs/{org_id}/projects",
      "get /v1/projects/{project_id}", "patch /v1/projects/{project_id}", "delete /v1/projects/{project_id}",
      "post /v1/projects/{project_id}/keys", "get /v1/projects/{project_id}/keys", "delete /v1/projects/{project_id}/keys/{key_id}",
      "post /v1/projects/{project_id}/keys/{key_id}/roll",
      "get /v1/orgs/{org_id}/members", "patch /v1/orgs/{org_id}/members/{user_id}", "delete /v1/orgs/{org_id}/members/{user_id}",
      "post /v1/orgs/{org_id}/invitations", "get /v1/orgs/{org_id}/invitations", "delete /v1/orgs/{org_id}/invitations/{inv_id}",
      "post /v1/invitations/accept", "get /v1/orgs/{org_id}/audit-logs", "get /v1/orgs/{org_id}/audit-logs/{id}", "get /v1/orgs/{org_id}/audit-logs/export",
      "post /v1/projects/{project_id}/webhooks", "get /v1/projects/{project_id}/webhooks",
      "get /v1/projects/{project_id}/webhooks/{whk_id}", "patch /v1/projects/{project_id}/webhooks/{whk_id}", "delete /v1/projects/{project_id}/webhooks/{whk_id}",
      "post /v1/projects/{project_id}/webhooks/{whk_id}/test", "get /v1/projects/{project_id}/webhooks/{whk_id}/deliveries",
      "post /v1/projects/{project_id}/webhooks/{whk_id}/deliveries/{msg_id}/retry",
      "post /v1/tokens", "post /v1/tokens/verify", "post /v1/egress", "get /v1/egress", "get /v1/egress/{eg_id}", "post /v1/egress/{eg_id}/stop",
      "post /v1/egress/{eg_id}/layout", "post /v1/egress/{eg_id}/streams",
      "post /v1/ingress", "get /v1/ingress", "get /v1/ingress/{ing_id}", "patch /v1/ingress/{ing_id}", "delete /v1/ingress/{ing_id}",
      "get /v1/usage", "get /v1/projects/{project_id}/usage", "get /v1/orgs/{org_id}/usage", "get /v1/orgs/{org_id}/billing",
      "get /v1/orgs/{org_id}/invoices", "get /v1/orgs/{org_id}/invoices/{in_id}", "get /v1/plans", "put /v1/orgs/{org_id}/plan",
      "get /health", "get /v1/status", "post /v1/livekit/webhook", "get /metrics",
      "post /v1/rooms", "get /v1/rooms", "get /v1/rooms/{room}", "patch /v1/rooms/{room}", "delete /v1/rooms/{room}",
      "get /v1/rooms/{room}/participants", "get /v1/rooms/{room}/participants/{identity}", "patch /v1/rooms/{room}/participants/{identity}",
      "delete /v1/rooms/{room}/participants/{identity}", "post /v1/rooms/{room}/participants/{identity}/mute", "post /v1/rooms/{room}/data",
      "get /v1/sessions", "get /v1/sessions/{rs_id}",
      "post /v1/projects/{project_id}/livekit-keys", "get /v1/projects/{project_id}/livekit-keys", "delete /v1/projects/{project_id}/livekit-keys/{lkk_id}",
    ];
    const documented = new Set(operations(doc).map(({ method, path }) => `${method} ${path}`));
    expect(contract.filter((endpoint) => !documented.has(endpoint))).toEqual([]);
  });

  it("gives every operation a unique operationId, a tag, a success schema and the error envelope for every error status", async () => {
    const doc = await documentOf();
    const ids = operations(doc).map(({ op }) => op.operationId);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.every((id) => /^[a-z][A-Za-z0-9]+$/.test(id))).toBe(true);
    const tagNames = new Set(doc.tags.map((t) => t.name));
    for (const { method, path, op } of operations(doc)) {
      const where = `${method} ${path}`;
      expect(op.tags, where).toHaveLength(1);
      expect(tagNames.has(op.tags[0]), where).toBe(true);
      const statuses = Object.keys(op.responses);
      expect(statuses.some((s) => s.startsWith("2")), where).toBe(true);
      expect(statuses, where).toEqual(expect.arrayContaining(["405", "500"]));
      for (const status of statuses) {
        const response = op.responses[status];
        expect(response.headers["X-Request-Id"], `${where} ${status}`).toEqual({ $ref: "#/components/headers/X-Request-Id" });
        if (Number(status) >= 400) expect(response.content["application/json"].schema, `${where} ${status}`).toEqual({ $ref: "#/components/schemas/Error" });
      }
      if (["post", "put", "patch"].includes(method)) expect(statuses, where).toEqual(expect.arrayContaining(["400", "413", "415"]));
      if (op.requestBody) {
        const schema = Object.values(op.requestBody.content as Record<string, { schema: unknown }>)[0]!.schema;
        expect(schema, where).toBeTruthy();
      }
    }
  });

  it("derives security from the authentication table: public routes say so, protected ones name their credential and 401", async () => {
    const doc = await documentOf();
    for (const { method, path, op } of operations(doc)) {
      const rule = authRuleFor(path.replace(/\{[^}]+\}/g, "x_1"));
      const where = `${method} ${path}`;
      if (!rule || rule.credential === "none") {
        expect(op.security, where).toEqual([]);
      } else {
        expect(op.security.length, where).toBeGreaterThan(0);
        for (const requirement of op.security) for (const scheme of Object.keys(requirement)) expect(doc.components.securitySchemes[scheme], where).toBeTruthy();
        expect(Object.keys(op.responses), where).toContain("401");
      }
    }
    expect(doc.paths["/v1/auth/signup"]!.post.security).toEqual([]);
    expect(doc.paths["/v1/tokens"]!.post.security).toEqual([{ apiKeyAuth: [] }, { apiKeyHeader: [] }]);
    expect(doc.paths["/v1/tokens"]!.post.description).toContain("tokens:write");
    expect(doc.paths["/v1/orgs"]!.get.security).toEqual([{ sessionAuth: [] }]);
    expect(doc.paths["/metrics"]!.get.security).toEqual([{ adminAuth: [] }]);
  });

  it("declares the rate limit headers, Retry-After on 429 and the plan, conflict and LiveKit errors routes raise", async () => {
    const doc = await documentOf();
    const mint = doc.paths["/v1/tokens"]!.post;
    expect(Object.keys(mint.responses)).toEqual(expect.arrayContaining(["201", "400", "401", "402", "403", "413", "415", "429", "500", "503"]));
    expect(Object.keys(mint.responses["201"].headers)).toEqual(expect.arrayContaining(["X-Request-Id", "RateLimit", "RateLimit-Policy"]));
    expect(mint.responses["429"].headers["Retry-After"]).toEqual({ $ref: "#/components/headers/Retry-After" });
    expect(Object.keys(doc.paths["/v1/rooms"]!.post.responses)).toEqual(expect.arrayContaining(["402", "409", "502"]));
    // Count caps (LIMIT_FREE_ORGS_PER_USER, LIMIT_PROJECTS_PER_ORG, LIMIT_KEYS_PER_PROJECT) answer 409.
    for (const path of ["/v1/orgs", "/v1/orgs/{org_id}/projects", "/v1/projects/{project_id}/keys"]) {
      expect(Object.keys(doc.paths[path]!.post.responses), path).toContain("409");
    }
    expect(doc.paths["/v1/orgs/{org_id}/plan"]!.put.summary).toContain("prorated");
    expect(Object.keys(doc.paths["/v1/status"]!.get.responses)).toEqual(expect.arrayContaining(["200", "503"]));
    expect(doc.components.headers).toMatchObject({ RateLimit: {}, "RateLimit-Policy": {}, "Retry-After": {}, "X-Request-Id": {} });
    // The envelope's code is the closed list, nothing else.
    const code = doc.components.schemas.Error.properties.error.properties.code;
    expect([...code.enum].sort()).toEqual(Object.keys(ERROR_STATUS).sort());
    expect(doc.servers).toEqual([{ url: "http://127.0.0.1:8787", description: "This deployment" }]);
  });

  it("never marks a defaulted request field required, in bodies or query parameters", async () => {
    const doc = await documentOf();
    const mint = doc.components.schemas.CreateTokenBody ?? doc.components.schemas.CreateToken;
    expect(mint.properties.ttl.default).toBe(21600);
    expect(mint.required).not.toContain("ttl");
    for (const { op } of operations(doc)) {
      for (const param of op.parameters ?? []) if (param.schema?.default !== undefined) expect(param.required).toBe(false);
    }
    for (const schema of Object.values(doc.components.schemas)) {
      for (const name of schema.required ?? []) {
        if (schema.properties?.[name]?.default !== undefined) {
          // Only response shapes may require a field that has a default (a response always carries it).
          const usedInRequest = operations(doc).some(({ op }) => JSON.stringify(op.requestBody ?? {}).includes(`"#/components/schemas/${nameOf(doc, schema)}"`));
          expect(usedInRequest, `${nameOf(doc, schema)}.${name}`).toBe(false);
        }
      }
    }
  });

  it("describes LiveKit's webhook body and signature", async () => {
    const doc = await documentOf();
    const op = doc.paths["/v1/livekit/webhook"]!.post;
    expect(op.security).toEqual([{ livekitSignature: [] }]);
    expect(doc.components.securitySchemes.livekitSignature).toMatchObject({ type: "apiKey", in: "header", name: "Authorization" });
    expect(doc.components.securitySchemes.livekitSignature.description).toContain("sha256");
    expect(op.requestBody.content["application/webhook+json"].schema).toEqual({ $ref: "#/components/schemas/LivekitWebhookEvent" });
    expect(doc.components.schemas.LivekitWebhookEvent.properties.event.enum).toContain("participant_joined");
  });
});

function nameOf(doc: Doc, schema: unknown): string {
  return Object.entries(doc.components.schemas).find(([, s]) => s === schema)?.[0] ?? "?";
}

describe("validation messages", () => {
  it("say a missing field is required, in the message and the details", async () => {
    const res = await call("POST", "/v1/auth/signup", { body: { email: "someone@example.com", password: "correct horse battery" } });
    const error = expectEnvelope(res, 400, "validation_failed");
    expect(error.message).toBe("Invalid request: name is required.");
    expect(error.details).toEqual([{ path: "name", message: "is required" }]);
    expect(res.text).not.toContain("received undefined");
  });

  it("say so for a nested missing field and keep zod's words for a wrong type", async () => {
    const user = await createUser();
    const org = await createOrg(user);
    const project = await createProject(user, org.id);
    const key = await createApiKey(user, project.id);
    const missing = expectEnvelope(await call("POST", "/v1/tokens", { token: key.secret, body: { room: "standup" } }), 400, "validation_failed");
    expect(missing.details).toEqual([{ path: "identity", message: "is required" }]);
    const wrong = expectEnvelope(await call("POST", "/v1/tokens", { token: key.secret, body: { identity: 7, room: "standup" } }), 400, "validation_failed");
    expect(wrong.details![0]!.path).toBe("identity");
    expect(wrong.details![0]!.message).not.toBe("is required");
    const empty = expectEnvelope(await call("POST", "/v1/orgs", { token: user.token, body: {} }), 400, "validation_failed");
    expect(empty.message).toBe("Invalid request: name is required.");
  });
});

describe("the API reference page", () => {
  it("renders every operation of the document at /docs under the dashboard's CSP, loading nothing from elsewhere", async () => {
    const doc = await documentOf();
    const res = await call("GET", "/docs", { headers: { Accept: "text/html" } });
    expect(res.status).toBe(200);
    expect(res.headers.get("Content-Type")).toContain("text/html");
    const csp = res.headers.get("Content-Security-Policy")!;
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("style-src 'self'");
    expect(csp).not.toContain("unsafe-inline");
    expect(res.headers.get("X-Frame-Options")).toBe("DENY");
    for (const { method, path, op } of operations(doc)) {
      expect(res.text, `${method} ${path}`).toContain(`id="${op.operationId}"`);
    }
    expect(res.text).toContain("<code>/v1/projects/{project_id}/keys/{key_id}/roll</code>");
    expect(res.text).toContain('href="/assets/app.css"');
    // Self-contained: no script at all, and every link or stylesheet is Pulse's own.
    expect(res.text).not.toMatch(/<script/i);
    expect(res.text.match(/(?:src|href)="(https?:)?\/\//g) ?? []).toEqual([]);
    // The fields of a request body are listed, with what is required and the defaults.
    const mintCard = res.text.slice(res.text.indexOf('id="createToken"'), res.text.indexOf("</section>", res.text.indexOf('id="createToken"')));
    expect(mintCard).toContain("<code>identity</code>");
    expect(mintCard).toContain("default 21600");
    expect(mintCard).toContain("API key (Bearer pulse_…)");
  });
});
