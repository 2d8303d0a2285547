/** Readiness: do D1 and the rate limiter answer? The raw errors go to the log only (the answer is public). */
import { sql } from "drizzle-orm";
import type { Deps } from "../deps";
import { isTimeoutError, withTimeout } from "../lib/timeout";
import { limiterStub } from "../rate-limit/service";
import type { Component } from "./schemas";

/** How long a readiness probe waits for one component before calling it down. */
const PROBE_TIMEOUT_MS = 2_000;

async function probe(check: () => Promise<unknown>): Promise<Component & { detail?: string }> {
  const started = Date.now();
  try {
    await withTimeout(check(), PROBE_TIMEOUT_MS);
    return { status: "ok", latency_ms: Date.now() - started };
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    return { status: "down", latency_ms: Date.now() - started, error: isTimeoutError(error) ? "timeout" : "unreachable", detail };
  }
}

/** Probes every component; `down` names those that did not answer (each is logged with its error). */
export async function checkReadiness(deps: Pick<Deps, "db" | "limiter" | "logger">) {
  const [database, rate_limiter] = await Promise.all([
    probe(() => deps.db.run(sql`SELECT 1`)),
    probe(() => limiterStub(deps.limiter, "status-probe").ping()),
  ]);
  const probed = { database, rate_limiter };
  const components = {} as Record<keyof typeof probed, Component>;
  const down: string[] = [];
  for (const [name, { detail, ...shown }] of Object.entries(probed) as [keyof typeof probed, Component & { detail?: string }][]) {
    components[name] = shown;
    if (shown.status === "down") {
      deps.logger.error("component_down", { component: name, error_message: detail });
      down.push(`${name} (${shown.error})`);
    }
  }
  return { components, down };
}
