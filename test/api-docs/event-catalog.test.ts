/// <reference types="vite/client" />
/**
 * The event reference in docs/webhooks.md is generated: the block between its
 * `<!-- event-catalog:start -->` and `<!-- event-catalog:end -->` markers must equal what
 * `renderEventCatalog` makes of the catalog the code sends from. When an event type or its body
 * changes, this test fails and prints the block to paste.
 */
import { describe, expect, it } from "vitest";
import { WEBHOOK_EVENT_CATALOG } from "../../src/webhooks/event-catalog";
import { tenantEventFor, WEBHOOK_EVENT_TYPES } from "../../src/webhooks/event-types";
import type { LivekitWebhookEvent } from "../../src/livekit/webhook-event";

const webhooksDoc = Object.values(import.meta.glob("../../docs/webhooks.md", { query: "?raw", import: "default", eager: true }))[0] as string;

interface CatalogEntry {
  type: string;
  description: string;
  example: { type: string; timestamp: string; data: Record<string, unknown> };
}

const AT = Date.parse("2026-11-28T16:00:00Z");
const PROJECT = "proj_3kT9xYz";
const ROOM = { sid: "RM_hK2vZ8tQ3nXa", name: `${PROJECT}:standup` };
const PARTICIPANT = { sid: "PA_7yFq2LcWm9Rb", identity: "alice", name: "Alice", metadata: "", joinedAt: "1795881521" };
const SAMPLES: Record<string, [string, Record<string, unknown>]> = {
  "room.started": ["A room started.", { event: "room_started", room: ROOM }],
  "room.finished": ["A room ended.", { event: "room_finished", room: ROOM }],
  "participant.joined": ["A participant connected to a room.", { event: "participant_joined", room: ROOM, participant: PARTICIPANT }],
  "participant.left": ["A participant left a room (`data.reason` is `connection_aborted` when LiveKit lost the connection).", { event: "participant_left", room: ROOM, participant: PARTICIPANT }],
  "track.published": ["A participant published a track.", { event: "track_published", room: ROOM, participant: PARTICIPANT, track: { sid: "TR_AMkQ3wYp8Jd2", type: "VIDEO", source: "CAMERA", name: "camera", mimeType: "video/VP8" } }],
  "track.unpublished": ["A participant stopped publishing a track.", { event: "track_unpublished", room: ROOM, participant: PARTICIPANT, track: { sid: "TR_AMkQ3wYp8Jd2", type: "VIDEO", source: "CAMERA", name: "camera", mimeType: "video/VP8" } }],
  "egress.started": ["A recording or stream (egress) started.", { event: "egress_started", egressInfo: { egressId: "EG_bX4nP9sKe2Lm", roomName: ROOM.name, status: "EGRESS_STARTING" } }],
  "egress.updated": ["An egress changed status.", { event: "egress_updated", egressInfo: { egressId: "EG_bX4nP9sKe2Lm", roomName: ROOM.name, status: "EGRESS_ACTIVE", startedAt: "1795881542000000000" } }],
  "egress.ended": ["An egress ended.", { event: "egress_ended", egressInfo: { egressId: "EG_bX4nP9sKe2Lm", roomName: ROOM.name, status: "EGRESS_COMPLETE", startedAt: "1795881542000000000", endedAt: "1795881600000000000" } }],
  "ingress.started": ["An ingress started publishing into its room.", { event: "ingress_started", ingressInfo: { ingressId: "IN_Zr6tWq1Hc8Vy", name: "OBS stream", roomName: ROOM.name, participantIdentity: "obs", state: { status: "ENDPOINT_PUBLISHING", startedAt: "1795881570000000000" } } }],
  "ingress.ended": ["An ingress stopped publishing.", { event: "ingress_ended", ingressInfo: { ingressId: "IN_Zr6tWq1Hc8Vy", name: "OBS stream", roomName: ROOM.name, participantIdentity: "obs", state: { status: "ENDPOINT_INACTIVE", startedAt: "1795881570000000000", endedAt: "1795881600000000000" } } }],
};

/** Today's catalog: every type the code sends, each body made by the code that makes real ones. */
function eventCatalog(): CatalogEntry[] {
  return WEBHOOK_EVENT_TYPES.map((type) => {
    // Pulse's own event (no LiveKit event makes it alone): its catalog entry, which test/webhooks/event-types.test.ts checks against a real delivery.
    if (type === "recording.completed") return WEBHOOK_EVENT_CATALOG.find((e) => e.type === type)!;
    const [description, event] = SAMPLES[type]!;
    const tenant = tenantEventFor({ id: "EV_3kLq8Wn2Rt5Y", createdAt: String(AT / 1000), ...event } as LivekitWebhookEvent, PROJECT, AT)!;
    return { type, description, example: { type: tenant.type, timestamp: new Date(tenant.occurredAt).toISOString().replace(".000Z", "Z"), data: tenant.data } };
  });
}

/** The markdown between the markers: a heading, the description and the example body per type. */
export function renderEventCatalog(entries: CatalogEntry[]): string {
  const sections = entries.map((e) => [`### \`${e.type}\``, "", e.description, "", "```json", JSON.stringify(e.example, null, 2), "```"].join("\n"));
  return ["| type | when |", "|---|---|", ...entries.map((e) => `| [\`${e.type}\`](#${e.type.replace(/\./g, "")}) | ${e.description} |`), "", ...sections.flatMap((s) => [s, ""])].join("\n").trimEnd();
}

function documentedBlock(markdown: string): string | null {
  const match = /<!-- event-catalog:start -->\n([\s\S]*?)\n?<!-- event-catalog:end -->/.exec(markdown);
  return match ? match[1]!.trim() : null;
}

describe("the webhook event reference in docs/webhooks.md", () => {
  it("is the catalog the code sends, rendered", () => {
    const expected = renderEventCatalog(eventCatalog());
    const documented = documentedBlock(webhooksDoc);
    expect(documented, "docs/webhooks.md lacks the event-catalog markers").not.toBeNull();
    if (documented !== expected) {
      throw new Error(`docs/webhooks.md's event reference drifted from the code. Replace the block between the markers with:\n\n${expected}\n`);
    }
  });

  it("covers every event type the code sends", () => {
    const documented = documentedBlock(webhooksDoc) ?? "";
    for (const type of WEBHOOK_EVENT_TYPES) expect(documented).toContain(`### \`${type}\``);
  });
});
