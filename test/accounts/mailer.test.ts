import { createExecutionContext, createMessageBatch, getQueueResult } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import worker from "../../src/index";
import { createDb } from "../../src/db/client";
import { MAIL_MAX_ATTEMPTS, MAIL_RETRY_DELAYS_SECONDS } from "../../src/mail/delivery";
import { outboxInsert } from "../../src/mail/outbox";
import { passwordResetEmail } from "../../src/mail/templates";
import type { Bindings } from "../../src/env";
import { call } from "../support/api";
import { fetchWithEnv, PRODUCTION } from "../support/worker-env";

afterEach(() => {
  vi.restoreAllMocks();
});

const MAIL_API = new URL(PRODUCTION.EMAIL_API_URL);

interface Received {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string;
}

/** The email API at the network edge: records what arrives, answers with scripted statuses. */
function fakeEmailApi(answers: number[]): Received[] {
  const received: Received[] = [];
  const original = globalThis.fetch;
  vi.spyOn(globalThis, "fetch").mockImplementation(async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = new Request(input as RequestInfo, init);
    if (new URL(request.url).host !== MAIL_API.host) return original(input as RequestInfo, init);
    received.push({ method: request.method, url: request.url, headers: Object.fromEntries(request.headers), body: await request.text() });
    return new Response("{}", { status: answers[Math.min(received.length - 1, answers.length - 1)]! });
  });
  return received;
}

/** An outbox row made the way services make them, without going through the real queue. */
async function outboxRow(to: string) {
  const db = createDb(env.DB);
  const mail = passwordResetEmail(to, "https://pulse.test/reset-password?token=rst_example", 60);
  const { id, insert } = outboxInsert(db, mail);
  await insert;
  return { id, mail };
}

async function deliver(mailId: string, attempts: number, overrides: Partial<Record<keyof Bindings, unknown>>) {
  const batch = createMessageBatch("pulse-webhooks", [{ id: `qm-${mailId}-${attempts}`, timestamp: new Date(), attempts, body: { kind: "mail", mail_id: mailId } }]);
  const retry = vi.spyOn(batch.messages[0]!, "retry");
  const ctx = createExecutionContext();
  await worker.queue(batch, Object.assign(Object.create(null), env, overrides) as Bindings, ctx);
  const result = await getQueueResult(batch, ctx);
  return { ...result, retries: retry.mock.calls.map(([o]) => o?.delaySeconds) };
}

const row = async (id: string) => (await env.DB.prepare("SELECT * FROM mail_outbox WHERE id = ?").bind(id).first()) as Record<string, any>;

describe("the http mail provider", () => {
  it("posts exactly {from, to, subject, text} as JSON with the bearer key, then erases the text in production", async () => {
    const received = fakeEmailApi([202]);
    const to = `http-${crypto.randomUUID()}@example.com`;
    const { id, mail } = await outboxRow(to);
    const result = await deliver(id, 1, PRODUCTION);
    expect(result.explicitAcks).toEqual([`qm-${id}-1`]);
    expect(received).toHaveLength(1);
    const [req] = received;
    expect(req!.method).toBe("POST");
    expect(req!.url).toBe(PRODUCTION.EMAIL_API_URL);
    expect(req!.headers.authorization).toBe(`Bearer ${PRODUCTION.EMAIL_API_KEY}`);
    expect(req!.headers["content-type"]).toBe("application/json");
    expect(JSON.parse(req!.body)).toEqual({ from: PRODUCTION.EMAIL_FROM, to, subject: mail.subject, text: mail.text });
    expect(await row(id)).toMatchObject({ status: "sent", provider: "http", attempts: 1, text: null });

    // A second delivery of the same queue message sends nothing.
    await deliver(id, 1, PRODUCTION);
    expect(received).toHaveLength(1);
  });

  it("retries a refused message with growing delays and marks it failed after the last attempt", async () => {
    const received = fakeEmailApi([500]);
    const { id } = await outboxRow(`fail-${crypto.randomUUID()}@example.com`);
    const first = await deliver(id, 1, PRODUCTION);
    expect(first.retries).toEqual([MAIL_RETRY_DELAYS_SECONDS[0]]);
    expect(await row(id)).toMatchObject({ status: "pending", attempts: 1, last_error: "the email API answered 500" });
    expect((await row(id)).text).not.toBeNull();
    const last = await deliver(id, MAIL_MAX_ATTEMPTS, PRODUCTION);
    expect(last.retries).toEqual([]);
    expect(last.explicitAcks).toHaveLength(1);
    expect(await row(id)).toMatchObject({ status: "failed", attempts: MAIL_MAX_ATTEMPTS, text: null });
    expect(received).toHaveLength(2);
  });

  it("refuses to start with EMAIL_PROVIDER=http but no API URL, naming the variable", async () => {
    const errors = vi.spyOn(console, "error").mockImplementation(() => undefined);
    const res = await fetchWithEnv({ ...PRODUCTION, EMAIL_API_URL: "" }, new Request("https://pulse.test/v1/status"));
    expect(res.status).toBe(500);
    expect(errors.mock.calls.map(([line]) => JSON.parse(String(line)))).toContainEqual(expect.objectContaining({ message: "config_invalid", variable: "EMAIL_API_URL" }));
  });
});

