import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { call, expectEnvelope } from "../support/api";
import { createApiKey, createOrg, createProject, createTenant, createUser, PASSWORD } from "../support/factories";

interface Entry {
  id: string;
  action: string;
  actor_id: string | null;
  actor_type: string;
  resource_type: string;
  resource_id: string | null;
  project_id: string | null;
  request_id: string | null;
  ip: string | null;
  user_agent: string | null;
  metadata: Record<string, unknown>;
  created_at: string;
}

describe("the audit log", () => {
  it("records every org, project and key change with actor, request and resource", async () => {
    const user = await createUser();
    const org = await createOrg(user, "Audited");
    const project = await createProject(user, org.id, "P");
    const key = await createApiKey(user, project.id);
    const patch = await call("PATCH", `/v1/projects/${project.id}`, {
      token: user.token,
      body: { name: "P2" },
      headers: { "X-Request-Id": "audit-test-request-1", "User-Agent": "audit-suite/1.0" },
      ip: "192.0.2.77",
    });
    expect(patch.status).toBe(200);
    await call("POST", `/v1/projects/${project.id}/keys/${key.id}/roll`, { token: user.token });
    await call("DELETE", `/v1/projects/${project.id}/keys/${key.id}`, { token: user.token });
    await call("DELETE", `/v1/projects/${project.id}`, { token: user.token });

    const res = await call("GET", `/v1/orgs/${org.id}/audit-logs?limit=100`, { token: user.token });
    expect(res.status).toBe(200);
    const entries = res.body.data as Entry[];
    expect(entries.map((e) => e.action)).toEqual([
      "project.deleted",
      "api_key.revoked",
      "api_key.rolled",
      "project.updated",
      "api_key.created",
      "project.created",
      "org.created",
    ]);
    const updated = entries.find((e) => e.action === "project.updated")!;
    expect(updated).toMatchObject({
      actor_type: "user",
      actor_id: user.id,
      resource_type: "project",
      resource_id: project.id,
      project_id: project.id,
      request_id: "audit-test-request-1",
      ip: "192.0.2.77",
      user_agent: "audit-suite/1.0",
      metadata: { name: "P2" },
    });
    const one = await call("GET", `/v1/orgs/${org.id}/audit-logs/${updated.id}`, { token: user.token });
    expect(one.body).toEqual(updated);
  });

  it("records signup, login success and login failure", async () => {
    // Unverified, so the user's only entries are the ones this test is about.
    const user = await createUser({ verified: false });
    await call("POST", "/v1/auth/login", { body: { email: user.email, password: "wrong password!" }, ip: "192.0.2.50" });
    await call("POST", "/v1/auth/login", { body: { email: user.email, password: PASSWORD }, ip: "192.0.2.50" });
    const rows = (
      await env.DB.prepare("SELECT action, actor_id, metadata FROM audit_logs WHERE actor_id = ? ORDER BY created_at, rowid").bind(user.id).all<{
        action: string;
        metadata: string;
      }>()
    ).results;
    expect(rows.map((r) => r.action)).toEqual(["user.signed_up", "user.login_failed", "user.logged_in"]);
    for (const r of rows) expect(r.metadata).not.toContain(PASSWORD);
  });

  it("filters by action, actor, resource, project and time, and pages with a cursor", async () => {
    const { user, org, project } = await createTenant();
    const other = await createProject(user, org.id, "Other");
    for (let i = 0; i < 5; i++) await createApiKey(user, other.id, { name: `k${i}` });

    const byAction = await call("GET", `/v1/orgs/${org.id}/audit-logs?action=api_key.created&limit=2`, { token: user.token });
    expect(byAction.body.data).toHaveLength(2);
    expect(byAction.body.next_cursor).toBeTruthy();
    const seen = new Set<string>();
    let cursor: string | null = null;
    do {
      const q: string = `/v1/orgs/${org.id}/audit-logs?action=api_key.created&limit=2${cursor ? `&cursor=${cursor}` : ""}`;
      const pageRes = await call("GET", q, { token: user.token });
      for (const e of pageRes.body.data as Entry[]) {
        expect(e.action).toBe("api_key.created");
        seen.add(e.id);
      }
      cursor = pageRes.body.next_cursor;
    } while (cursor);
    expect(seen.size).toBe(6);

    const byProject = await call("GET", `/v1/orgs/${org.id}/audit-logs?project_id=${project.id}`, { token: user.token });
    expect((byProject.body.data as Entry[]).every((e) => e.project_id === project.id)).toBe(true);
    expect(byProject.body.data.length).toBe(2);

    const byResource = await call("GET", `/v1/orgs/${org.id}/audit-logs?resource_type=project&resource_id=${other.id}`, { token: user.token });
    expect(byResource.body.data.map((e: Entry) => e.action)).toEqual(["project.created"]);

    const byActor = await call("GET", `/v1/orgs/${org.id}/audit-logs?actor_id=${user.id}&limit=100`, { token: user.token });
    expect(byActor.body.data.length).toBe(9); // org, 2 projects, 6 keys (signup belongs to no org)

    const future = await call("GET", `/v1/orgs/${org.id}/audit-logs?since=2999-01-01T00:00:00Z`, { token: user.token });
    expect(future.body.data).toEqual([]);
    expectEnvelope(await call("GET", `/v1/orgs/${org.id}/audit-logs?since=yesterday`, { token: user.token }), 400, "validation_failed");
  });

  it("filters by a room's name as resource_id, up to the longest room name", async () => {
    const { user, org, project } = await createTenant();
    const room = `standup-${"r".repeat(120)}`;
    expect(room.length).toBe(128);
    const minted = await call("POST", `/v1/projects/${project.id}/tokens`, { token: user.token, body: { identity: "ann", room } });
    expect(minted.status, minted.text).toBe(201);
    const byRoom = await call("GET", `/v1/orgs/${org.id}/audit-logs?resource_id=${room}`, { token: user.token });
    expect(byRoom.status, byRoom.text).toBe(200);
    expect(byRoom.body.data.map((e: Entry) => [e.action, e.resource_id])).toEqual([["token.minted", room]]);
    expectEnvelope(await call("GET", `/v1/orgs/${org.id}/audit-logs?resource_id=${"x".repeat(257)}`, { token: user.token }), 400, "validation_failed");
  });

  it("exports every entry of a 1,000-entry range as NDJSON and as CSV", async () => {
    const { user, org } = await createTenant();
    // Seed 1,000 entries directly (through the API this would take minutes); spread over time.
    const base = Date.parse("2026-01-01T00:00:00Z");
    const stmts = [];
    for (let i = 0; i < 1000; i++) {
      stmts.push(
        env.DB.prepare(
          "INSERT INTO audit_logs (id, org_id, actor_type, actor_id, action, resource_type, resource_id, metadata, created_at) VALUES (?, ?, 'user', ?, 'bulk.test', 'thing', ?, ?, ?)",
        ).bind(`aud_bulk${org.id}${i}`, org.id, user.id, `thing_${i}`, JSON.stringify({ i, note: `comma, "quote"\nline` }), base + (i % 250) * 1000),
      );
    }
    await env.DB.batch(stmts);
    const range = `since=2026-01-01T00:00:00Z&until=2026-01-02T00:00:00Z`;

    const ndjson = await call("GET", `/v1/orgs/${org.id}/audit-logs/export?format=ndjson&${range}`, { token: user.token });
    expect(ndjson.status).toBe(200);
    expect(ndjson.headers.get("Content-Type")).toMatch(/^application\/x-ndjson/);
    const lines = ndjson.text.trim().split("\n").map((l) => JSON.parse(l) as Entry);
    expect(lines).toHaveLength(1000);
    expect(new Set(lines.map((l) => l.resource_id)).size).toBe(1000);
    expect(lines[0]!.metadata).toEqual({ i: expect.any(Number), note: `comma, "quote"\nline` });

    const csv = await call("GET", `/v1/orgs/${org.id}/audit-logs/export?format=csv&${range}`, { token: user.token });
    expect(csv.status).toBe(200);
    expect(csv.headers.get("Content-Type")).toMatch(/^text\/csv/);
    const rows = parseCsv(csv.text);
    expect(rows[0]).toEqual(["id", "created_at", "org_id", "project_id", "actor_type", "actor_id", "action", "resource_type", "resource_id", "ip", "user_agent", "request_id", "metadata"]);
    expect(rows).toHaveLength(1001);
    const ids = new Set(rows.slice(1).map((r) => r[8]));
    expect(ids.size).toBe(1000);
    expect(JSON.parse(rows[1]![12]!)).toMatchObject({ note: `comma, "quote"\nline` });

    // Outside the range: nothing.
    const none = await call("GET", `/v1/orgs/${org.id}/audit-logs/export?format=csv&since=2026-02-01T00:00:00Z&until=2026-02-02T00:00:00Z`, { token: user.token });
    expect(parseCsv(none.text)).toHaveLength(1);
  });
});

/** A strict RFC 4180 parser, so the test proves the CSV is parseable rather than trusting a split. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ",") {
      row.push(field);
      field = "";
    } else if (ch === "\r" && text[i + 1] === "\n") {
      row.push(field);
      rows.push(row);
      row = [];
      field = "";
      i++;
    } else field += ch;
  }
  if (field || row.length) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}
