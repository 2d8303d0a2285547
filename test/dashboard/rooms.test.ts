import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { call } from "../support/api";
import { DashboardClient, hasForm } from "../support/dashboard";
import { createTenant, createUser } from "../support/factories";
import { useFakeLivekit } from "../support/fake-livekit";
import { join, left, roomStarted, wire } from "../support/rooms";
import { joinOrg } from "../support/team";

const livekit = useFakeLivekit();
const HOSTILE = "<img src=x onerror=alert(1)>";
const camera = { type: "VIDEO", source: "CAMERA", name: "cam", muted: false } as const;

/** A tenant with a live room `name` holding one participant with a camera track. */
async function liveRoom(name = "standup") {
  const t = await createTenant();
  const created = await call("POST", "/v1/rooms", { token: t.key.secret, body: { name } });
  expect(created.status, created.text).toBe(201);
  const alice = await join(livekit, t.project.id, name, { identity: "alice", name: "Alice", tracks: [camera] });
  const roomUrl = `/projects/${t.project.id}/rooms/${encodeURIComponent(name)}`;
  return { ...t, alice, roomUrl, state: livekit.rooms.get(wire(t.project.id, name))! };
}

async function roomAudit(projectId: string) {
  const { results } = await env.DB.prepare("SELECT action FROM audit_logs WHERE project_id = ? AND resource_type = 'room' ORDER BY created_at, rowid").bind(projectId).all<{ action: string }>();
  return results.map((r) => r.action);
}

