/// <reference types="vite/client" />
/**
 * The event reference in docs/webhooks.md is generated: the block between its
 * `<!-- event-catalog:start -->` and `<!-- event-catalog:end -->` markers must equal what
 * `renderEventCatalog` makes of `src/webhooks/event-catalog.ts`, the catalog that
 * `GET /v1/webhook-event-types` serves (and that the webhooks tests hold to real deliveries). When
 * an event type or its example changes, this test fails and prints the block to paste.
 */
import { describe, expect, it } from "vitest";
import { WEBHOOK_EVENT_CATALOG, type WebhookEventTypeEntry } from "../../src/webhooks/event-catalog";
import { WEBHOOK_EVENT_TYPES } from "../../src/webhooks/event-types";

const webhooksDoc = Object.values(import.meta.glob("../../docs/webhooks.md", { query: "?raw", import: "default", eager: true }))[0] as string;

/** The markdown between the markers: a heading, the description and the example body per type. */
function renderEventCatalog(entries: readonly WebhookEventTypeEntry[]): string {
  const sections = entries.map((e) => [`### \`${e.type}\``, "", e.description, "", "```json", JSON.stringify(e.example, null, 2), "```"].join("\n"));
  return ["| type | when |", "|---|---|", ...entries.map((e) => `| [\`${e.type}\`](#${e.type.replace(/\./g, "")}) | ${e.description} |`), "", ...sections.flatMap((s) => [s, ""])].join("\n").trimEnd();
}

function documentedBlock(markdown: string): string | null {
  const match = /<!-- event-catalog:start -->\n([\s\S]*?)\n?<!-- event-catalog:end -->/.exec(markdown);
  return match ? match[1]!.trim() : null;
}

describe("the webhook event reference in docs/webhooks.md", () => {
  it("is the catalog GET /v1/webhook-event-types serves, rendered", () => {
    const expected = renderEventCatalog(WEBHOOK_EVENT_CATALOG);
    const documented = documentedBlock(webhooksDoc);
    expect(documented, "docs/webhooks.md lacks the event-catalog markers").not.toBeNull();
    if (documented !== expected) {
      throw new Error(`docs/webhooks.md's event reference drifted from the code. Replace the block between the markers with:\n\n${expected}\n`);
    }
  });

  it("covers every event type the code sends, and webhook.test", () => {
    const documented = documentedBlock(webhooksDoc) ?? "";
    for (const type of [...WEBHOOK_EVENT_TYPES, "webhook.test"]) expect(documented).toContain(`### \`${type}\``);
  });
});
