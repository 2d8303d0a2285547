/**
 * Deleting a project or an org revokes every live key in it: each revocation has its own
 * `api_key.revoked` entry, in the same batch, as a revocation by hand has, so a key's history
 * in the audit log is complete whichever way it ended.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { call } from "../support/api";
import { createApiKey, createProject, createTenant } from "../support/factories";

interface Entry {
  id: string;
  action: string;
  resource_id: string;
  project_id: string;
  actor_type: string;
  actor_id: string;
  metadata: Record<string, unknown>;
}

async function revocations(orgId: string, token: string): Promise<Entry[]> {
  const res = await call("GET", `/v1/orgs/${orgId}/audit-logs?action=api_key.revoked&limit=100`, { token });
  expect(res.status, res.text).toBe(200);
  return res.body.data;
}

describe("a deletion cascade in the audit log", () => {
  it("gives every key a project deletion revokes its own api_key.revoked entry, and a key revoked earlier none more", async () => {
    const { user, org, project, key } = await createTenant();
    const second = await createApiKey(user, project.id, { name: "worker" });
    const byHand = await createApiKey(user, project.id, { name: "old" });
    expect((await call("DELETE", `/v1/projects/${project.id}/keys/${byHand.id}`, { token: user.token })).status).toBe(204);
    const untouched = await createProject(user, org.id, "Other");
    const otherKey = await createApiKey(user, untouched.id);

    expect((await call("DELETE", `/v1/projects/${project.id}`, { token: user.token })).status).toBe(204);
    const entries = await revocations(org.id, user.token);
    const cascade = entries.filter((e) => e.metadata.reason === "project_deleted");
    expect(cascade.map((e) => e.resource_id).sort()).toEqual([key.id, second.id].sort());
    for (const e of cascade) {
      expect(e).toMatchObject({ project_id: project.id, actor_type: "user", actor_id: user.id });
      expect(e.id).toMatch(/^aud_[0-9A-F]{22}$/);
    }
    expect(cascade.find((e) => e.resource_id === key.id)!.metadata.prefix).toBe(key.prefix);
    // The key revoked by hand keeps its one entry; the other project's key has none.
    expect(entries.filter((e) => e.resource_id === byHand.id)).toHaveLength(1);
    expect(entries.some((e) => e.resource_id === otherKey.id)).toBe(false);
    // The entries sit in the deletion's batch: the same time as project.deleted.
    const times = await env.DB.prepare(
      "SELECT DISTINCT created_at FROM audit_logs WHERE project_id = ? AND (action = 'project.deleted' OR (action = 'api_key.revoked' AND json_extract(metadata, '$.reason') = 'project_deleted'))",
    )
      .bind(project.id)
      .all();
    expect(times.results).toHaveLength(1);
  });

  it("gives every key of every project an org deletion revokes its entry, once, however often the delete is sent", async () => {
    const { user, org, project, key } = await createTenant();
    const other = await createProject(user, org.id, "Other");
    const otherKey = await createApiKey(user, other.id);
    // Two deletes at once: one wins, the other changes and audits nothing.
    const answers = await Promise.all([1, 2].map(() => call("DELETE", `/v1/orgs/${org.id}`, { token: user.token })));
    expect(answers.map((a) => a.status).sort()).toContain(204);
    const rows = await env.DB.prepare("SELECT resource_id, project_id, metadata FROM audit_logs WHERE org_id = ? AND action = 'api_key.revoked'")
      .bind(org.id)
      .all<{ resource_id: string; project_id: string; metadata: string }>();
    expect(rows.results.map((r) => [r.resource_id, r.project_id, JSON.parse(r.metadata).reason]).sort()).toEqual(
      [
        [key.id, project.id, "org_deleted"],
        [otherKey.id, other.id, "org_deleted"],
      ].sort(),
    );
    const revoked = await env.DB.prepare("SELECT COUNT(*) AS n FROM api_keys WHERE org_id = ? AND revoked_at IS NULL").bind(org.id).first<{ n: number }>();
    expect(revoked!.n).toBe(0);
  });
});
