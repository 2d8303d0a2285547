/**
 * Records follow LiveKit's webhooks, delivered through the real `POST /v1/livekit/webhook` and
 * signed the way a LiveKit server signs them; minutes are metered once the stream has ended.
 */
import { describe, expect, it } from "vitest";
import { call } from "../support/api";
import { createTenant } from "../support/factories";
import { useFakeLivekit } from "../support/fake-livekit";
import { deliverLivekitEvent, ns, storedEvents, usageEventsOf } from "../support/livekit-webhook";

const livekit = useFakeLivekit();

const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");

const usage = usageEventsOf;
const deliver = deliverLivekitEvent;

describe("ingress lifecycle from LiveKit's webhooks", () => {
  it("shows each publishing session and meters every ended one once", async () => {
    const t = await createTenant();
    const created = await call("POST", "/v1/ingress", { token: t.key.secret, body: { input_type: "rtmp", room: "stage", participant_identity: "obs" } });
    const ingressId = created.body.ingress_id;
    const wireRoom = `${t.project.id}:stage`;
    const info = (state: Record<string, unknown>) => ({ ingressId, roomName: wireRoom, inputType: "RTMP_INPUT", participantIdentity: "obs", state });
    const t0 = Math.floor(Date.now() / 1000) * 1000 - 30 * 60_000;

    // LiveKit's event carries the stream key: processed, but never stored in the clear.
    const started = { event: "ingress_started", id: `EV_started_${ingressId}`, ingressInfo: { ...info({ status: "ENDPOINT_PUBLISHING", startedAt: ns(t0) }), streamKey: created.body.stream_key } };
    await deliver(started);
    let got = await call("GET", `/v1/ingress/${created.body.id}`, { token: t.key.secret });
    expect(got.body).toMatchObject({ status: "ENDPOINT_PUBLISHING", started_at: iso(t0), ended_at: null });
    expect(got.body.stream_key).toBe(created.body.stream_key);
    const [stored] = await storedEvents(started.id);
    expect(stored!.payload).not.toContain(created.body.stream_key);
    expect(JSON.parse(stored!.payload)).toMatchObject({ event: "ingress_started", id: started.id, ingressInfo: { ingressId, roomName: wireRoom, state: { startedAt: ns(t0) } } });

    // 61 s: 2 minutes. The ended state leaves status at its default (omitted = ENDPOINT_INACTIVE).
    const firstEnd = { event: "ingress_ended", ingressInfo: info({ startedAt: ns(t0), endedAt: ns(t0 + 61_000) }) };
    await deliver(firstEnd);
    got = await call("GET", `/v1/ingress/${created.body.id}`, { token: t.key.secret });
    expect(got.body).toMatchObject({ status: "ENDPOINT_INACTIVE", started_at: iso(t0), ended_at: iso(t0 + 61_000) });

    // The same key publishes again later: a second session, metered on its own.
    const t1 = t0 + 10 * 60_000;
    await deliver({ event: "ingress_started", ingressInfo: info({ status: "ENDPOINT_PUBLISHING", startedAt: ns(t1) }) });
    await deliver({ event: "ingress_ended", ingressInfo: info({ status: "ENDPOINT_ERROR", error: "stream timed out", startedAt: ns(t1), endedAt: ns(t1 + 5_000) }) });
    // A late copy of the first session's end neither rewinds the record nor bills again.
    await deliver({ ...firstEnd, id: "EV_late_copy_" + ingressId });
    got = await call("GET", `/v1/ingress/${created.body.id}`, { token: t.key.secret });
    // LiveKit's error text is replaced by a fixed one (ingress/errors.ts).
    expect(got.body).toMatchObject({ status: "ENDPOINT_ERROR", error: "ingress failed", started_at: iso(t1), ended_at: iso(t1 + 5_000) });
    expect(await usage(t.project.id, "ingress_minutes")).toEqual([
      { quantity: 2, source_id: `${ingressId}:${t0}`, occurred_at: t0 + 61_000 },
      { quantity: 1, source_id: `${ingressId}:${t1}`, occurred_at: t1 + 5_000 },
    ]);
  });
});