describe("rooms in the dashboard", () => {
  it("lists the live rooms and shows a room's participants and tracks with the admin's actions", async () => {
    const { user, project, roomUrl, alice } = await liveRoom();
    const client = DashboardClient.signedIn(user.token);
    const list = await client.get(`/projects/${project.id}/rooms`);
    expect(list.status).toBe(200);
    expect(list.html).toContain(`href="${roomUrl}"`);
    expect(list.html).toContain('data-row="standup"');

    const room = await client.get(roomUrl);
    expect(room.status).toBe(200);
    expect(room.html).toContain('data-row="alice"');
    expect(room.html).toContain("camera");
    expect(hasForm(room.html, `${roomUrl}/participants/alice/mute`)).toBe(true);
    expect(room.html).toContain(`name="track_sid" value="${alice.tracks[0]!.sid}"`);
    expect(hasForm(room.html, `${roomUrl}/participants/alice/remove`)).toBe(true);
    expect(hasForm(room.html, `${roomUrl}/end`)).toBe(true);
    expect(room.html).toContain('data-confirm-text="standup"');
  });

  it("mutes and unmutes a track and removes a participant through LiveKit, audited", async () => {
    const { user, project, roomUrl, alice, state } = await liveRoom();
    const client = DashboardClient.signedIn(user.token);
    const track = alice.tracks[0]!.sid;
    const muted = await client.post(`${roomUrl}/participants/alice/mute`, { track_sid: track, muted: "true" }, { from: roomUrl });
    expect(muted.status).toBe(303);
    expect(muted.location).toBe(roomUrl);
    expect(state.participants.get("alice")!.tracks[0]!.muted).toBe(true);
    const page = await client.get(roomUrl);
    expect(page.html).toContain("Track muted.");
    expect(page.html).toContain('name="muted" value="false"');

    await client.post(`${roomUrl}/participants/alice/mute`, { track_sid: track, muted: "false" }, { from: roomUrl });
    expect(state.participants.get("alice")!.tracks[0]!.muted).toBe(false);

    const removed = await client.post(`${roomUrl}/participants/alice/remove`, {}, { from: roomUrl });
    expect(removed.status).toBe(303);
    expect(state.participants.has("alice")).toBe(false);
    expect(await roomAudit(project.id)).toEqual(["room.created", "participant.muted", "participant.muted", "participant.removed"]);
  });

  it("ends a room only when its name is typed exactly", async () => {
    const { user, project, roomUrl } = await liveRoom();
    const client = DashboardClient.signedIn(user.token);
    const mistyped = await client.post(`${roomUrl}/end`, { confirm: "Standup" }, { from: roomUrl });
    expect(mistyped.status).toBe(400);
    expect(mistyped.html).toContain('id="f-confirm-error"');
    expect(livekit.rooms.has(wire(project.id, "standup"))).toBe(true);

    const ended = await client.post(`${roomUrl}/end`, { confirm: "standup" }, { from: roomUrl });
    expect(ended.status).toBe(303);
    expect(ended.location).toBe(`/projects/${project.id}/rooms`);
    expect(livekit.rooms.has(wire(project.id, "standup"))).toBe(false);
    expect(await roomAudit(project.id)).toContain("room.deleted");
  });

  it("shows a viewer the rooms without any form, and refuses the viewer's forged POSTs with 403", async () => {
    const { user, org, roomUrl, alice, state, project } = await liveRoom();
    const viewer = DashboardClient.signedIn((await joinOrg(user, org.id, "viewer")).token);
    const page = await viewer.get(roomUrl);
    expect(page.status).toBe(200);
    expect(page.html).toContain('data-row="alice"');
    expect(page.html).not.toContain('method="post" action="/projects/');
    for (const [action, fields] of [
      [`${roomUrl}/participants/alice/mute`, { track_sid: alice.tracks[0]!.sid, muted: "true" }],
      [`${roomUrl}/participants/alice/remove`, {}],
      [`${roomUrl}/end`, { confirm: "standup" }],
    ] as const) {
      const res = await viewer.post(action, fields, { from: roomUrl });
      expect(res.status, action).toBe(403);
    }
    expect(state.participants.get("alice")!.tracks[0]!.muted).toBe(false);
    expect(livekit.rooms.has(wire(project.id, "standup"))).toBe(true);
    expect(livekit.callsTo("MutePublishedTrack")).toHaveLength(0);
  });

  it("answers 404 for another org's rooms and sessions, and never asks LiveKit about them", async () => {
    const { project, roomUrl } = await liveRoom();
    const stranger = DashboardClient.signedIn((await createUser()).token);
    const calls = livekit.calls.length;
    for (const path of [`/projects/${project.id}/rooms`, roomUrl, `/projects/${project.id}/sessions`]) {
      expect((await stranger.get(path)).status, path).toBe(404);
    }
    expect((await stranger.post(`${roomUrl}/end`, { confirm: "standup" }, { from: "/account" })).status).toBe(404);
    expect(livekit.calls.length).toBe(calls);
    expect(livekit.rooms.has(wire(project.id, "standup"))).toBe(true);
  });

  it("says LiveKit did not answer instead of failing the page, and shows a failed action as a message", async () => {
    const { user, project, roomUrl } = await liveRoom();
    const client = DashboardClient.signedIn(user.token);
    livekit.failNext({ kind: "status", status: 503, body: "<html>upstream connect error</html>" });
    const list = await client.get(`/projects/${project.id}/rooms`);
    expect(list.status).toBe(200);
    expect(list.html).toContain("LiveKit did not answer");
    expect(list.html).not.toContain("upstream connect error");

    const csrf = await client.csrf("/account");
    livekit.failNext({ kind: "network" });
    const removed = await client.post(`${roomUrl}/participants/alice/remove`, {}, { csrf });
    expect(removed.status).toBe(303);
    const after = await client.get(roomUrl);
    expect(after.html).toContain("flash-bad");
    expect(after.html).toContain('data-row="alice"');
  });

  it("escapes a room and a participant named <img src=x onerror=alert(1)>", async () => {
    const { user, project, roomUrl } = await liveRoom(HOSTILE);
    await join(livekit, project.id, HOSTILE, { identity: HOSTILE, tracks: [] });
    const client = DashboardClient.signedIn(user.token);
    for (const path of [`/projects/${project.id}/rooms`, roomUrl]) {
      const page = await client.get(path);
      expect(page.status, path).toBe(200);
      expect(page.html).not.toContain("<img src=x");
      expect(page.html).toContain("&lt;img src=x onerror=alert(1)&gt;");
    }
  });
});

