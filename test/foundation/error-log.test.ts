/**
 * A failing query must not write its parameters (emails, hashes, URLs) to the log: drizzle puts
 * them in its error message, so the log line carries only the D1 cause.
 */
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { call, freshIp } from "../support/api";

afterEach(() => vi.restoreAllMocks());

describe("a database error on a route", () => {
  it("logs the D1 cause but never the query's parameters, such as the email being signed in", async () => {
    const email = "leak.me+params@example.com";
    const lines: string[] = [];
    for (const method of ["log", "info", "warn", "error"] as const) vi.spyOn(console, method).mockImplementation((text: unknown) => void lines.push(String(text)));
    // A real D1 failure: the table the login query reads is briefly missing.
    await env.DB.exec("ALTER TABLE users RENAME TO users_moved_away");
    let res;
    try {
      res = await call("POST", "/v1/auth/login", { body: { email, password: "a password nobody has" }, ip: freshIp() });
    } finally {
      await env.DB.exec("ALTER TABLE users_moved_away RENAME TO users");
    }
    expect(res.status).toBe(500);
    expect(res.text).not.toContain(email);
    const failure = lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.message === "unhandled_error");
    expect(failure).toBeDefined();
    expect(String(failure!.error_message)).toMatch(/no such table: users/);
    const logged = lines.join("\n");
    expect(logged).not.toContain(email);
    expect(logged.toLowerCase()).not.toContain("leak.me");
    expect(logged).not.toMatch(/params:/);
  });
});
