/**
 * Two requests changing the same thing at once: each finds it live before its batch, but only the
 * one whose batch commits first changes it. Every change's audit entry is guarded on what the
 * change touches still being live (and placed before it in the batch), so the log records each
 * change exactly once and never one that did not happen.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { SYSTEM_ACTOR } from "../../src/audit/record";
import { loadConfig } from "../../src/config";
import { createDb } from "../../src/db/client";
import { deleteEndpoint, updateEndpoint } from "../../src/webhooks/service";
import { call } from "../support/api";
import { createTenant } from "../support/factories";
import { createEndpoint } from "../support/webhook-receiver";

const entries = async (action: string, resourceId: string) =>
  (await env.DB.prepare("SELECT COUNT(*) AS n FROM audit_logs WHERE action = ? AND resource_id = ?").bind(action, resourceId).first<{ n: number }>())!.n;

describe("concurrent changes to the same resource", () => {
  // The service itself, twice at once in one isolate: both read the endpoint live before either
  // batch runs, which is the race (over HTTP the requests may happen not to overlap).
  it("two deletes of a webhook endpoint: one succeeds, audited once, the other is 404", async () => {
    const { user, org, project } = await createTenant();
    const endpoint = await createEndpoint(user.token, project.id, { url: "https://hooks.example.com/race" });
    const deps = { db: createDb(env.DB) };
    const tenant = { orgId: org.id, projectId: project.id };
    const outcomes = await Promise.allSettled([deleteEndpoint(deps, SYSTEM_ACTOR, tenant, endpoint.id), deleteEndpoint(deps, SYSTEM_ACTOR, tenant, endpoint.id)]);
    expect(outcomes.map((o) => o.status).sort()).toEqual(["fulfilled", "rejected"]);
    expect((outcomes.find((o) => o.status === "rejected") as PromiseRejectedResult).reason).toMatchObject({ status: 404 });
    expect(await entries("webhook_endpoint.deleted", endpoint.id)).toBe(1);
  });

  it("an update racing a delete never brings the endpoint back, and is audited only if it changed it", async () => {
    const { user, org, project } = await createTenant();
    const endpoint = await createEndpoint(user.token, project.id, { url: "https://hooks.example.com/race" });
    const path = `/v1/projects/${project.id}/webhooks/${endpoint.id}`;
    expect((await call("PATCH", path, { token: user.token, body: { enabled: false } })).status).toBe(200);
    const deps = { db: createDb(env.DB), config: loadConfig(env) };
    const tenant = { orgId: org.id, projectId: project.id };
    // The delete's batch is sent first; the update read the endpoint live before it committed.
    const [, patched] = await Promise.allSettled([
      deleteEndpoint(deps, SYSTEM_ACTOR, tenant, endpoint.id),
      updateEndpoint(deps, SYSTEM_ACTOR, tenant, endpoint.id, { enabled: true, description: "back" }),
    ]);
    const row = await env.DB.prepare("SELECT enabled, deleted_at FROM webhook_endpoints WHERE id = ?").bind(endpoint.id).first<{ enabled: number; deleted_at: number | null }>();
    expect(row).toMatchObject({ enabled: 0 });
    expect(row!.deleted_at).not.toBeNull();
    // The first PATCH, plus the racing update only if it landed before the delete.
    expect(await entries("webhook_endpoint.updated", endpoint.id)).toBe(patched.status === "fulfilled" ? 2 : 1);
    expect(await entries("webhook_endpoint.deleted", endpoint.id)).toBe(1);
    expect((await call("PATCH", path, { token: user.token, body: { enabled: true } })).status).toBe(404);
  });

  it("two deletes of a project, or of an organization, are audited once each", async () => {
    const { user, org, project } = await createTenant();
    const projectPath = `/v1/projects/${project.id}`;
    const deletes = await Promise.all([call("DELETE", projectPath, { token: user.token }), call("DELETE", projectPath, { token: user.token })]);
    for (const r of deletes) expect([204, 404], r.text).toContain(r.status);
    expect(await entries("project.deleted", project.id)).toBe(1);

    const orgPath = `/v1/orgs/${org.id}`;
    const orgDeletes = await Promise.all([call("DELETE", orgPath, { token: user.token }), call("DELETE", orgPath, { token: user.token })]);
    for (const r of orgDeletes) expect([204, 404], r.text).toContain(r.status);
    expect(await entries("org.deleted", org.id)).toBe(1);
  });

  it("two sign-outs of one session are audited once", async () => {
    const { user } = await createTenant();
    await Promise.all([call("POST", "/v1/auth/logout", { token: user.token }), call("POST", "/v1/auth/logout", { token: user.token })]);
    const sessionId = (await env.DB.prepare("SELECT resource_id FROM audit_logs WHERE action = 'user.logged_out' AND actor_id = ?").bind(user.id).all<{ resource_id: string }>()).results;
    expect(sessionId).toHaveLength(1);
    expect((await call("GET", "/v1/me", { token: user.token })).status).toBe(401);
  });
});
