/**
 * Calling the Worker with some bindings or vars replaced (like `wrangler dev --var NAME:VALUE`, or an
 * unreachable Durable Object), waiting for whatever the request hands to `waitUntil`.
 */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import worker from "../../src/index";
import type { Bindings } from "../../src/env";
import { BASE, readResponse, type ApiResponse } from "./api";

/** Production vars with non-default secrets (production refuses to start with the dev ones). */
export const PRODUCTION = {
  PULSE_ENV: "production",
  LIVEKIT_API_SECRET: "prod-secret-0123456789-0123456789-abcdef",
  PULSE_ADMIN_TOKEN: "prod-admin-token-0123456789",
  PULSE_ENCRYPTION_KEYS: "k1:prod-encryption-key-0123456789-0123456789",
  PASSWORD_PEPPER: "prod-password-pepper-0123456789-0123456789",
  EMAIL_PROVIDER: "http",
  EMAIL_API_URL: "https://mail-api.test/send",
  EMAIL_API_KEY: "prod-email-api-key",
  EMAIL_FROM: "Pulse <no-reply@pulse.test>",
};

export async function fetchWithEnv(overrides: Partial<Record<keyof Bindings, unknown>>, request: Request): Promise<Response> {
  const patched = Object.assign(Object.create(null), env, overrides) as Bindings;
  const ctx = createExecutionContext();
  const res = await worker.fetch(request, patched, ctx);
  await waitOnExecutionContext(ctx);
  return res;
}

/** Development with `WEBHOOK_ALLOW_PRIVATE_URLS=false`: same secrets as the tests, so the fake LiveKit verifies them. */
export const DEV_NO_PRIVATE = { WEBHOOK_ALLOW_PRIVATE_URLS: "false" };

/** A JSON POST with a bearer token to the Worker running with `vars` replaced. */
export async function postWith(vars: Partial<Record<keyof Bindings, unknown>>, path: string, token: string, body: unknown): Promise<ApiResponse> {
  const res = await fetchWithEnv(
    vars,
    new Request(`${BASE}${path}`, {
      method: "POST",
      headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json", "CF-Connecting-IP": "203.0.113.10" },
      body: JSON.stringify(body),
    }),
  );
  return readResponse(res);
}
