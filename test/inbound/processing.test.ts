import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createTenant } from "../support/factories";
import { participant, replay, secs, sendEvent, sessionsOf, storedEvents, usageOf } from "../support/livekit-webhook";

const at = (h: number, m: number, s: number) => Date.UTC(2026, 10, 27, h, m, s);

describe("LiveKit events → participant sessions and minutes", () => {
  it("meters a join at 10:00:05 and a leave at 10:01:10 as 2 participant minutes, and the same events again still as 2", async () => {
    const { project } = await createTenant();
    const room = { sid: "RM_a", name: `${project.id}:standup` };
    const alice = participant("PA_alice1", "alice", at(10, 0, 5));
    const join = await sendEvent({ event: "participant_joined", createdAt: secs(at(10, 0, 5)), room, participant: alice });
    expect(join.res.status).toBe(200);
    const open = await sessionsOf(project.id);
    expect(open).toHaveLength(1);
    expect(open[0]).toMatchObject({ room: "standup", identity: "alice", participant_sid: "PA_alice1", joined_at: at(10, 0, 5), left_at: null });

    const leave = await sendEvent({ event: "participant_left", createdAt: secs(at(10, 1, 10)), room, participant: alice });
    expect(leave.res.status).toBe(200);
    const closed = await sessionsOf(project.id);
    expect(closed[0]).toMatchObject({ left_at: at(10, 1, 10), minutes: 2, end_reason: "left" });
    let usage = await usageOf(project.id);
    expect(usage.map((u) => u.quantity)).toEqual([2]);

    // LiveKit retries: the very same events (same ids and bodies) are replays and change nothing.
    const again1 = await replay(join.body);
    const again2 = await replay(leave.body);
    expect(again1.body).toEqual({ received: true, duplicate: true });
    expect(again2.body).toEqual({ received: true, duplicate: true });
    // A second delivery of the same facts under new event ids meters nothing more either.
    await sendEvent({ event: "participant_joined", createdAt: secs(at(10, 0, 5)), room, participant: alice });
    await sendEvent({ event: "participant_left", createdAt: secs(at(10, 1, 10)), room, participant: alice });
    usage = await usageOf(project.id);
    expect(usage.map((u) => u.quantity)).toEqual([2]);
    expect(await sessionsOf(project.id)).toHaveLength(1);
  });

  it("stores a replayed event once", async () => {
    const { project } = await createTenant();
    const sent = await sendEvent({ event: "room_started", room: { sid: "RM_r", name: `${project.id}:r` } });
    const id = JSON.parse(sent.body).id as string;
    await replay(sent.body);
    const rows = await storedEvents(id);
    expect(rows).toHaveLength(1);
    expect(rows[0]!.project_id).toBe(project.id);
    expect(rows[0]!.processed_at).not.toBeNull();
  });

  it("closes every open session of the room on room_finished and meters each, rounded up", async () => {
    const { project } = await createTenant();
    const room = { sid: "RM_fin", name: `${project.id}:class` };
    await sendEvent({ event: "participant_joined", createdAt: secs(at(9, 0, 0)), room, participant: participant("PA_f1", "a", at(9, 0, 0)) });
    await sendEvent({ event: "participant_joined", createdAt: secs(at(9, 10, 0)), room, participant: participant("PA_f2", "b", at(9, 10, 0)) });
    await sendEvent({ event: "room_finished", createdAt: secs(at(9, 20, 30)), room });
    const sessions = await sessionsOf(project.id);
    expect(sessions.map((s) => [s.participant_sid, s.minutes, s.end_reason])).toEqual([
      ["PA_f1", 21, "room_finished"],
      ["PA_f2", 11, "room_finished"],
    ]);
    expect((await usageOf(project.id)).map((u) => u.quantity).sort()).toEqual([11, 21]);
  });

  it("meters a leave whose join was lost from the participant's own joinedAt", async () => {
    const { project } = await createTenant();
    const room = { sid: "RM_l", name: `${project.id}:lost` };
    await sendEvent({ event: "participant_left", createdAt: secs(at(11, 0, 10)), room, participant: participant("PA_l1", "carol", at(11, 0, 0)) });
    const [session] = await sessionsOf(project.id);
    expect(session).toMatchObject({ joined_at: at(11, 0, 0), left_at: at(11, 0, 10), minutes: 1 });
    expect((await usageOf(project.id)).map((u) => u.quantity)).toEqual([1]);
  });

  it("treats participant_connection_aborted as the end of the session", async () => {
    const { project } = await createTenant();
    const room = { sid: "RM_ab", name: `${project.id}:ab` };
    const p = participant("PA_ab", "dave", at(12, 0, 0));
    await sendEvent({ event: "participant_joined", createdAt: secs(at(12, 0, 0)), room, participant: p });
    await sendEvent({ event: "participant_connection_aborted", createdAt: secs(at(12, 3, 0)), room, participant: p });
    expect((await sessionsOf(project.id))[0]).toMatchObject({ minutes: 3, end_reason: "connection_aborted" });
  });

  it("stores and ignores events for rooms outside any project; of a deleted project's join, keeps only its room, for the teardown", async () => {
    const { user, project } = await createTenant();
    const foreign = await sendEvent({ event: "participant_joined", room: { name: "plain-room" }, participant: participant("PA_x", "x") });
    expect(foreign.res.status).toBe(200);
    const unknownProject = await sendEvent({ event: "participant_joined", room: { name: "proj_doesnotexist:room" }, participant: participant("PA_y", "y") });
    expect(unknownProject.res.status).toBe(200);
    const { call } = await import("../support/api");
    expect((await call("DELETE", `/v1/projects/${project.id}`, { token: user.token })).status).toBe(204);
    const deleted = await sendEvent({ event: "participant_joined", room: { name: `${project.id}:r` }, participant: participant("PA_z", "z") });
    expect(deleted.res.status).toBe(200);
    for (const sent of [foreign, unknownProject, deleted]) {
      const [row] = await storedEvents(JSON.parse(sent.body).id);
      expect(row).toMatchObject({ project_id: sent === deleted ? project.id : null });
      expect(row!.processed_at).not.toBeNull();
    }
    expect(await sessionsOf(project.id)).toHaveLength(0);
    const known = await env.DB.prepare("SELECT name FROM known_rooms WHERE project_id = ?").bind(project.id).all();
    expect(known.results).toEqual([{ name: "r" }]);
  });

  it("accepts fields it does not know (LiveKit adds fields) and protojson's omitted defaults", async () => {
    const { project } = await createTenant();
    const sent = await sendEvent({
      event: "track_published",
      room: { sid: "RM_t", name: `${project.id}:t`, brandNewField: { nested: true } },
      participant: { sid: "PA_t", identity: "t" },
      track: { sid: "TR_1", type: "VIDEO", source: "CAMERA", futureField: "x" },
      numDropped: 0,
      anotherNewTopLevelField: [1, 2, 3],
    });
    expect(sent.res.status).toBe(200);
    expect(await storedEvents(JSON.parse(sent.body).id)).toHaveLength(1);
  });
});
