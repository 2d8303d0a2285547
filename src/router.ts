/**
 * Every router of the app: typed with the Worker's bindings and `c.var` (`AppEnv`), strict about
 * trailing slashes, and sharing the hook that turns a failed zod schema into the contract's
 * `validation_failed` envelope.
 *
 * A POST, PUT, PATCH or DELETE route that declares no body (`…/stop`, `…/roll`, any delete) refuses one with
 * fields: the contract rejects unknown body fields rather than ignoring them, and with no schema
 * nothing else would look. An empty body or `{}` is fine (clients often send one).
 */
import { OpenAPIHono, type RouteConfig } from "@hono/zod-openapi";
import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "./env";
import { validationFailed } from "./lib/errors";
import { validationHook } from "./lib/openapi";
import { SIGNED_BODY_PATHS } from "./middleware/json-body";

const BODY_METHODS = new Set(["post", "put", "patch", "delete"]);

/** Runs after `jsonBody`, which has parsed (and cached) any JSON body of an API path. */
const refuseBody: MiddlewareHandler<AppEnv> = async (c, next) => {
  if ((await c.req.text()) !== "") {
    const body: unknown = await c.req.json();
    const empty = body !== null && typeof body === "object" && !Array.isArray(body) && Object.keys(body).length === 0;
    if (!empty) throw validationFailed("Invalid request: this operation takes no request body.", [{ path: "(root)", message: "this operation takes no request body" }]);
  }
  await next();
};

function withoutUndeclaredBody<R extends RouteConfig>(route: R): R {
  if (!BODY_METHODS.has(route.method) || route.request?.body || SIGNED_BODY_PATHS.has(route.path)) return route;
  const own = route.middleware === undefined ? [] : Array.isArray(route.middleware) ? route.middleware : [route.middleware];
  return { ...route, middleware: [refuseBody, ...own] };
}

export function createRouter() {
  const router = new OpenAPIHono<AppEnv>({ strict: true, defaultHook: validationHook });
  const openapi = router.openapi;
  router.openapi = ((route: RouteConfig, ...rest: unknown[]) => (openapi as (...args: unknown[]) => unknown)(withoutUndeclaredBody(route), ...rest)) as typeof router.openapi;
  return router;
}
