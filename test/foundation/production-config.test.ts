/**
 * What a bare `wrangler deploy` ships is the top-level `[vars]` of wrangler.toml and nothing from
 * `.dev.vars`. These tests read the committed wrangler.toml and run the Worker with exactly that.
 */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import worker from "../../src/index";
import type { Bindings } from "../../src/env";
import { fetchWithEnv, PRODUCTION } from "../support/worker-env";

const wranglerToml = Object.values(import.meta.glob("../../wrangler.toml", { query: "?raw", import: "default", eager: true }))[0] as string;

/** The `[vars]` table at the top level (before any `[env.*]`), as NAME → value. */
function topLevelVars(toml: string): Record<string, string> {
  const vars: Record<string, string> = {};
  let inVars = false;
  for (const line of toml.split("\n")) {
    const header = /^\s*\[+([^\]]+)\]+/.exec(line);
    if (header) {
      inVars = header[1]!.trim() === "vars";
      continue;
    }
    const entry = inVars ? /^\s*([A-Z0-9_]+)\s*=\s*"(.*)"\s*$/.exec(line) : null;
    if (entry) vars[entry[1]!] = entry[2]!;
  }
  return vars;
}

async function runWith(vars: Record<string, unknown>, request: Request): Promise<Response> {
  const bindings = { DB: env.DB, RATE_LIMITER: env.RATE_LIMITER, WEBHOOK_QUEUE: env.WEBHOOK_QUEUE, ...vars } as Bindings;
  const ctx = createExecutionContext();
  const res = await worker.fetch(request, bindings, ctx);
  await waitOnExecutionContext(ctx);
  return res;
}

function captureErrors(): string[] {
  const lines: string[] = [];
  vi.spyOn(console, "error").mockImplementation((line: unknown) => void lines.push(String(line)));
  return lines;
}

afterEach(() => vi.restoreAllMocks());

describe("a bare wrangler deploy", () => {
  it("ships no development secret, development mode or private-URL switch in the top-level vars", () => {
    const vars = topLevelVars(wranglerToml);
    expect(Object.keys(vars).length).toBeGreaterThan(0);
    for (const name of ["PULSE_ENV", "LIVEKIT_API_SECRET", "PULSE_ADMIN_TOKEN", "PULSE_ENCRYPTION_KEY", "PULSE_ENCRYPTION_KEYS", "PASSWORD_PEPPER", "WEBHOOK_ALLOW_PRIVATE_URLS", "EMAIL_PROVIDER"]) {
      expect(vars, name).not.toHaveProperty(name);
    }
  });

  it("refuses to serve in development mode when deployed with only the top-level vars", async () => {
    const errors = captureErrors();
    const res = await runWith(topLevelVars(wranglerToml), new Request("https://pulse.example.com/health"));
    expect(res.status).toBe(500);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("internal_error");
    expect(errors.join("\n")).toContain("PULSE_ENV");
  });

  it("treats a Worker with its secrets set but PULSE_ENV unset as misconfigured, not as development", async () => {
    const errors = captureErrors();
    const { PULSE_ENV: _unset, ...secretsOnly } = PRODUCTION;
    const res = await runWith({ ...topLevelVars(wranglerToml), ...secretsOnly, LIVEKIT_API_KEY: "APIprod" }, new Request("https://pulse.example.com/v1/dev/mailbox"));
    expect(res.status).toBe(500);
    expect(errors.join("\n")).toMatch(/PULSE_ENV is required/);
  });
});

describe("the LiveKit secret", () => {
  it("accepts livekit-server --dev's short `secret` in development", async () => {
    expect(env.LIVEKIT_API_SECRET).toBe("secret");
    expect((await fetchWithEnv({}, new Request("http://127.0.0.1:8787/health"))).status).toBe(200);
  });

  it("refuses a LiveKit secret shorter than 32 characters in production", async () => {
    const errors = captureErrors();
    const res = await fetchWithEnv({ ...PRODUCTION, LIVEKIT_API_SECRET: "secret" }, new Request("https://pulse.example.com/health"));
    expect(res.status).toBe(500);
    expect(errors.join("\n")).toMatch(/LIVEKIT_API_SECRET must be at least 32 characters in production/);
  });
});
