/**
 * Calls the Worker with some vars overridden (like `wrangler dev --var`), for tests of behaviour
 * that depends on the deployment: production refuses private LiveKit destinations outright.
 */
import { env } from "cloudflare:workers";
import type { Bindings } from "../../src/env";
import { BASE, type ApiResponse } from "../support/api";
import { fetchWithEnv, PRODUCTION } from "../support/worker-env";

export { PRODUCTION };

/** Development with `WEBHOOK_ALLOW_PRIVATE_URLS=false`: same secrets as the tests, so the fake LiveKit verifies them. */
export const DEV_NO_PRIVATE = { WEBHOOK_ALLOW_PRIVATE_URLS: "false" };

export async function postWith(vars: Partial<Record<keyof Bindings, unknown>>, path: string, token: string, body: unknown): Promise<ApiResponse> {
  const res = await fetchWithEnv(
    vars,
    new Request(`${BASE}${path}`, {
      method: "POST",
      headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json", "CF-Connecting-IP": "203.0.113.10" },
      body: JSON.stringify(body),
    }),
  );
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
