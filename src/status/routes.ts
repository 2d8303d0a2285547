import { createRoute, z } from "@hono/zod-openapi";
import { sql } from "drizzle-orm";
import type { AppEnv } from "../env";
import { jsonContent } from "../lib/openapi";
import { createRouter } from "../router";
import type { Context } from "hono";
import { ApiError, errorBody } from "../lib/errors";
import { isTimeoutError, withTimeout } from "../lib/timeout";

export const statusRoutes = createRouter();

statusRoutes.openapi(
  createRoute({
    method: "get",
    path: "/health",
    tags: ["Status"],
    summary: "Liveness: answers without touching any dependency",
    responses: { 200: jsonContent(z.object({ status: z.literal("ok") }), "Alive") },
  }),
  (c) => c.json({ status: "ok" as const }, 200),
);

const Component = z.object({ status: z.enum(["ok", "down"]), latency_ms: z.number(), error: z.string().optional() });
const StatusResponse = z
  .object({ status: z.enum(["ok", "degraded"]), components: z.object({ database: Component, rate_limiter: Component }) })
  .openapi("Status");

/** How long a readiness probe waits for one component before calling it down. */
const PROBE_TIMEOUT_MS = 2_000;

/** Probe outcome; `detail` (the raw error) goes to the log only: this endpoint is public. */
async function probe(check: () => Promise<unknown>): Promise<z.infer<typeof Component> & { detail?: string }> {
  const started = Date.now();
  try {
    await withTimeout(check(), PROBE_TIMEOUT_MS);
    return { status: "ok", latency_ms: Date.now() - started };
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    return { status: "down", latency_ms: Date.now() - started, error: isTimeoutError(error) ? "timeout" : "unreachable", detail };
  }
}

export async function checkComponents(c: Context<AppEnv>) {
  const [database, rate_limiter] = await Promise.all([
    probe(() => c.var.db.run(sql`SELECT 1`)),
    probe(() => c.env.RATE_LIMITER.get(c.env.RATE_LIMITER.idFromName("status-probe")).ping()),
  ]);
  return { database, rate_limiter };
}

statusRoutes.openapi(
  createRoute({
    method: "get",
    path: "/v1/status",
    tags: ["Status"],
    summary: "Readiness: D1 and the rate limiter answer; 503 names the component that does not",
    responses: { 200: jsonContent(StatusResponse, "Ready"), 503: { description: "A component is down (error envelope plus `components`)" } },
  }),
  async (c) => {
    const probed = await checkComponents(c);
    const components = Object.fromEntries(Object.entries(probed).map(([name, { detail: _, ...shown }]) => [name, shown])) as {
      database: z.infer<typeof Component>;
      rate_limiter: z.infer<typeof Component>;
    };
    const down = Object.entries(probed).filter(([, v]) => v.status === "down");
    if (down.length === 0) return c.json({ status: "ok" as const, components }, 200);
    for (const [name, value] of down) c.var.logger.error("component_down", { component: name, error_message: value.detail });
    const names = down.map(([name, v]) => `${name} (${v.error})`).join(", ");
    // Every non-2xx is the contract's envelope; the per-component detail rides alongside it.
    const error = new ApiError("service_unavailable", `Not ready: ${names} down.`);
    return c.json({ ...errorBody(error, c.var.requestId), status: "degraded", components }, 503) as never;
  },
);
