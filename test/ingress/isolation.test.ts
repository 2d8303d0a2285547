import { describe, expect, it } from "vitest";
import { call, expectEnvelope } from "../support/api";
import { createApiKey, createProject, createTenant } from "../support/factories";
import { useFakeLivekit } from "../support/fake-livekit";

const livekit = useFakeLivekit();

describe("ingress tenant isolation", () => {
  it("gives project B's key 404 for project A's ingress on every verb, and never reaches LiveKit for it", async () => {
    const a = await createTenant();
    const b = await createTenant();
    const sibling = await createProject(a.user, a.org.id, "Sibling");
    const siblingKey = await createApiKey(a.user, sibling.id);
    const ingress = await call("POST", "/v1/ingress", { token: a.key.secret, body: { input_type: "rtmp", room: "stage", participant_identity: "obs" } });
    expect(ingress.status).toBe(201);
    const callsBefore = livekit.calls.length;

    for (const key of [b.key.secret, siblingKey.secret]) {
      for (const id of [ingress.body.id, ingress.body.ingress_id, "ing_doesnotexist"]) {
        expectEnvelope(await call("GET", `/v1/ingress/${id}`, { token: key }), 404, "not_found");
        expectEnvelope(await call("PATCH", `/v1/ingress/${id}`, { token: key, body: { name: "taken over" } }), 404, "not_found");
        expectEnvelope(await call("DELETE", `/v1/ingress/${id}`, { token: key }), 404, "not_found");
      }
      const list = await call("GET", "/v1/ingress", { token: key });
      expect(list.body.data).toEqual([]);
      expect(list.text).not.toContain(ingress.body.stream_key);
    }
    expect(livekit.calls.length).toBe(callsBefore);
    expect(livekit.ingresses.has(ingress.body.ingress_id)).toBe(true);
    const got = await call("GET", `/v1/ingress/${ingress.body.id}`, { token: a.key.secret });
    expect(got.status).toBe(200);
    expect(got.body.stream_key).toBe(ingress.body.stream_key);
  });

  it("creates B's ingress in B's namespace even when B names A's room in full", async () => {
    const a = await createTenant();
    const b = await createTenant();
    const res = await call("POST", "/v1/ingress", { token: b.key.secret, body: { input_type: "whip", room: `${a.project.id}:stage`, participant_identity: "x" } });
    expect(res.status).toBe(201);
    expect(livekit.callsTo("CreateIngress")[0]!.body.roomName).toBe(`${b.project.id}:${a.project.id}:stage`);
  });
});
