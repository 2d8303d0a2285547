import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../env";
import { bearerToken } from "./credentials";
import { unauthenticated } from "../lib/errors";
import { timingSafeEqual } from "../lib/secrets";

/** Platform operators: `Authorization: Bearer <PULSE_ADMIN_TOKEN>`, compared in constant time. */
export const requireAdmin: MiddlewareHandler<AppEnv> = async (c, next) => {
  const token = bearerToken(c.req.header("Authorization"));
  if (!token || !timingSafeEqual(token, c.var.config.adminToken)) throw unauthenticated("This endpoint needs the platform admin token.");
  await next();
};
