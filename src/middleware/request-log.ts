import type { Context, MiddlewareHandler } from "hono";
import { routePath } from "hono/route";
import type { AppEnv } from "../env";

/**
 * One wide JSON line per request: method, route template (never the raw path or its query string,
 * which can carry ids of other tenants or tokens), status, duration and who. Never bodies or
 * secrets. Written at level info, so `LOG_LEVEL=warn` turns it off.
 *
 * This runs on every request, so it reads `c.get()` (Hono's `c.var` copies every variable into a
 * new object on each access) and builds nothing when the line is not written.
 */
export const requestLog: MiddlewareHandler<AppEnv> = async (c, next) => {
  const started = Date.now();
  try {
    await next();
  } finally {
    const logger = c.get("logger");
    if (logger?.enabled("info")) {
      const caller = c.get("caller");
      const key = caller?.kind === "api_key" ? caller : undefined;
      logger.info("request", {
        method: c.req.method,
        route: matchedTemplate(c),
        status: c.res.status,
        duration_ms: Date.now() - started,
        org_id: c.get("orgId") ?? key?.orgId,
        project_id: c.get("projectId") ?? key?.projectId,
        actor_id: caller ? (caller.kind === "user" ? caller.userId : caller.keyId) : undefined,
      });
    }
  }
};

/** The template of the handler that answered (`/v1/projects/:project_id`), or `unmatched`. */
function matchedTemplate(c: Context<AppEnv>): string {
  const path = routePath(c, -1);
  return !path || path.endsWith("*") ? "unmatched" : path;
}
