import { afterEach, describe, expect, it, vi } from "vitest";
import { call, dispatch, expectEnvelope } from "../support/api";
import { createUser } from "../support/factories";
import { fetchWithEnv, PRODUCTION } from "../support/worker-env";


afterEach(() => vi.restoreAllMocks());

describe("security headers", () => {
  it("are on every response, errors included", async () => {
    for (const res of [await call("GET", "/health"), await call("GET", "/v1/nope"), await call("GET", "/v1/me")]) {
      expect(res.headers.get("Strict-Transport-Security")).toMatch(/max-age=\d+/);
      expect(res.headers.get("X-Content-Type-Options")).toBe("nosniff");
      expect(res.headers.get("X-Frame-Options")).toBe("DENY");
      expect(res.headers.get("Content-Security-Policy")).toBe("default-src 'none'; frame-ancestors 'none'");
      expect(res.headers.get("Cache-Control")).toBe("no-store");
      expect(res.headers.get("Server")).toBeNull();
      expect(res.headers.get("X-Powered-By")).toBeNull();
      expect(res.headers.get("X-Request-Id")).toBeTruthy();
    }
  });

  it("leave HSTS off answers over plain HTTP (RFC 6797 §7.2), and only HSTS", async () => {
    const res = await dispatch(new Request("http://127.0.0.1:8787/health"));
    expect(res.status).toBe(200);
    expect(res.headers.get("Strict-Transport-Security")).toBeNull();
    expect(res.headers.get("X-Content-Type-Options")).toBe("nosniff");
    expect(res.headers.get("X-Frame-Options")).toBe("DENY");
    expect(res.headers.get("Cache-Control")).toBe("no-store");
  });

  it("add the document-only ones to HTML pages, and only there", async () => {
    const json = await call("GET", "/health");
    for (const page of [await call("GET", "/login"), await call("GET", "/docs"), await call("GET", "/signup")]) {
      expect(page.headers.get("Content-Type")).toMatch(/^text\/html/);
      expect(page.headers.get("Referrer-Policy")).toBe("no-referrer");
      expect(page.headers.get("X-XSS-Protection")).toBe("0");
      expect(page.headers.get("Cross-Origin-Opener-Policy")).toBe("same-origin");
      expect(page.headers.get("Cross-Origin-Resource-Policy")).toBe("same-origin");
      expect(page.headers.get("X-Frame-Options")).toBe("DENY");
      expect(page.headers.get("Content-Security-Policy")).toContain("frame-ancestors 'none'");
    }
    for (const name of ["Referrer-Policy", "X-XSS-Protection", "Cross-Origin-Opener-Policy", "Cross-Origin-Resource-Policy"]) {
      expect(json.headers.get(name)).toBeNull();
    }
  });

  it("mark authenticated responses no-store", async () => {
    const user = await createUser();
    const res = await call("GET", "/v1/me", { token: user.token });
    expect(res.headers.get("Cache-Control")).toBe("no-store");
  });
});

describe("CORS", () => {
  it("sends no CORS headers when CORS_ORIGINS is empty", async () => {
    const res = await fetchWithEnv({}, new Request("https://pulse.test/health", { headers: { Origin: "https://app.example.com" } }));
    expect(res.headers.get("Access-Control-Allow-Origin")).toBeNull();
  });

  it("allows exactly the configured origins, preflight included", async () => {
    const vars = { CORS_ORIGINS: "https://app.example.com, https://admin.example.com" };
    const ok = await fetchWithEnv(vars, new Request("https://pulse.test/health", { headers: { Origin: "https://app.example.com" } }));
    expect(ok.headers.get("Access-Control-Allow-Origin")).toBe("https://app.example.com");
    const evil = await fetchWithEnv(vars, new Request("https://pulse.test/health", { headers: { Origin: "https://evil.example.com" } }));
    expect(evil.headers.get("Access-Control-Allow-Origin")).toBeNull();
    const preflight = await fetchWithEnv(
      vars,
      new Request("https://pulse.test/v1/orgs", {
        method: "OPTIONS",
        headers: { Origin: "https://admin.example.com", "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization,content-type" },
      }),
    );
    expect(preflight.status).toBeLessThan(300);
    expect(preflight.headers.get("Access-Control-Allow-Origin")).toBe("https://admin.example.com");
    expect(preflight.headers.get("Access-Control-Allow-Methods")).toContain("POST");
  });
});

describe("HTTPS in production", () => {
  it("redirects GET over plain HTTP to HTTPS", async () => {
    const res = await fetchWithEnv(PRODUCTION, new Request("http://pulse.example.com/v1/status?x=1", { redirect: "manual" }));
    expect(res.status).toBe(308);
    expect(res.headers.get("Location")).toBe("https://pulse.example.com/v1/status?x=1");
  });

  it("refuses other methods over plain HTTP with 403", async () => {
    const res = await fetchWithEnv(PRODUCTION, new Request("http://pulse.example.com/v1/auth/login", { method: "POST", body: "{}", headers: { "Content-Type": "application/json" } }));
    expect(res.status).toBe(403);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("forbidden");
  });

  it("refuses a plain-HTTP POST that claims HTTPS with a forged X-Forwarded-Proto", async () => {
    const forged = await fetchWithEnv(
      PRODUCTION,
      new Request("http://pulse.example.com/v1/auth/login", { method: "POST", body: "{}", headers: { "Content-Type": "application/json", "X-Forwarded-Proto": "https" } }),
    );
    expect(forged.status).toBe(403);
    const redirected = await fetchWithEnv(PRODUCTION, new Request("http://pulse.example.com/health", { headers: { "X-Forwarded-Proto": "https" }, redirect: "manual" }));
    expect(redirected.status).toBe(308);
    const https = await fetchWithEnv(PRODUCTION, new Request("https://pulse.example.com/health", { headers: { "X-Forwarded-Proto": "http" } }));
    expect(https.status).toBe(200);
  });

  it("does not enforce HTTPS in development", async () => {
    expect((await fetchWithEnv({}, new Request("http://127.0.0.1:8787/health"))).status).toBe(200);
  });
});

