/**
 * Calls the Worker with some vars overridden (like `wrangler dev --var`), for tests of behaviour
 * that depends on the deployment: production refuses private LiveKit destinations outright.
 */
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import worker from "../../src/index";
import type { Bindings } from "../../src/env";
import { BASE, type ApiResponse } from "../support/api";

/** Production vars with non-default secrets (production refuses to start with the dev ones). */
export const PRODUCTION = {
  PULSE_ENV: "production",
  LIVEKIT_API_SECRET: "prod-secret-0123456789-0123456789-abcdef",
  PULSE_ADMIN_TOKEN: "prod-admin-token-0123456789",
  PULSE_ENCRYPTION_KEY: "prod-encryption-key-0123456789-0123456789",
};

/** Development with `WEBHOOK_ALLOW_PRIVATE_URLS=false`: same secrets as the tests, so the fake LiveKit verifies them. */
export const DEV_NO_PRIVATE = { WEBHOOK_ALLOW_PRIVATE_URLS: "false" };

export async function postWith(vars: Partial<Record<keyof Bindings, unknown>>, path: string, token: string, body: unknown): Promise<ApiResponse> {
  const patched = Object.assign(Object.create(null), env, vars) as Bindings;
  const ctx = createExecutionContext();
  const res = await worker.fetch(
    new Request(`${BASE}${path}`, {
      method: "POST",
      headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json", "CF-Connecting-IP": "203.0.113.10" },
      body: JSON.stringify(body),
    }),
    patched,
    ctx,
  );
  await waitOnExecutionContext(ctx);
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : null, text };
}

/** Rows a refused request must not have left: records of the kind and their audit entries. */
export async function leftovers(kind: "egress" | "ingress", projectId: string): Promise<number> {
  const table = kind === "egress" ? "egresses" : "ingresses";
  const rows = await env.DB.prepare(`SELECT COUNT(*) AS n FROM ${table} WHERE project_id = ?`).bind(projectId).first<{ n: number }>();
  const audits = await env.DB.prepare("SELECT COUNT(*) AS n FROM audit_logs WHERE project_id = ? AND action LIKE ?")
    .bind(projectId, `${kind}.%`)
    .first<{ n: number }>();
  return rows!.n + audits!.n;
}
