import { describe, expect, it } from "vitest";
import { call } from "../support/api";
import { createTenant } from "../support/factories";
import { useFakeLivekit } from "../support/fake-livekit";
import { deliverLivekitEvent, ns, participant, secs, sessionsOf, usageEventsOf } from "../support/livekit-webhook";
import { fetchWithEnv } from "../support/worker-env";
import { rows } from "../support/db";
import { runCron } from "../support/cron";
import { TEARDOWN_BATCH } from "../../src/projects/livekit-teardown";

const livekit = useFakeLivekit();

/** The rooms of one project that DeleteRoom was called for (other tests' deleted projects are swept by the same cron). */
const deletedRoomsOf = (projectId: string) => livekit.callsTo("DeleteRoom").map((c) => String(c.body.room)).filter((room) => room.startsWith(`${projectId}:`));

/** A DELETE through the Worker, waiting for the work it hands to waitUntil. */
const deleteAndWait = (path: string, token: string) =>
  fetchWithEnv({}, new Request(`https://pulse.test${path}`, { method: "DELETE", headers: { Authorization: `Bearer ${token}` } }));

async function startBoth(secret: string) {
  const egress = await call("POST", "/v1/egress", { token: secret, body: { type: "room_composite", room: "live", stream_outputs: [{ urls: ["rtmps://stream.example.com/app/key"] }] } });
  const ingress = await call("POST", "/v1/ingress", { token: secret, body: { input_type: "rtmp", room: "live", participant_identity: "obs" } });
  expect(egress.status).toBe(201);
  expect(ingress.status).toBe(201);
  return { egress: egress.body, ingress: ingress.body };
}

