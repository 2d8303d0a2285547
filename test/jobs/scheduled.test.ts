import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { eq } from "drizzle-orm";
import { createDb, runBatch } from "../../src/db/client";
import { participantSessions } from "../../src/db/schema";
import { CRON_JOBS } from "../../src/jobs/scheduled";
import { closeSession, sessionStatements } from "../../src/usage/participant-sessions";
import { call } from "../support/api";
import { createTenant } from "../support/factories";
import { eventId, participant, processedEvent, secs, sendEvent, sessionsOf } from "../support/livekit-webhook";
import { createEndpoint, fakeReceiver, messageRow, pendingMessage, receiverHost } from "../support/webhook-receiver";
import { rows } from "../support/db";
import { runCron } from "../support/cron";

const HOUR = 3600_000;

afterEach(() => {
  vi.restoreAllMocks();
});

describe("scheduled jobs", () => {
  it("re-enqueues a webhook message whose queue send was lost, and it gets delivered", async () => {
    const { user, project } = await createTenant();
    const host = receiverHost();
    const received = fakeReceiver(host, [200]);
    const endpoint = await createEndpoint(user.token, project.id, { url: `https://${host}/lost` });
    const msg = await pendingMessage(project.id, endpoint.id); // written, never enqueued
    await env.DB.prepare("UPDATE webhook_messages SET next_attempt_at = ? WHERE id = ?").bind(Date.now() - 20 * 60_000, msg.id).run();
    await runCron("*/5 * * * *");
    await vi.waitFor(async () => expect((await messageRow(msg.id)).status).toBe("delivered"), { timeout: 15_000, interval: 100 });
    expect(received.map((r) => r.headers["webhook-id"])).toEqual([msg.id]);
  });

  it("maps exactly wrangler.toml's cron expressions", async () => {
    // Kept in sync by hand; this catches a drift in either direction.
    expect(Object.keys(CRON_JOBS).sort()).toEqual(["*/5 * * * *", "17 3 * * *", "7 * * * *"].sort());
  });

  it("closes a session whose leave and room end were lost at the room's last sign of life, and meters it", async () => {
    const { project } = await createTenant();
    const room = { sid: "RM_stale", name: `${project.id}:stale` };
    const joined = Date.now() - 30 * HOUR;
    await sendEvent({ event: "participant_joined", createdAt: secs(joined), room, participant: participant("PA_stale", "s", joined) });
    await sendEvent({ event: "track_published", createdAt: secs(joined + HOUR), room, participant: participant("PA_stale", "s", joined), track: { sid: "TR_s" } });
    const fresh = Date.now() - HOUR;
    const otherRoom = { sid: "RM_other", name: `${project.id}:other` };
    await sendEvent({ event: "participant_joined", createdAt: secs(fresh), room: otherRoom, participant: participant("PA_fresh", "f", fresh) });

    await runCron("*/5 * * * *");
    const sessions = await sessionsOf(project.id);
    const stale = sessions.find((s) => s.participant_sid === "PA_stale")!;
    expect(stale).toMatchObject({ end_reason: "timeout", minutes: 60, left_at: Math.floor((joined + HOUR) / 1000) * 1000 });
    expect(sessions.find((s) => s.participant_sid === "PA_fresh")).toMatchObject({ left_at: null });
    expect((await rows("SELECT quantity FROM usage_events WHERE project_id = ? AND source_id = 'PA_stale'", project.id))[0]).toEqual({ quantity: 60 });
  });

  it("gives a session the timeout closed its real end when that arrives later, metering only the minutes beyond", async () => {
    const { project, key } = await createTenant();
    const tag = crypto.randomUUID().slice(0, 8);
    const room = { sid: `RM_long${tag}`, name: `${project.id}:long` };
    const joined = Date.now() - 30 * HOUR;
    const agent = participant(`PA_agent${tag}`, "agent", joined);
    const guest = participant(`PA_guest${tag}`, "guest", joined);
    const early = participant(`PA_early${tag}`, "early", joined);
    for (const p of [agent, guest, early]) await sendEvent({ event: "participant_joined", createdAt: secs(joined), room, participant: p });
    await sendEvent({ event: "track_published", createdAt: secs(joined + HOUR), room, participant: agent, track: { sid: `TR_${tag}` } });

    await runCron("*/5 * * * *");
    const timedOut = await sessionsOf(project.id);
    expect(timedOut.map((s) => [s.identity, s.end_reason, s.minutes])).toEqual([
      ["agent", "timeout", 60],
      ["guest", "timeout", 60],
      ["early", "timeout", 60],
    ]);
    // The room session's minutes follow the timeout's closes.
    const roomSession = async () => (await call("GET", "/v1/sessions?room=long", { token: key.secret })).body.data[0];
    expect((await roomSession()).participant_minutes).toBe(180);

    // The agent really leaves 29½ h after joining; the room ends at 29¾ h, ending the guest; the
    // early one's real leave (half an hour in) is earlier than the timeout's end: it keeps the metered
    // end, takes the real reason, and the room's end no longer extends it.
    const leave = { event: "participant_left", createdAt: secs(joined + 29.5 * HOUR), room, participant: agent };
    await sendEvent(leave);
    await sendEvent({ ...leave, id: undefined, createdAt: secs(joined + 29.5 * HOUR) }); // a second copy under another id
    await sendEvent({ event: "participant_left", createdAt: secs(joined + HOUR / 2), room, participant: early });
    await sendEvent({ event: "room_finished", createdAt: secs(joined + 29.75 * HOUR), room });

    const ended = await sessionsOf(project.id);
    expect(ended.map((s) => [s.identity, s.end_reason, s.minutes])).toEqual([
      ["agent", "left", 1770],
      ["guest", "room_finished", 1785],
      ["early", "left", 60],
    ]);
    const metered = await rows<{ source_id: string; quantity: number }>("SELECT source_id, quantity FROM usage_events WHERE project_id = ? ORDER BY source_id", project.id);
    expect(metered).toEqual(
      [
        { source_id: agent.sid, quantity: 60 },
        { source_id: `${agent.sid}:after-timeout`, quantity: 1710 },
        { source_id: early.sid, quantity: 60 },
        { source_id: guest.sid, quantity: 60 },
        { source_id: `${guest.sid}:after-timeout`, quantity: 1725 },
      ].sort((a, b) => (a.source_id < b.source_id ? -1 : 1)),
    );
    expect((await roomSession()).participant_minutes).toBe(1770 + 1785 + 60);
  });

  it("meters a timed-out session's real end once when two race (a late leave and its room's end, read before either committed)", async () => {
    const { project, org } = await createTenant();
    const tag = crypto.randomUUID().slice(0, 8);
    const room = { sid: `RM_race${tag}`, name: `${project.id}:race` };
    const joined = Date.now() - 30 * HOUR;
    const p = participant(`PA_race${tag}`, "racer", joined);
    await sendEvent({ event: "participant_joined", createdAt: secs(joined), room, participant: p });
    await sendEvent({ event: "track_published", createdAt: secs(joined + HOUR), room, participant: p, track: { sid: `TR_${tag}` } });
    await runCron("*/5 * * * *");
    const db = createDb(env.DB);
    const timedOut = (await db.select().from(participantSessions).where(eq(participantSessions.participantSid, p.sid)).get())!;
    expect(timedOut).toMatchObject({ endReason: "timeout", minutes: 60 });
    // Two batches read the timed-out session, then commit one after the other: a leave before the
    // timeout's end (it only takes the reason), then the room's end hours later (its update finds
    // the session no longer the timeout's).
    const ref = { projectId: project.id, orgId: org.id };
    const who = { room: "race", roomSid: room.sid, participantSid: p.sid, identity: "racer" };
    const leave = await closeSession(db, ref, who, { joinedAt: joined, leftAt: joined + HOUR / 2 }, "left", timedOut);
    const roomEnd = await closeSession(db, ref, who, { joinedAt: joined, leftAt: joined + 29 * HOUR }, "room_finished", timedOut);
    await runBatch(db, sessionStatements(db, [leave]));
    await runBatch(db, sessionStatements(db, [roomEnd]));
    expect((await sessionsOf(project.id)).map((s) => [s.end_reason, s.minutes])).toEqual([["left", 60]]);
    expect(await rows("SELECT source_id, quantity FROM usage_events WHERE project_id = ?", project.id)).toEqual([{ source_id: p.sid, quantity: 60 }]);
  });

  it("re-enqueues an event that was stored but never processed, and the inbound consumer finishes it", async () => {
    const { project } = await createTenant();
    const id = eventId();
    const payload = JSON.stringify({ event: "participant_joined", id, createdAt: secs(Date.now()), room: { name: `${project.id}:r` }, participant: { sid: "PA_re", identity: "r" } });
    await env.DB.prepare("INSERT INTO livekit_events (id, event_id, event, room_name, payload, occurred_at, received_at) VALUES (?, ?, 'participant_joined', ?, ?, ?, ?)")
      .bind(`lke_${id}`, id, `${project.id}:r`, payload, Date.now(), Date.now() - 5 * 60_000)
      .run();
    await runCron("*/5 * * * *");
    await processedEvent(id);
    expect((await sessionsOf(project.id)).map((s) => s.participant_sid)).toEqual(["PA_re"]);
    const [row] = await rows("SELECT project_id, processed_at FROM livekit_events WHERE event_id = ?", id);
    expect(row!.project_id).toBe(project.id);
    expect(row!.processed_at).not.toBeNull();
  });

  it("disables endpoints failing for more than 5 days, audited as the system, and leaves the others", async () => {
    const { user, org, project } = await createTenant();
    const old = await createEndpoint(user.token, project.id, { url: "https://old.example.com/" });
    const recent = await createEndpoint(user.token, project.id, { url: "https://recent.example.com/" });
    await env.DB.batch([
      env.DB.prepare("UPDATE webhook_endpoints SET failing_since = ? WHERE id = ?").bind(Date.now() - 6 * 24 * HOUR, old.id),
      env.DB.prepare("UPDATE webhook_endpoints SET failing_since = ? WHERE id = ?").bind(Date.now() - 4 * 24 * HOUR, recent.id),
    ]);
    await runCron("7 * * * *");
    const get = (id: string) => call("GET", `/v1/projects/${project.id}/webhooks/${id}`, { token: user.token });
    expect((await get(old.id)).body).toMatchObject({ enabled: false, disabled_reason: expect.stringMatching(/5 days/) });
    expect((await get(recent.id)).body.enabled).toBe(true);
    const audit = await call("GET", `/v1/orgs/${org.id}/audit-logs?action=webhook_endpoint.disabled`, { token: user.token });
    expect(audit.body.data.map((a: any) => a.resource_id)).toEqual([old.id]);
  });
});
