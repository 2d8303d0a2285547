/**
 * Every router of the app: typed with the Worker's bindings and `c.var` (`AppEnv`), strict about
 * trailing slashes, and sharing the hook that turns a failed zod schema into the contract's
 * `validation_failed` envelope.
 */
import { OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "./env";
import { validationHook } from "./lib/openapi";

export function createRouter() {
  return new OpenAPIHono<AppEnv>({ strict: true, defaultHook: validationHook });
}
