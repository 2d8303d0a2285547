/** `GET /health` (liveness) and `GET /v1/status` (readiness), both public. */
import { createRoute } from "@hono/zod-openapi";
import { depsOf } from "../deps";
import { ApiError, errorBody } from "../lib/errors";
import { jsonContent } from "../lib/openapi";
import { createRouter } from "../router";
import { HealthResponse, StatusResponse } from "./schemas";
import { checkReadiness } from "./service";

export const statusRoutes = createRouter();

statusRoutes.openapi(
  createRoute({
    method: "get",
    path: "/health",
    tags: ["Status"],
    summary: "Liveness: answers without touching any dependency",
    responses: { 200: jsonContent(HealthResponse, "Alive") },
  }),
  (c) => c.json({ status: "ok" as const }, 200),
);

statusRoutes.openapi(
  createRoute({
    method: "get",
    path: "/v1/status",
    tags: ["Status"],
    summary: "Readiness: D1 and the rate limiter answer; 503 names the component that does not",
    responses: { 200: jsonContent(StatusResponse, "Ready"), 503: { description: "A component is down (error envelope plus `components`)" } },
  }),
  async (c) => {
    const { components, down } = await checkReadiness(depsOf(c));
    if (down.length === 0) return c.json({ status: "ok" as const, components }, 200);
    // Every non-2xx is the contract's envelope; the per-component detail rides alongside it.
    const error = new ApiError("service_unavailable", `Not ready: ${down.join(", ")} down.`);
    return c.json({ ...errorBody(error, c.var.requestId), status: "degraded", components }, 503) as never;
  },
);
