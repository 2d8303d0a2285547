import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { setClock } from "../../src/lib/clock";
import { KEY_CACHE_TTL_MS } from "../../src/auth/key-cache";
import { call, expectEnvelope } from "../support/api";
import { createTenant } from "../support/factories";
import { countStatuses, mintToken, setProjectLimit } from "./helpers";

const IP_LIMIT = Number(env.RATE_LIMIT_IP_PER_MIN);
const PROJECT_LIMIT = Number(env.RATE_LIMIT_PROJECT_PER_MIN);

describe("rate limit headers and 429s", () => {
  it("puts RateLimit-Policy and RateLimit on successful and failed responses of a key route", async () => {
    const { project, key } = await createTenant();
    const first = await mintToken(key.secret);
    expect(first.status).toBe(201);
    expect(first.headers.get("RateLimit-Policy")).toBe(`"project";q=${PROJECT_LIMIT};w=60`);
    expect(first.headers.get("RateLimit")).toBe(`"project";r=${PROJECT_LIMIT - 1};t=60`);

    // A request refused for its body still counted and still says so.
    const invalid = await call("POST", "/v1/tokens", { token: key.secret, body: { identity: "" } });
    expectEnvelope(invalid, 400, "validation_failed");
    expect(invalid.headers.get("RateLimit")).toBe(`"project";r=${PROJECT_LIMIT - 2};t=60`);

    // The per-project override replaces the default once isolates re-read the key (key-cache.ts).
    await setProjectLimit(project.id, 3);
    const t0 = Date.now();
    setClock(() => t0 + KEY_CACHE_TTL_MS + 1);
    const third = await mintToken(key.secret);
    expect(third.headers.get("RateLimit-Policy")).toBe(`"project";q=3;w=60`);
    expect(third.headers.get("RateLimit")).toMatch(/^"project";r=0;t=\d+$/);
  });

  it("answers over-limit requests with 429 rate_limited, Retry-After and the headers", async () => {
    const { project, key } = await createTenant();
    await setProjectLimit(project.id, 2);
    const t0 = Date.now();
    setClock(() => t0);
    await mintToken(key.secret);
    setClock(() => t0 + 20_000);
    await mintToken(key.secret);
    setClock(() => t0 + 45_500);
    const res = await mintToken(key.secret);
    const error = expectEnvelope(res, 429, "rate_limited");
    expect(error.message).toContain("2 requests per minute");
    expect(res.headers.get("Retry-After")).toBe("15"); // t0's hit leaves at t0 + 60 s: 14.5 s → 15
    expect(res.headers.get("RateLimit-Policy")).toBe(`"project";q=2;w=60`);
    expect(res.headers.get("RateLimit")).toBe(`"project";r=0;t=15`);
  });

  it("limits unauthenticated routes per client IP and leaves other IPs alone", async () => {
    const ip = `192.0.2.${Math.floor(Math.random() * 200) + 1}`;
    // Invalid bodies are refused cheaply (no password hashing) but still count: credential
    // stuffing is limited whether or not the attempts are well formed.
    const attempts = await Promise.all(Array.from({ length: IP_LIMIT + 5 }, () => call("POST", "/v1/auth/login", { ip, body: {} })));
    expect(countStatuses(attempts.map((r) => r.status))).toEqual({ 400: IP_LIMIT, 429: 5 });
    const limited = attempts.find((r) => r.status === 429)!;
    expectEnvelope(limited, 429, "rate_limited");
    expect(Number(limited.headers.get("Retry-After"))).toBeGreaterThan(0);
    expect(limited.headers.get("RateLimit-Policy")).toBe(`"ip";q=${IP_LIMIT};w=60`);
    const admitted = attempts.find((r) => r.status === 400)!;
    expect(admitted.headers.get("RateLimit-Policy")).toBe(`"ip";q=${IP_LIMIT};w=60`);
    expect(admitted.headers.get("RateLimit")).toMatch(/^"ip";r=\d+;t=\d+$/);

    // Signup shares the IP's budget; another address is unaffected.
    expectEnvelope(await call("POST", "/v1/auth/signup", { ip, body: {} }), 429, "rate_limited");
    expectEnvelope(await call("POST", "/v1/auth/login", { ip: "192.0.2.250", body: {} }), 400, "validation_failed");
  });

  it("does not put rate limit headers on unlimited routes", async () => {
    const health = await call("GET", "/health");
    expect(health.headers.get("RateLimit")).toBeNull();
    expect(health.headers.get("RateLimit-Policy")).toBeNull();
  });
});