describe("sessions history in the dashboard", () => {
  it("lists a room's sessions with participants and minutes, and shows each participant's minutes", async () => {
    const t = await createTenant();
    expect((await call("POST", "/v1/rooms", { token: t.key.secret, body: { name: "daily" } })).status).toBe(201);
    const start = Date.now() - 10 * 60_000;
    await roomStarted(livekit, t.project.id, "daily", start);
    const bob = await join(livekit, t.project.id, "daily", { identity: "bob", name: "Bob <b>" }, start + 1000);
    await left(livekit.rooms.get(wire(t.project.id, "daily"))!, bob, start + 1000, start + 1000 + 3 * 60_000);
    const viewer = DashboardClient.signedIn((await joinOrg(t.user, t.org.id, "viewer")).token);

    const list = await viewer.get(`/projects/${t.project.id}/sessions`);
    expect(list.status).toBe(200);
    const id = /data-row="(rs_[^"]+)"/.exec(list.html)?.[1];
    expect(id).toBeTruthy();
    expect(list.html).toContain("3 min");
    const detail = await viewer.get(`/projects/${t.project.id}/sessions/${id}`);
    expect(detail.status).toBe(200);
    expect(detail.html).toContain("Bob &lt;b&gt;");
    expect(detail.html).toMatch(/<td>bob<\/td>|>bob</);
    expect(detail.html).toContain("3 min");
    const api = await call("GET", `/v1/projects/${t.project.id}/sessions/${id}`, { token: t.user.token });
    expect(api.body.participants[0].minutes).toBe(3);
  });

  it("pages sessions newest first with a cursor and filters them by room", async () => {
    const t = await createTenant();
    const at = Date.now() - 3600_000;
    const rows = Array.from({ length: 52 }, (_, i) =>
      env.DB.prepare("INSERT INTO room_sessions (id, project_id, org_id, room, room_sid, started_at, ended_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)").bind(
        `rs_page${String(i).padStart(3, "0")}${t.project.id.slice(5, 12)}`,
        t.project.id,
        t.org.id,
        i === 0 ? "other-room" : "busy-room",
        null,
        at + i * 1000,
        at + i * 1000 + 500,
        at,
        at,
      ),
    );
    await env.DB.batch(rows);
    const client = DashboardClient.signedIn(t.user.token);
    const base = `/projects/${t.project.id}/sessions`;
    const first = await client.get(base);
    const ids = (html: string) => [...html.matchAll(/data-row="(rs_[^"]+)"/g)].map((m) => m[1]!);
    expect(ids(first.html)).toHaveLength(50);
    expect(ids(first.html)[0]).toContain("page051");
    const older = /href="([^"]+cursor=[^"]+)">Older/.exec(first.html)?.[1]?.replace(/&amp;/g, "&");
    expect(older).toBeTruthy();
    const second = await client.get(older!);
    expect(ids(second.html).map((id) => id.slice(0, 10))).toEqual(["rs_page001", "rs_page000"]);

    const filtered = await client.get(`${base}?room=other-room`);
    expect(ids(filtered.html)).toHaveLength(1);
    expect(filtered.html).toContain("other-room");
  });

  it("answers 404 for another project's session id", async () => {
    const a = await createTenant();
    const b = await createTenant();
    await env.DB.prepare("INSERT INTO room_sessions (id, project_id, org_id, room, started_at, created_at, updated_at) VALUES (?, ?, ?, 'r', 1, 1, 1)")
      .bind(`rs_x${a.project.id.slice(5)}`, a.project.id, a.org.id)
      .run();
    const res = await DashboardClient.signedIn(b.user.token).get(`/projects/${b.project.id}/sessions/rs_x${a.project.id.slice(5)}`);
    expect(res.status).toBe(404);
  });
});
