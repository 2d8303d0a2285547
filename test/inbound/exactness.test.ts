/**
 * Nothing lost, nothing counted twice: signed LiveKit webhooks (two projects, four rooms, replays,
 * leaves sent before their joins) go through the real route, the real inbound queue and
 * its consumer, and the real delivery queue. The expected sessions, minutes and deliveries are
 * those of a slow serial run of the same events, computed here from the generated times alone.
 * The consumer's throughput at scale is `npm run bench`'s to show.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import { rows } from "../support/db";
import { createTenant } from "../support/factories";
import { livekitJwt, participant, postWebhook, secs } from "../support/livekit-webhook";
import { createEndpoint, fakeReceiver, receiverHost } from "../support/webhook-receiver";

afterEach(() => {
  vi.restoreAllMocks();
});

const SENDS = 1000;
const ROOMS_PER_PROJECT = 7;
const PARTICIPANTS_PER_ROOM = 26;
const T0 = Date.UTC(2026, 10, 30, 8, 0, 0);

/** A small deterministic PRNG, so a failure reproduces. */
function prng(seed: number) {
  let x = seed;
  return (n: number) => {
    x = (x * 1103515245 + 12345) % 2147483648;
    return x % n;
  };
}

interface Planned {
  body: string;
  at: number;
  /** Set for a participant's leave: the index of its join in the send order, to swap with. */
  pair?: string;
}

interface Expected {
  minutesBySid: Map<string, number>;
  roomMinutes: Map<string, number>;
  uniqueByType: Map<string, number>;
}

function planProject(projectId: string, tag: string, random: (n: number) => number, expected: Expected): Planned[] {
  const events: Planned[] = [];
  let n = 0;
  const add = (event: Record<string, unknown>, at: number, pair?: string) => {
    const body = JSON.stringify({ id: `EV_${tag}${n++}`, createdAt: secs(at), ...event });
    events.push({ body, at, pair });
    const type = String(event.event).replace("_", ".");
    expected.uniqueByType.set(type, (expected.uniqueByType.get(type) ?? 0) + 1);
  };
  for (let r = 0; r < ROOMS_PER_PROJECT; r++) {
    const roomName = r === 0 ? "Salle ☕ «café» / 1" : `room-${r}`;
    const room = { sid: `RM_${tag}${r}`, name: `${projectId}:${roomName}` };
    const start = T0 + r * 7_000;
    add({ event: "room_started", room }, start);
    let lastLeave = start;
    const open: { sid: string; joined: number }[] = [];
    let total = 0;
    for (let p = 0; p < PARTICIPANTS_PER_ROOM; p++) {
      const sid = `PA_${tag}${r}_${p}`;
      const joined = start + (1 + random(900)) * 1000;
      const who = participant(sid, `user ${p}`, joined);
      add({ event: "participant_joined", room, participant: who }, joined);
      if (random(3) === 0) add({ event: "track_published", room, participant: who, track: { sid: `TR_${sid}`, type: "AUDIO", source: "MICROPHONE" } }, joined + 1000);
      if (p % 6 === 5) {
        open.push({ sid, joined }); // never leaves: the room's end closes it
        continue;
      }
      const left = joined + (1 + random(3600)) * 1000;
      lastLeave = Math.max(lastLeave, left);
      add({ event: random(8) === 0 ? "participant_connection_aborted" : "participant_left", room, participant: who }, left, sid);
      const minutes = Math.ceil((left - joined) / 60_000);
      expected.minutesBySid.set(sid, minutes);
      total += minutes;
    }
    const finished = lastLeave + 60_000;
    for (const o of open) {
      const minutes = Math.ceil((finished - o.joined) / 60_000);
      expected.minutesBySid.set(o.sid, minutes);
      total += minutes;
    }
    add({ event: "room_finished", room }, finished);
    expected.roomMinutes.set(`${projectId}/${roomName}`, total);
  }
  return events;
}

