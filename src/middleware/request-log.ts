import type { MiddlewareHandler } from "hono";
import { routePath } from "hono/route";
import type { AppEnv } from "../env";

/**
 * One wide JSON line per request: method, route template (never the raw path, which can carry ids
 * of other tenants or tokens in query strings), status, duration and who. Never bodies or secrets.
 */
export const requestLog: MiddlewareHandler<AppEnv> = async (c, next) => {
  const started = Date.now();
  try {
    await next();
  } finally {
    const caller = c.var.caller;
    c.var.logger?.info("request", {
      method: c.req.method,
      route: matchedTemplate(c),
      status: c.res.status,
      duration_ms: Date.now() - started,
      org_id: c.var.orgId ?? (caller?.kind === "api_key" ? caller.orgId : undefined),
      project_id: c.var.projectId ?? (caller?.kind === "api_key" ? caller.projectId : undefined),
      actor_id: caller ? (caller.kind === "user" ? caller.userId : caller.keyId) : undefined,
    });
  }
};

/** The template of the handler that answered (`/v1/projects/:project_id`), or `unmatched`. */
function matchedTemplate(c: Parameters<MiddlewareHandler<AppEnv>>[0]): string {
  const path = routePath(c, -1);
  return !path || path.endsWith("*") ? "unmatched" : path;
}
