/**
 * The dashboard's egress and ingress routes (`/v1/projects/{project_id}/egress…`, `…/ingress…`):
 * the same records as the API-key routes, for signed-in members; the role matrix covers who may
 * call each route, this file what they get.
 */
import { describe, expect, it } from "vitest";
import { call, expectEnvelope } from "../support/api";
import { createTenant } from "../support/factories";
import { useFakeLivekit } from "../support/fake-livekit";
import { auditActions, joinOrg } from "../support/team";

const livekit = useFakeLivekit();

async function tenantWithRecords() {
  const t = await createTenant();
  const egress = await call("POST", "/v1/egress", { token: t.key.secret, body: { type: "room_composite", room: "show", file_outputs: [{ filepath: "show.mp4" }] } });
  expect(egress.status, egress.text).toBe(201);
  const ingress = await call("POST", "/v1/ingress", { token: t.key.secret, body: { input_type: "rtmp", room: "show", participant_identity: "obs" } });
  expect(ingress.status, ingress.text).toBe(201);
  return { ...t, egress: egress.body, ingress: ingress.body };
}

describe("session-authenticated egress and ingress routes", () => {
  it("show a viewer the same egress records as the API key, and let an admin stop one, audited as that user", async () => {
    const t = await tenantWithRecords();
    const viewer = await joinOrg(t.user, t.org.id, "viewer");
    const base = `/v1/projects/${t.project.id}/egress`;
    const viaKey = await call("GET", `/v1/egress/${t.egress.id}`, { token: t.key.secret });

    const listed = await call("GET", base, { token: viewer.token });
    expect(listed.status).toBe(200);
    expect(listed.body).toEqual({ data: [viaKey.body], next_cursor: null });
    expect((await call("GET", `${base}/${t.egress.id}`, { token: viewer.token })).body).toEqual(viaKey.body);
    expect((await call("GET", `${base}?room=other`, { token: viewer.token })).body.data).toEqual([]);

    const stopped = await call("POST", `${base}/${t.egress.id}/stop`, { token: t.user.token });
    expect([stopped.status, stopped.body.status]).toEqual([200, "EGRESS_ENDING"]);
    expect(livekit.callsTo("StopEgress").map((c) => c.body)).toEqual([{ egressId: t.egress.egress_id }]);
    const audit = await auditActions(t.org.id, t.egress.id);
    expect(audit.map((a) => [a.action, a.actor_id])).toEqual([
      ["egress.started", t.key.id],
      ["egress.stopped", t.user.id],
    ]);
    expectEnvelope(await call("POST", `${base}/${t.egress.id}/stop`, { token: t.user.token }), 409, "conflict");
  });

  it("show ingress records to viewers without the stream key, which only admins get", async () => {
    const t = await tenantWithRecords();
    const viewer = await joinOrg(t.user, t.org.id, "viewer");
    const member = await joinOrg(t.user, t.org.id, "member");
    const base = `/v1/projects/${t.project.id}/ingress`;
    expect(t.ingress.stream_key).toMatch(/^sk_/);

    for (const user of [viewer, member]) {
      const one = await call("GET", `${base}/${t.ingress.id}`, { token: user.token });
      expect(one.body).toEqual({ ...t.ingress, stream_key: null });
      expect((await call("GET", base, { token: user.token })).body.data).toEqual([{ ...t.ingress, stream_key: null }]);
    }
    expect((await call("GET", `${base}/${t.ingress.id}`, { token: t.user.token })).body).toEqual(t.ingress);
    expect((await call("GET", base, { token: t.user.token })).body.data).toEqual([t.ingress]);
  });

  it("answer 404 for another project's egress or ingress named under the caller's own project", async () => {
    const mine = await tenantWithRecords();
    const theirs = await tenantWithRecords();
    const before = livekit.calls.length;
    for (const [method, path] of [
      ["GET", `/v1/projects/${mine.project.id}/egress/${theirs.egress.id}`],
      ["POST", `/v1/projects/${mine.project.id}/egress/${theirs.egress.id}/stop`],
      ["GET", `/v1/projects/${mine.project.id}/ingress/${theirs.ingress.id}`],
      ["GET", `/v1/projects/${theirs.project.id}/egress`],
      ["GET", `/v1/projects/${theirs.project.id}/ingress/${theirs.ingress.id}`],
    ] as const) {
      expectEnvelope(await call(method, path, { token: mine.user.token }), 404, "not_found");
    }
    expect(livekit.calls.length).toBe(before);
    expect(livekit.egresses.get(theirs.egress.egress_id)!.status).toBe("EGRESS_STARTING");
  });
});
