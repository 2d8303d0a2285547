/**
 * The safety net for LiveKit events whose queue send was lost (`requeueStoredEvents`, the
 * five-minute cron): every run puts stored, unprocessed events back on the inbound queue, and an
 * event that stays unprocessed through MAX_REQUEUES runs is given up on, logged once, and kept.
 * The queue here loses every send (as a lost send does), so the events stay unprocessed and the
 * ids each run sent are what the test reads.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createDb } from "../../src/db/client";
import { MAX_REQUEUES, requeueStoredEvents } from "../../src/inbound/service";
import { createLogger } from "../../src/lib/logger";
import { rows } from "../support/db";

/** A queue whose sends never arrive: records the stored ids each message carried. */
function losingQueue() {
  const sent: string[][] = [];
  const queue = {
    send: async () => undefined,
    sendBatch: async (messages: { body: { ids: string[] } }[]) => {
      sent.push(messages.flatMap((m) => m.body.ids));
    },
  } as unknown as Queue<unknown>;
  return { queue, sent: () => sent.flat() };
}

function recordingLogger() {
  const errors: { message: string; fields: Record<string, unknown> }[] = [];
  const logger = { ...createLogger(), error: (message: string, fields: Record<string, unknown> = {}) => void errors.push({ message, fields }) };
  return { logger, errors };
}

let seq = 0;
async function storeUnprocessed(requeues: number, receivedAt = Date.now() - 120_000) {
  const id = `lke_net${Date.now().toString(36)}${seq++}`;
  const eventId = `EV_net_${id}`;
  await env.DB.prepare("INSERT INTO livekit_events (id, event_id, event, payload, occurred_at, received_at, requeues) VALUES (?, ?, 'room_started', '{}', ?, ?, ?)")
    .bind(id, eventId, receivedAt, receivedAt, requeues)
    .run();
  return { id, eventId };
}

describe("the inbound safety net", () => {
  it("requeues unprocessed events, counts each requeue, and gives up on one still unprocessed after MAX_REQUEUES, once", async () => {
    const fresh = await storeUnprocessed(0);
    const worn = await storeUnprocessed(MAX_REQUEUES - 1);
    const recent = await storeUnprocessed(0, Date.now()); // its own send may still be on the way
    const db = createDb(env.DB);
    const ours = (ids: string[]) => ids.filter((id) => [fresh.id, worn.id, recent.id].includes(id)).sort();

    const first = losingQueue();
    const log1 = recordingLogger();
    await requeueStoredEvents({ db, inboundQueue: first.queue, logger: log1.logger });
    expect(ours(first.sent())).toEqual([fresh.id, worn.id].sort());
    expect(log1.errors).toEqual([]);

    // The worn event has now been requeued MAX_REQUEUES times: the next run gives up on it.
    const second = losingQueue();
    const log2 = recordingLogger();
    const result = await requeueStoredEvents({ db, inboundQueue: second.queue, logger: log2.logger });
    expect(ours(second.sent())).toEqual([fresh.id]);
    expect(result.abandoned).toBeGreaterThanOrEqual(1);
    expect(log2.errors.map((e) => e.message)).toEqual(["livekit_events_abandoned"]);
    expect(log2.errors[0]!.fields.event_ids).toContain(worn.eventId);

    const state = await rows<{ id: string; requeues: number; abandoned_at: number | null; processed_at: number | null }>(
      "SELECT id, requeues, abandoned_at, processed_at FROM livekit_events WHERE id IN (?, ?, ?) ORDER BY id",
      fresh.id,
      worn.id,
      recent.id,
    );
    const byId = new Map(state.map((r) => [r.id, r]));
    expect(byId.get(fresh.id)).toMatchObject({ requeues: 2, abandoned_at: null, processed_at: null });
    expect(byId.get(worn.id)).toMatchObject({ requeues: MAX_REQUEUES, processed_at: null });
    expect(byId.get(worn.id)!.abandoned_at).not.toBeNull();
    expect(byId.get(recent.id)).toMatchObject({ requeues: 0, abandoned_at: null });

    // Given up is final: neither sent nor logged again; the others carry on.
    const third = losingQueue();
    const log3 = recordingLogger();
    await requeueStoredEvents({ db, inboundQueue: third.queue, logger: log3.logger });
    expect(ours(third.sent())).toEqual([fresh.id]);
    expect(log3.errors.filter((e) => (e.fields.event_ids as string[] | undefined)?.includes(worn.eventId))).toEqual([]);
  });

  it("neither requeues nor gives up on an event that got processed, however often it was requeued", async () => {
    const worn = await storeUnprocessed(MAX_REQUEUES);
    await env.DB.prepare("UPDATE livekit_events SET processed_at = ? WHERE id = ?").bind(Date.now(), worn.id).run();
    const { queue, sent } = losingQueue();
    const { logger } = recordingLogger();
    await requeueStoredEvents({ db: createDb(env.DB), inboundQueue: queue, logger });
    expect(sent()).not.toContain(worn.id);
    expect(await rows("SELECT abandoned_at FROM livekit_events WHERE id = ?", worn.id)).toEqual([{ abandoned_at: null }]);
  });
});