describe("the log provider and the dev mailbox", () => {
  it("delivers through the real queue, keeping the message readable in the dev mailbox", async () => {
    const email = `log-${crypto.randomUUID()}@example.com`;
    const res = await call("POST", "/v1/auth/signup", { body: { email, password: "correct horse battery", name: "Log" } });
    expect(res.status).toBe(201);
    await vi.waitFor(
      async () => expect((await env.DB.prepare("SELECT status, provider FROM mail_outbox WHERE to_normalized = ?").bind(email).first())).toEqual({ status: "sent", provider: "log" }),
      { timeout: 10_000, interval: 100 },
    );
    const mailbox = await call("GET", `/v1/dev/mailbox?to=${encodeURIComponent(email.toUpperCase())}`);
    expect(mailbox.body.data).toHaveLength(1);
    expect(Object.keys(mailbox.body.data[0]).sort()).toEqual(["created_at", "id", "subject", "text", "to"]);
    expect(mailbox.body.data[0].text).toContain("token=vrf_");
  });

  it("does not exist in production: 404 exactly like an unknown route", async () => {
    const mailbox = await fetchWithEnv(PRODUCTION, new Request("https://pulse.test/v1/dev/mailbox?to=a@example.com"));
    const unknown = await fetchWithEnv(PRODUCTION, new Request("https://pulse.test/v1/dev/nothing-here?to=a@example.com"));
    expect(mailbox.status).toBe(404);
    const [a, b] = [(await mailbox.json()) as any, (await unknown.json()) as any];
    expect(a.error.code).toBe("not_found");
    expect(a.error.message).toBe(b.error.message.replace("/v1/dev/nothing-here", "/v1/dev/mailbox"));
    // Nor does a bad query or another method give it away (400 and 405 would).
    for (const request of [
      new Request("https://pulse.test/v1/dev/mailbox"),
      new Request("https://pulse.test/v1/dev/mailbox?to=not-an-address"),
      new Request("https://pulse.test/v1/dev/mailbox", { method: "POST", headers: { "Content-Type": "text/plain" }, body: "x" }),
      new Request("https://pulse.test/v1/dev/mailbox", { method: "DELETE" }),
    ]) {
      const res = await fetchWithEnv(PRODUCTION, request);
      expect([request.method, res.status, ((await res.json()) as any).error.code]).toEqual([request.method, 404, "not_found"]);
    }
  });

  it("requires a valid to address", async () => {
    const res = await call("GET", "/v1/dev/mailbox");
    expect(res.status).toBe(400);
    expect(res.body.error.details[0].path).toBe("query.to");
  });
});