describe("1,000 signed LiveKit events through the route and the real queues", () => {
  it("give exactly the sessions, minutes and deliveries of a slow serial run", { timeout: 900_000 }, async () => {
    const tenants = [await createTenant(), await createTenant()];
    const host = receiverHost();
    const received = fakeReceiver(host, [200]);
    for (const [i, t] of tenants.entries()) await createEndpoint(t.user.token, t.project.id, { url: `https://${host}/project-${i}` });

    const random = prng(20261201);
    const run = Date.now().toString(36);
    const expected: Expected[] = tenants.map(() => ({ minutesBySid: new Map(), roomMinutes: new Map(), uniqueByType: new Map() }));
    const unique = tenants
      .flatMap((t, i) => planProject(t.project.id, `x${run}p${i}_`, random, expected[i]!))
      .sort((a, b) => a.at - b.at);
    expect(unique.length).toBeGreaterThan(700);
    expect(unique.length).toBeLessThan(SENDS);

    // LiveKit's order, except that a third of the leaves overtake their joins.
    const order = [...unique];
    for (const leave of order.filter((e) => e.pair && random(3) === 0)) {
      const li = order.indexOf(leave);
      const ji = order.findIndex((e) => !e.pair && e.body.includes(`"participant_joined"`) && e.body.includes(`"sid":"${leave.pair}"`));
      [order[li], order[ji]] = [order[ji]!, order[li]!];
    }
    // LiveKit's retries: replays of events already sent, until there are SENDS sends.
    const sends = order.map((e) => e.body);
    while (sends.length < SENDS) {
      const at = 1 + random(sends.length);
      sends.splice(at, 0, sends[random(at)]!);
    }

    const answers: { status: number; duplicate: boolean }[] = [];
    for (let i = 0; i < sends.length; i += 25) {
      const slice = sends.slice(i, i + 25);
      const responses = await Promise.all(slice.map(async (body) => postWebhook(body, await livekitJwt(body), "192.0.2.90")));
      answers.push(...responses.map((r) => ({ status: r.status, duplicate: r.body.duplicate })));
    }
    expect(answers.filter((a) => a.status !== 200)).toEqual([]);
    expect(answers.filter((a) => !a.duplicate).length).toBe(unique.length);
    expect(answers.filter((a) => a.duplicate).length).toBe(SENDS - unique.length);

    const pending = () => rows<{ n: number }>("SELECT COUNT(*) AS n FROM livekit_events WHERE event_id LIKE ? AND processed_at IS NULL", `EV_x${run}%`);
    await vi.waitFor(async () => expect((await pending())[0]!.n).toBe(0), { timeout: 400_000, interval: 1000 });
    expect((await rows<{ n: number }>("SELECT COUNT(*) AS n FROM livekit_events WHERE event_id LIKE ?", `EV_x${run}%`))[0]!.n).toBe(unique.length);

    for (const [i, t] of tenants.entries()) {
      const want = expected[i]!;
      const sessions = await rows<{ participant_sid: string; minutes: number | null }>("SELECT participant_sid, minutes FROM participant_sessions WHERE project_id = ?", t.project.id);
      expect(new Map(sessions.map((s) => [s.participant_sid, s.minutes]))).toEqual(want.minutesBySid);
      const usage = await rows<{ source_id: string; quantity: number }>("SELECT source_id, quantity FROM usage_events WHERE project_id = ? AND meter = 'participant_minutes'", t.project.id);
      expect(new Map(usage.map((u) => [u.source_id, u.quantity]))).toEqual(want.minutesBySid);
      const roomSessions = await rows<{ room: string; participant_minutes: number; participant_count: number; ended_at: number | null }>(
        "SELECT room, participant_minutes, participant_count, ended_at FROM room_sessions WHERE project_id = ?",
        t.project.id,
      );
      expect(new Map(roomSessions.map((r) => [`${t.project.id}/${r.room}`, r.participant_minutes]))).toEqual(want.roomMinutes);
      expect(roomSessions.every((r) => r.participant_count === PARTICIPANTS_PER_ROOM && r.ended_at !== null)).toBe(true);
    }

    // One delivery per unique event and endpoint, each message once, each project only its own.
    const total = expected.reduce((sum, e) => sum + [...e.uniqueByType.values()].reduce((a, b) => a + b, 0), 0);
    await vi.waitFor(() => expect(received.length).toBeGreaterThanOrEqual(total), { timeout: 400_000, interval: 1000 });
    await new Promise((r) => setTimeout(r, 500)); // anything extra would arrive now
    expect(received.length).toBe(total);
    expect(new Set(received.map((r) => r.headers["webhook-id"])).size).toBe(total);
    for (const [i, t] of tenants.entries()) {
      const mine = received.filter((r) => new URL(r.url).pathname === `/project-${i}`).map((r) => JSON.parse(r.body) as { type: string; data: { room?: { name: string } } });
      const byType = new Map<string, number>();
      for (const m of mine) byType.set(m.type, (byType.get(m.type) ?? 0) + 1);
      const want = new Map(
        [...expected[i]!.uniqueByType].reduce<[string, number][]>((acc, [type, n]) => {
          const tenantType = type === "participant.connection_aborted" ? "participant.left" : type;
          const existing = acc.find(([k]) => k === tenantType);
          if (existing) existing[1] += n;
          else acc.push([tenantType, n]);
          return acc;
        }, []),
      );
      expect(byType).toEqual(want);
      expect(mine.every((m) => !JSON.stringify(m).includes(t.project.id))).toBe(true);
    }
    const messages = await rows<{ n: number }>(
      "SELECT COUNT(*) AS n FROM webhook_messages WHERE project_id IN (?, ?) AND status = 'delivered'",
      tenants[0]!.project.id,
      tenants[1]!.project.id,
    );
    expect(messages[0]!.n).toBe(total);
  });
});
