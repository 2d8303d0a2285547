/**
 * A fake tenant receiver at the network edge: `globalThis.fetch` is stubbed for one host only
 * (the Worker runs in the test's isolate), answering with scripted statuses and recording exactly
 * what arrived. Everything else (D1, Queues) is real.
 */
import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { vi } from "vitest";
import worker from "../../src/index";
import { createDb } from "../../src/db/client";
import type { TenantEvent, WebhookEventType } from "../../src/webhooks/event-types";
import { livekitWebhookBody } from "../../src/webhooks/livekit-format";
import { singleMessage } from "../../src/webhooks/messages";
import { call } from "./api";

export interface Received {
  url: string;
  headers: Record<string, string>;
  body: string;
}

type Answer = number | "network-error" | { status: number; body: string };

let hostSeq = 0;
export const receiverHost = () => `receiver-${Date.now().toString(36)}-${hostSeq++}.example.com`;

/** Stubs fetch for `host`; the n-th request gets `answers[n]` (the last one repeats). */
export function fakeReceiver(host: string, answers: Answer[]): Received[] {
  const received: Received[] = [];
  const original = globalThis.fetch;
  vi.spyOn(globalThis, "fetch").mockImplementation(async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = new Request(input as RequestInfo, init);
    if (new URL(request.url).host !== host) return original(input as RequestInfo, init);
    received.push({ url: request.url, headers: Object.fromEntries(request.headers), body: await request.text() });
    const answer = answers[Math.min(received.length - 1, answers.length - 1)]!;
    if (answer === "network-error") throw new TypeError("Network connection lost.");
    if (typeof answer === "object") return new Response(answer.body, { status: answer.status });
    const nullBody = answer === 204 || answer === 205 || answer === 304;
    return new Response(nullBody ? null : `answer ${received.length}`, { status: answer });
  });
  return received;
}

export async function createEndpoint(token: string, projectId: string, body: Record<string, unknown>) {
  const res = await call("POST", `/v1/projects/${projectId}/webhooks`, { token, body });
  if (res.status !== 201) throw new Error(`create endpoint failed: ${res.status} ${res.text}`);
  return res.body as { id: string; secret: string; url: string };
}

/** A pending message row made the way the fan-out makes them, without touching the real queue. */
export function pendingMessage(projectId: string, endpointId: string, data: Record<string, unknown> = { hello: "world" }) {
  return writePending(projectId, endpointId, { type: "webhook.test", occurredAt: Date.now(), data });
}

/**
 * A pending message to a LiveKit-format endpoint, its body rendered from LiveKit's event `raw` as
 * the fan-out renders it; written, never enqueued, so the real queue consumer never races the
 * test's own `consume`.
 */
export function pendingLivekitMessage(projectId: string, endpointId: string, type: WebhookEventType, raw: Record<string, unknown>) {
  const payload = livekitWebhookBody(raw, projectId);
  if (payload === null) throw new Error("not a LiveKit WebhookEvent");
  return writePending(projectId, endpointId, { type, occurredAt: Date.now(), data: {} }, payload);
}

async function writePending(projectId: string, endpointId: string, event: TenantEvent, payload?: string) {
  const { row, insert } = singleMessage(createDb(env.DB), projectId, endpointId, event, `src-${crypto.randomUUID()}`, payload);
  await insert;
  return row;
}

/** Runs the real consumer on a batch holding one delivery job at Queues' `attempts` count. */
export async function consume(messageId: string, attempts: number, opts: { queue?: string; base?: number } = {}) {
  const batch = createMessageBatch(opts.queue ?? "pulse-webhooks", [
    { id: `qm-${messageId}-${attempts}-${Math.random()}`, timestamp: new Date(), attempts, body: { message_id: messageId, base_attempts: opts.base ?? 0 } },
  ]);
  // The pool's fake MessageBatch records that a message was retried but not the delay asked for,
  // so the retry options are captured here.
  const retryOptions = vi.spyOn(batch.messages[0]!, "retry");
  const ctx = createExecutionContext();
  await worker.queue(batch, env, ctx);
  const result = await getQueueResult(batch, ctx);
  const retries = retryOptions.mock.calls.map(([options]) => ({ delaySeconds: options?.delaySeconds }));
  return { ...result, retries };
}

export async function messageRow(id: string) {
  return (await env.DB.prepare("SELECT * FROM webhook_messages WHERE id = ?").bind(id).first()) as Record<string, any>;
}
