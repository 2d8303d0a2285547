import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createApp } from "../../src/app";
import type { Bindings } from "../../src/env";
import { LIMITER_TIMEOUT_MS } from "../../src/rate-limit/service";
import { BASE, expectEnvelope, type ApiResponse } from "../support/api";
import { createTenant } from "../support/factories";

/**
 * The real application with the rate limiter binding replaced by one whose object fails the way a
 * Durable Object does when it is overloaded, resetting or unreachable.
 */
function limiterThat(hit: () => Promise<unknown>): Bindings["RATE_LIMITER"] {
  return {
    idFromName: (name: string) => env.RATE_LIMITER.idFromName(name),
    get: () => ({ hit, ping: hit }),
  } as unknown as Bindings["RATE_LIMITER"];
}

async function callWithLimiter(limiter: Bindings["RATE_LIMITER"], method: string, path: string, opts: { token?: string; body?: unknown }) {
  const app = createApp();
  const headers: Record<string, string> = { "CF-Connecting-IP": "192.0.2.77", "Content-Type": "application/json" };
  if (opts.token) headers.Authorization = `Bearer ${opts.token}`;
  const ctx = createExecutionContext();
  const res = await app.fetch(new Request(`${BASE}${path}`, { method, headers, body: JSON.stringify(opts.body) }), { ...env, RATE_LIMITER: limiter }, ctx);
  await waitOnExecutionContext(ctx);
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: JSON.parse(text), text } as ApiResponse;
}

function loggedErrors(spy: { mock: { calls: unknown[][] } }) {
  return spy.mock.calls.map((args: unknown[]) => JSON.parse(String(args[0])) as Record<string, unknown>);
}

const broken = limiterThat(async () => {
  throw new Error("Durable Object is overloaded.");
});

describe("when the rate limiter is unavailable", () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it("fails OPEN on API-key routes: the request is served and rate_limiter_unavailable is logged", async () => {
    const { key } = await createTenant();
    const errors = vi.spyOn(console, "error");
    const res = await callWithLimiter(broken, "POST", "/v1/tokens", { token: key.secret, body: { identity: "a", room: "r" } });
    expect(res.status).toBe(201);
    expect(res.headers.get("RateLimit")).toBeNull();
    expect(loggedErrors(errors)).toContainEqual(
      expect.objectContaining({ level: "error", message: "rate_limiter_unavailable", policy: "project", fail_mode: "open", error_message: "Durable Object is overloaded." }),
    );
  });

  it("fails CLOSED on unauthenticated routes: 503 with Retry-After, and rate_limiter_unavailable is logged", async () => {
    const errors = vi.spyOn(console, "error");
    for (const path of ["/v1/auth/login", "/v1/auth/signup"]) {
      const res = await callWithLimiter(broken, "POST", path, { body: { email: "x@example.com", password: "long enough password", name: "X" } });
      expectEnvelope(res, 503, "service_unavailable");
      expect(res.headers.get("Retry-After")).toBe("5");
    }
    const lines = loggedErrors(errors).filter((l) => l.message === "rate_limiter_unavailable");
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({ policy: "ip", fail_mode: "closed" });
  });

  it(`treats a limiter that does not answer within ${LIMITER_TIMEOUT_MS} ms as unavailable`, async () => {
    const { key } = await createTenant();
    const hung = limiterThat(() => new Promise(() => {}));
    const errors = vi.spyOn(console, "error");
    const started = Date.now();
    const res = await callWithLimiter(hung, "POST", "/v1/tokens", { token: key.secret, body: { identity: "a", room: "r" } });
    expect(res.status).toBe(201);
    expect(Date.now() - started).toBeGreaterThanOrEqual(LIMITER_TIMEOUT_MS - 50);
    expect(loggedErrors(errors)).toContainEqual(expect.objectContaining({ message: "rate_limiter_unavailable", error_message: `no answer within ${LIMITER_TIMEOUT_MS} ms` }));
  });
});
