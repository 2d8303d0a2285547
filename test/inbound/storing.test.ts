/**
 * How the webhook route stores events that arrive together: one D1 insert for a group of them
 * (group commit), each request still answered only once its own row is stored. Real D1 behind a
 * pass-through binding that counts (and, where a test says so, holds or fails) the route's inserts.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { BASE } from "../support/api";
import { rows } from "../support/db";
import { createTenant } from "../support/factories";
import { eventBody, livekitJwt, participant } from "../support/livekit-webhook";
import { fetchWithEnv } from "../support/worker-env";

const INSERT_EVENTS = /^insert into "livekit_events"/i;

/** `env.DB`, passing everything through; each run of the route's insert is counted and goes through `gate` first. */
function insertWatchingDb(gate: (n: number) => Promise<void> = () => Promise.resolve()) {
  const watch = { inserts: 0 };
  const wrap = (statement: D1PreparedStatement): D1PreparedStatement =>
    new Proxy(statement, {
      get(target, prop) {
        if (prop === "bind") return (...args: unknown[]) => wrap(target.bind(...args));
        if (prop === "all" || prop === "run" || prop === "raw" || prop === "first") {
          return async (...args: unknown[]) => {
            await gate(++watch.inserts);
            return (target[prop] as (...a: unknown[]) => unknown).apply(target, args);
          };
        }
        const value = Reflect.get(target, prop) as unknown;
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
  const db = {
    prepare: (sql: string) => {
      const statement = env.DB.prepare(sql);
      return INSERT_EVENTS.test(sql) ? wrap(statement) : statement;
    },
    batch: (statements: D1PreparedStatement[]) => env.DB.batch(statements),
    exec: (sql: string) => env.DB.exec(sql),
  } as unknown as D1Database;
  return { db, watch };
}

async function webhookRequest(body: string): Promise<Request> {
  return new Request(`${BASE}/v1/livekit/webhook`, {
    method: "POST",
    headers: { "Content-Type": "application/webhook+json", Authorization: await livekitJwt(body), "CF-Connecting-IP": "192.0.2.91" },
    body,
  });
}

function joins(projectId: string, tag: string, count: number): string[] {
  const room = { sid: `RM_${tag}${Date.now().toString(36)}`, name: `${projectId}:${tag}` };
  return Array.from({ length: count }, (_, i) => eventBody({ event: "participant_joined", room, participant: participant(`PA_${tag}${i}_${room.sid}`, `${tag}${i}`, Date.now()) }));
}

const eventIdOf = (body: string) => (JSON.parse(body) as { id: string }).id;

describe("events arriving together", () => {
  it("are stored in a few shared inserts, every row exactly once, and of two copies sent at once one is the duplicate", async () => {
    const { project } = await createTenant();
    const bodies = joins(project.id, "grp", 24);
    // Every sixth event also arrives a second time, concurrently with its first copy.
    const sent = [...bodies, ...bodies.filter((_, i) => i % 6 === 0)];
    const { db, watch } = insertWatchingDb();
    const answers = await Promise.all(sent.map(async (body) => fetchWithEnv({ DB: db }, await webhookRequest(body))));
    expect(answers.map((r) => r.status)).toEqual(sent.map(() => 200));
    const results = (await Promise.all(answers.map((r) => r.json()))) as { received: boolean; duplicate: boolean }[];

    const stored = await rows<{ event_id: string; payload: string }>("SELECT event_id, payload FROM livekit_events WHERE room_name = ?", `${project.id}:grp`);
    expect(stored.map((r) => r.event_id).sort()).toEqual(bodies.map(eventIdOf).sort());
    // Byte for byte as LiveKit sent it, through the JSON the group travels in.
    expect(new Map(stored.map((r) => [r.event_id, r.payload]))).toEqual(new Map(bodies.map((b) => [eventIdOf(b), b])));
    for (const body of bodies) {
      const copies = sent.flatMap((b, i) => (b === body ? [results[i]!.duplicate] : []));
      expect(copies.filter((duplicate) => !duplicate)).toHaveLength(1);
    }
    // One insert per request would be 28; how many groups form depends on timing.
    expect(watch.inserts).toBeGreaterThan(0);
    expect(watch.inserts).toBeLessThan(sent.length / 2);
  });

  it("answers a replay of an event stored earlier as a duplicate and stores nothing", async () => {
    const { project } = await createTenant();
    const [body] = joins(project.id, "again", 1);
    const first = await fetchWithEnv({}, await webhookRequest(body!));
    const second = await fetchWithEnv({}, await webhookRequest(body!));
    expect(await first.json()).toEqual({ received: true, duplicate: false });
    expect(await second.json()).toEqual({ received: true, duplicate: true });
    expect(await rows("SELECT id FROM livekit_events WHERE event_id = ?", eventIdOf(body!))).toHaveLength(1);
  });

  it("fails every request of a group whose insert fails, so LiveKit sends them again, and the next ones are stored", async () => {
    const { project } = await createTenant();
    const bodies = joins(project.id, "fail", 6);
    const { db } = insertWatchingDb(() => Promise.reject(new Error("D1_ERROR: Network connection lost.")));
    const failed = await Promise.all(bodies.map(async (body) => fetchWithEnv({ DB: db }, await webhookRequest(body))));
    expect(failed.map((r) => r.status)).toEqual(bodies.map(() => 500));
    expect(((await failed[0]!.json()) as { error: { code: string } }).error.code).toBe("internal_error");
    expect(await rows("SELECT id FROM livekit_events WHERE room_name = ?", `${project.id}:fail`)).toEqual([]);

    const retried = await Promise.all(bodies.map(async (body) => fetchWithEnv({}, await webhookRequest(body))));
    expect(retried.map((r) => r.status)).toEqual(bodies.map(() => 200));
    expect(await rows("SELECT id FROM livekit_events WHERE room_name = ?", `${project.id}:fail`)).toHaveLength(6);
  });

  it("does not hold a request for long behind an insert that hangs: the next group goes on its own", async () => {
    const { project } = await createTenant();
    const [slow, next] = joins(project.id, "hang", 2);
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const { db, watch } = insertWatchingDb((n) => (n === 1 ? held : Promise.resolve()));
    const slowAnswer = fetchWithEnv({ DB: db }, await webhookRequest(slow!));
    while (watch.inserts === 0) await new Promise((r) => setTimeout(r, 5));
    const nextAnswer = await fetchWithEnv({ DB: db }, await webhookRequest(next!));
    expect(await nextAnswer.json()).toEqual({ received: true, duplicate: false });
    expect(await rows("SELECT id FROM livekit_events WHERE event_id = ?", eventIdOf(slow!))).toEqual([]);
    release();
    expect(await (await slowAnswer).json()).toEqual({ received: true, duplicate: false });
    expect(await rows("SELECT event_id FROM livekit_events WHERE room_name = ?", `${project.id}:hang`)).toHaveLength(2);
  });
});
