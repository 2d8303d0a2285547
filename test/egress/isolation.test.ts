import { describe, expect, it } from "vitest";
import { call, expectEnvelope } from "../support/api";
import { createApiKey, createProject, createTenant } from "../support/factories";
import { useFakeLivekit } from "../support/fake-livekit";

const livekit = useFakeLivekit();

describe("egress tenant isolation", () => {
  it("gives project B's key 404 for project A's egress on every verb, and never reaches LiveKit for it", async () => {
    const a = await createTenant();
    const b = await createTenant();
    // Another project of the same org is just as foreign.
    const sibling = await createProject(a.user, a.org.id, "Sibling");
    const siblingKey = await createApiKey(a.user, sibling.id);
    const egress = await call("POST", "/v1/egress", { token: a.key.secret, body: { type: "room_composite", room: "secret-room", file_outputs: [{ filepath: "a.mp4" }] } });
    expect(egress.status).toBe(201);
    const callsBefore = livekit.calls.length;

    for (const key of [b.key.secret, siblingKey.secret]) {
      for (const id of [egress.body.id, egress.body.egress_id, "eg_doesnotexist", "eg_%27%20OR%201%3D1"]) {
        expectEnvelope(await call("GET", `/v1/egress/${id}`, { token: key }), 404, "not_found");
        expectEnvelope(await call("POST", `/v1/egress/${id}/stop`, { token: key }), 404, "not_found");
      }
      const list = await call("GET", "/v1/egress", { token: key });
      expect(list.body.data).toEqual([]);
      const byRoom = await call("GET", "/v1/egress?room=secret-room", { token: key });
      expect(byRoom.body.data).toEqual([]);
    }
    expect(livekit.calls.length).toBe(callsBefore);
    // Still A's, untouched.
    const got = await call("GET", `/v1/egress/${egress.body.id}`, { token: a.key.secret });
    expect(got.body.status).toBe("EGRESS_STARTING");
  });

  it("starts B's egress in B's namespace even when B names A's room in full", async () => {
    const a = await createTenant();
    const b = await createTenant();
    const res = await call("POST", "/v1/egress", { token: b.key.secret, body: { type: "room_composite", room: `${a.project.id}:standup`, file_outputs: [{ filepath: "x.mp4" }] } });
    expect(res.status).toBe(201);
    expect(res.body.room).toBe(`${a.project.id}:standup`);
    expect(livekit.callsTo("StartRoomCompositeEgress")[0]!.body.roomName).toBe(`${b.project.id}:${a.project.id}:standup`);
  });
});