describe("deleting a project tears down what it has running on LiveKit", () => {
  it("stops its active egress and deletes its ingress at once, audited", async () => {
    const t = await createTenant();
    const { egress, ingress } = await startBoth(t.key.secret);

    expect((await deleteAndWait(`/v1/projects/${t.project.id}`, t.user.token)).status).toBe(204);

    expect(livekit.callsTo("StopEgress").map((c) => c.body.egressId)).toEqual([egress.egress_id]);
    expect(livekit.callsTo("DeleteIngress").map((c) => c.body.ingressId)).toEqual([ingress.ingress_id]);
    expect(livekit.ingresses.has(ingress.ingress_id)).toBe(false);
    const [egressRow] = await rows("SELECT status FROM egresses WHERE id = ?", egress.id);
    expect(egressRow!.status).toBe("EGRESS_ENDING");
    const [ingressRow] = await rows("SELECT deleted_at FROM ingresses WHERE id = ?", ingress.id);
    expect(ingressRow!.deleted_at).not.toBeNull();
    const audit = await rows("SELECT action, actor_type FROM audit_logs WHERE project_id = ? AND actor_type = 'system' ORDER BY action", t.project.id);
    expect(audit).toEqual([
      { action: "egress.stopped", actor_type: "system" },
      { action: "ingress.deleted", actor_type: "system" },
    ]);
  });

  it("still meters the final minutes of an egress it stopped, and tells nobody", async () => {
    const t = await createTenant();
    const { egress } = await startBoth(t.key.secret);
    const hook = await call("POST", `/v1/projects/${t.project.id}/webhooks`, { token: t.user.token, body: { url: "https://hooks.example.com/x" } });
    expect(hook.status).toBe(201);
    expect((await deleteAndWait(`/v1/projects/${t.project.id}`, t.user.token)).status).toBe(204);

    const wireRoom = `${t.project.id}:live`;
    const t0 = Date.now() - 130_000;
    await deliverLivekitEvent({
      event: "egress_ended",
      egressInfo: { egressId: egress.egress_id, roomName: wireRoom, status: "EGRESS_COMPLETE", startedAt: ns(t0), endedAt: ns(t0 + 125_000) },
    });
    expect((await rows("SELECT status FROM egresses WHERE id = ?", egress.id))[0]!.status).toBe("EGRESS_COMPLETE");
    expect((await usageEventsOf(t.project.id, "egress_minutes")).map((u) => u.quantity)).toEqual([3]);
    expect(await rows("SELECT id FROM webhook_messages WHERE project_id = ?", t.project.id)).toEqual([]);
    // Participants of a deleted project's rooms are not metered.
    await deliverLivekitEvent({ event: "participant_joined", room: { sid: "RM_x", name: wireRoom }, participant: { sid: "PA_late", identity: "late" } });
    expect(await rows("SELECT id FROM participant_sessions WHERE project_id = ?", t.project.id)).toEqual([]);
  });

  it("does the same for every project of a deleted org", async () => {
    const t = await createTenant();
    const { egress, ingress } = await startBoth(t.key.secret);
    expect((await deleteAndWait(`/v1/orgs/${t.org.id}`, t.user.token)).status).toBe(204);
    expect(livekit.callsTo("StopEgress").map((c) => c.body.egressId)).toEqual([egress.egress_id]);
    expect(livekit.callsTo("DeleteIngress").map((c) => c.body.ingressId)).toEqual([ingress.ingress_id]);
  });

  it("does so at once for an org with as many projects as it may have", async () => {
    const t = await createTenant();
    const { egress, ingress } = await startBoth(t.key.secret);
    // LIMIT_PROJECTS_PER_ORG's default, 100: more ids than D1 binds in one statement with the rest.
    for (let i = 1; i < 100; i++) expect((await call("POST", `/v1/orgs/${t.org.id}/projects`, { token: t.user.token, body: { name: `p${i}` } })).status).toBe(201);
    expect((await deleteAndWait(`/v1/orgs/${t.org.id}`, t.user.token)).status).toBe(204);
    expect(livekit.callsTo("StopEgress").map((c) => c.body.egressId)).toEqual([egress.egress_id]);
    expect(livekit.callsTo("DeleteIngress").map((c) => c.body.ingressId)).toEqual([ingress.ingress_id]);
  });

  it("finishes from the five-minute cron when LiveKit was unreachable at deletion", async () => {
    const t = await createTenant();
    const { egress, ingress } = await startBoth(t.key.secret);
    livekit.failNext({ kind: "status", status: 503 });
    livekit.failNext({ kind: "status", status: 503 });
    expect((await deleteAndWait(`/v1/projects/${t.project.id}`, t.user.token)).status).toBe(204);
    expect(livekit.ingresses.has(ingress.ingress_id)).toBe(true);
    expect((await rows("SELECT deleted_at FROM ingresses WHERE id = ?", ingress.id))[0]!.deleted_at).toBeNull();

    await runCron("*/5 * * * *");

    expect(livekit.ingresses.has(ingress.ingress_id)).toBe(false);
    expect((await rows("SELECT status FROM egresses WHERE id = ?", egress.id))[0]!.status).toBe("EGRESS_ENDING");
    expect((await rows("SELECT deleted_at FROM ingresses WHERE id = ?", ingress.id))[0]!.deleted_at).not.toBeNull();
    // Nothing left to do: another run calls LiveKit no more.
    const before = livekit.calls.length;
    await runCron("*/5 * * * *");
    expect(livekit.calls.length).toBe(before);
  });

  it("deletes its rooms in LiveKit, audited, and meters the minutes of those still in them to the room's end", async () => {
    const t = await createTenant();
    expect((await call("POST", "/v1/rooms", { token: t.key.secret, body: { name: "standup" } })).status).toBe(201);
    const wireRoom = `${t.project.id}:standup`;
    expect(livekit.rooms.has(wireRoom)).toBe(true);
    const joinedAt = Date.now() - 125_000;
    await deliverLivekitEvent({ event: "participant_joined", room: { sid: "RM_standup", name: wireRoom }, participant: participant("PA_stay", "stay", joinedAt) });
    await deliverLivekitEvent({ event: "participant_joined", room: { sid: "RM_standup", name: wireRoom }, participant: participant("PA_go", "go", joinedAt) });

    expect((await deleteAndWait(`/v1/projects/${t.project.id}`, t.user.token)).status).toBe(204);

    expect(deletedRoomsOf(t.project.id)).toEqual([wireRoom]);
    expect(livekit.rooms.has(wireRoom)).toBe(false);
    expect(await rows("SELECT name FROM known_rooms WHERE project_id = ?", t.project.id)).toEqual([]);
    const audit = await rows("SELECT action, resource_id, metadata FROM audit_logs WHERE project_id = ? AND actor_type = 'system'", t.project.id);
    expect(audit.map((a) => [a.action, a.resource_id, JSON.parse(a.metadata as string)])).toEqual([["room.deleted", "standup", { room: "standup", reason: "project_deleted" }]]);

    // LiveKit's answer to the deletion: one leave, then the room's end. Both still close what they close.
    const leftAt = joinedAt + 61_000;
    const endedAt = joinedAt + 121_000;
    await deliverLivekitEvent({ event: "participant_left", createdAt: secs(leftAt), room: { sid: "RM_standup", name: wireRoom }, participant: participant("PA_go", "go", joinedAt) });
    await deliverLivekitEvent({ event: "room_finished", createdAt: secs(endedAt), room: { sid: "RM_standup", name: wireRoom } });
    const sessions = await sessionsOf(t.project.id);
    expect(sessions.map((s) => [s.participant_sid, s.end_reason, s.minutes]).sort()).toEqual([
      ["PA_go", "left", 2],
      ["PA_stay", "room_finished", 3],
    ]);
    expect((await usageEventsOf(t.project.id, "participant_minutes")).map((u) => u.quantity).sort()).toEqual([2, 3]);
  });

  it("meters a join that happened before the deletion, however late it is processed", async () => {
    const t = await createTenant();
    expect((await deleteAndWait(`/v1/projects/${t.project.id}`, t.user.token)).status).toBe(204);
    const [{ deleted_at }] = (await rows("SELECT deleted_at FROM projects WHERE id = ?", t.project.id)) as [{ deleted_at: number }];
    const wireRoom = `${t.project.id}:standup`;
    // LiveKit's webhook of a join two minutes before the deletion arrives only now (a retry, a backlog).
    const joinedAt = deleted_at - 119_000;
    await deliverLivekitEvent({ event: "participant_joined", createdAt: secs(joinedAt), room: { sid: "RM_before", name: wireRoom }, participant: participant("PA_before", "early", joinedAt) });
    await deliverLivekitEvent({ event: "participant_left", createdAt: secs(joinedAt + 121_000), room: { sid: "RM_before", name: wireRoom }, participant: participant("PA_before", "early", joinedAt) });
    expect((await sessionsOf(t.project.id)).map((s) => [s.participant_sid, s.end_reason, s.minutes])).toEqual([["PA_before", "left", 3]]);
    expect((await usageEventsOf(t.project.id, "participant_minutes")).map((u) => u.quantity)).toEqual([3]);
    // Its room, learnt from the join, is the teardown's to delete (LiveKit no longer has it: forgotten).
    expect(await rows("SELECT name FROM known_rooms WHERE project_id = ?", t.project.id)).toEqual([{ name: "standup" }]);
    await runCron("*/5 * * * *");
    expect(deletedRoomsOf(t.project.id)).toEqual([wireRoom]);
    expect(await rows("SELECT name FROM known_rooms WHERE project_id = ?", t.project.id)).toEqual([]);
  });

  it("deletes a room a still-valid token started after the deletion, at the next run, metering nobody in it", async () => {
    const t = await createTenant();
    expect((await deleteAndWait(`/v1/projects/${t.project.id}`, t.user.token)).status).toBe(204);
    expect(deletedRoomsOf(t.project.id)).toEqual([]);
    // A token minted before the deletion joins: LiveKit creates the room and reports it.
    const wireRoom = `${t.project.id}:after-hours`;
    livekit.rooms.set(wireRoom, { sid: "RM_late", name: wireRoom, empty_timeout: 300, departure_timeout: 20, max_participants: 0, metadata: "", creation_time: secs(Date.now()), participants: new Map(), data: [] });
    await deliverLivekitEvent({ event: "room_started", room: { sid: "RM_late", name: wireRoom } });
    await deliverLivekitEvent({ event: "participant_joined", room: { sid: "RM_late", name: wireRoom }, participant: participant("PA_late", "late", Date.now() - 60_000) });
    expect(await rows("SELECT name FROM known_rooms WHERE project_id = ?", t.project.id)).toEqual([{ name: "after-hours" }]);

    await runCron("*/5 * * * *");

    expect(deletedRoomsOf(t.project.id)).toEqual([wireRoom]);
    expect(livekit.rooms.has(wireRoom)).toBe(false);
    expect(await rows("SELECT name FROM known_rooms WHERE project_id = ?", t.project.id)).toEqual([]);
    // Its participant's leave finds no session of the live project: nothing opens, nothing is metered.
    await deliverLivekitEvent({ event: "participant_left", room: { sid: "RM_late", name: wireRoom }, participant: participant("PA_late", "late", Date.now() - 60_000) });
    expect(await sessionsOf(t.project.id)).toEqual([]);
    expect(await usageEventsOf(t.project.id, "participant_minutes")).toEqual([]);
    expect(await rows("SELECT id FROM room_sessions WHERE project_id = ?", t.project.id)).toEqual([]);
    // Nothing left: the next run asks LiveKit nothing.
    const before = livekit.calls.length;
    await runCron("*/5 * * * *");
    expect(livekit.calls.length).toBe(before);
  });

  it("deletes more rooms than one page at once", async () => {
    const t = await createTenant();
    const names = Array.from({ length: TEARDOWN_BATCH + 5 }, (_, i) => `room-${String(i).padStart(2, "0")}`);
    for (const name of names) expect((await call("POST", "/v1/rooms", { token: t.key.secret, body: { name } })).status).toBe(201);
    expect((await deleteAndWait(`/v1/projects/${t.project.id}`, t.user.token)).status).toBe(204);
    expect(deletedRoomsOf(t.project.id).sort()).toEqual(names.map((n) => `${t.project.id}:${n}`));
    expect(await rows("SELECT name FROM known_rooms WHERE project_id = ?", t.project.id)).toEqual([]);
  });

  it("forgets a room LiveKit no longer has and retries one LiveKit could not be reached for", async () => {
    const t = await createTenant();
    for (const name of ["gone", "kept"]) expect((await call("POST", "/v1/rooms", { token: t.key.secret, body: { name } })).status).toBe(201);
    livekit.rooms.delete(`${t.project.id}:gone`);
    livekit.failNext({ kind: "status", status: 503 });
    livekit.failNext({ kind: "status", status: 503 });
    expect((await deleteAndWait(`/v1/projects/${t.project.id}`, t.user.token)).status).toBe(204);
    const left = await rows("SELECT name FROM known_rooms WHERE project_id = ? ORDER BY name", t.project.id);
    expect(left.length).toBeGreaterThan(0);

    await runCron("*/5 * * * *");

    expect(livekit.rooms.has(`${t.project.id}:kept`)).toBe(false);
    expect(await rows("SELECT name FROM known_rooms WHERE project_id = ?", t.project.id)).toEqual([]);
    // Only the room LiveKit had is audited as deleted.
    const audit = await rows("SELECT resource_id FROM audit_logs WHERE project_id = ? AND action = 'room.deleted'", t.project.id);
    expect(audit).toEqual([{ resource_id: "kept" }]);
  });

  it("leaves other projects' egress, ingress and rooms alone", async () => {
    const a = await createTenant();
    const b = await createTenant();
    const bRunning = await startBoth(b.key.secret);
    await startBoth(a.key.secret);
    for (const t of [a, b]) expect((await call("POST", "/v1/rooms", { token: t.key.secret, body: { name: "live" } })).status).toBe(201);
    await deleteAndWait(`/v1/projects/${a.project.id}`, a.user.token);
    await runCron("*/5 * * * *");
    expect(deletedRoomsOf(a.project.id)).toEqual([`${a.project.id}:live`]);
    expect(deletedRoomsOf(b.project.id)).toEqual([]);
    expect(livekit.rooms.has(`${b.project.id}:live`)).toBe(true);
    expect(await rows("SELECT name FROM known_rooms WHERE project_id = ?", b.project.id)).toEqual([{ name: "live" }]);
    expect(livekit.callsTo("StopEgress").map((c) => c.body.egressId)).not.toContain(bRunning.egress.egress_id);
    expect(livekit.ingresses.has(bRunning.ingress.ingress_id)).toBe(true);
  });
});