describe("configuration", () => {
  it("fails requests with 500 and logs the bad variable's name when one is malformed", async () => {
    const errors: string[] = [];
    vi.spyOn(console, "error").mockImplementation((line: unknown) => void errors.push(String(line)));
    const res = await fetchWithEnv({ RATE_LIMIT_IP_PER_MIN: "lots" }, new Request("https://pulse.test/health"));
    expect(res.status).toBe(500);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe("internal_error");
    expect(body.error.message).not.toContain("RATE_LIMIT");
    expect(errors.join("\n")).toContain("RATE_LIMIT_IP_PER_MIN");
  });

  it("names a missing required secret", async () => {
    const errors: string[] = [];
    vi.spyOn(console, "error").mockImplementation((line: unknown) => void errors.push(String(line)));
    const res = await fetchWithEnv({ LIVEKIT_API_SECRET: undefined }, new Request("https://pulse.test/health"));
    expect(res.status).toBe(500);
    expect(errors.join("\n")).toContain("LIVEKIT_API_SECRET");
  });

  it("refuses to run production with the development secrets", async () => {
    const errors: string[] = [];
    vi.spyOn(console, "error").mockImplementation((line: unknown) => void errors.push(String(line)));
    const res = await fetchWithEnv({ PULSE_ENV: "production", LIVEKIT_API_SECRET: PRODUCTION.LIVEKIT_API_SECRET }, new Request("https://pulse.test/health"));
    expect(res.status).toBe(500);
    expect(errors.join("\n")).toMatch(/development default/);
  });
});

describe("status", () => {
  it("answers /health without I/O and /v1/status with each component", async () => {
    expect((await call("GET", "/health")).body).toEqual({ status: "ok" });
    const status = await call("GET", "/v1/status");
    expect(status.status).toBe(200);
    expect(status.body.components.database.status).toBe("ok");
    expect(status.body.components.rate_limiter.status).toBe("ok");
  });

  it("answers 503 naming the rate limiter when it is down", async () => {
    vi.spyOn(console, "error").mockImplementation(() => undefined);
    const brokenLimiter = {
      idFromName: () => ({}),
      get: () => ({ ping: () => Promise.reject(new Error("Durable Object unreachable")) }),
    };
    const res = await fetchWithEnv({ RATE_LIMITER: brokenLimiter }, new Request("https://pulse.test/v1/status"));
    expect(res.status).toBe(503);
    const body = (await res.json()) as { error: { code: string; message: string }; components: Record<string, { status: string }> };
    expect(body.error.message).toContain("rate_limiter");
    expect(body.components.rate_limiter!.status).toBe("down");
    expect(body.components.database!.status).toBe("ok");
    // The endpoint is public: internal error text stays in the log.
    expect(JSON.stringify(body)).not.toContain("Durable Object unreachable");
  });

  it("answers 503 naming the database when D1 is down", async () => {
    vi.spyOn(console, "error").mockImplementation(() => undefined);
    const brokenDb = {
      prepare: () => {
        throw new Error("D1_ERROR: database unavailable");
      },
    };
    const res = await fetchWithEnv({ DB: brokenDb }, new Request("https://pulse.test/v1/status"));
    expect(res.status).toBe(503);
    const body = (await res.json()) as { error: { message: string }; components: Record<string, { status: string }> };
    expect(body.error.message).toContain("database");
    expect(body.components.database!.status).toBe("down");
    expect(JSON.stringify(body)).not.toContain("D1_ERROR");
  });
});

describe("request logs", () => {
  it("write one JSON line per request with the route template, never the raw ids or bodies", async () => {
    const lines: string[] = [];
    vi.spyOn(console, "info").mockImplementation((line: unknown) => void lines.push(String(line)));
    const user = await createUser();
    lines.length = 0;
    await call("POST", "/v1/orgs", { token: user.token, body: { name: "Secret Project Name" } });
    const requestLines = lines.map((l) => JSON.parse(l)).filter((l) => l.message === "request");
    expect(requestLines).toHaveLength(1);
    expect(requestLines[0]).toMatchObject({ method: "POST", route: "/v1/orgs", status: 201, actor_id: user.id });
    expect(requestLines[0].org_id).toMatch(/^org_/);
    expect(typeof requestLines[0].duration_ms).toBe("number");
    expect(lines.join("\n")).not.toContain("Secret Project Name");
    expect(lines.join("\n")).not.toContain(user.token);
  });
});
