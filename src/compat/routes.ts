/**
 * LiveKit's Twirp API served by Pulse: `POST /twirp/livekit.<Service>/<Method>`, JSON or
 * protobuf, so LiveKit's server SDKs work with `host` = Pulse and a project's LiveKit key.
 *
 * This router is mounted before the `/v1` middleware (JSON-only bodies, the error envelope) and
 * brings its own: the same request context, log line, security headers and configuration, with
 * every failure answered in Twirp's format. Per request: route → authenticate the JWT (and rate
 * limit the project) → decode → check the grant LiveKit requires → the method's handler, which
 * calls the same services as the REST routes → encode in the request's encoding.
 */
import type { Context } from "hono";
import { ConfigError } from "../config";
import { depsOf } from "../deps";
import type { AppEnv } from "../env";
import { ApiError } from "../lib/errors";
import { newId } from "../lib/ids";
import { createLogger, describeError } from "../lib/logger";
import { createRouter } from "../router";
import { httpsOnly } from "../middleware/https-only";
import { requestContext, withConfig } from "../middleware/request-context";
import { requestLog } from "../middleware/request-log";
import { securityHeaders } from "../middleware/security-headers";
import { authenticateTwirp } from "./auth";
import { decodeRequest, encodeResponse, encodingOf, readBody } from "./codec";
import { egressMethods } from "./egress";
import { permissionDenied, toTwirpFailure, TwirpFailure, twirpErrorResponse, unimplemented } from "./errors";
import { ingressMethods } from "./ingress";
import type { TwirpMethod } from "./methods";
import { roomMethods } from "./rooms";

const SERVICES: Record<string, Record<string, TwirpMethod>> = {
  "livekit.Egress": egressMethods,
  "livekit.Ingress": ingressMethods,
  "livekit.RoomService": roomMethods,
};

export const twirpRoutes = createRouter();
twirpRoutes.use("/twirp/*", requestContext);
twirpRoutes.use("/twirp/*", requestLog);
twirpRoutes.use("/twirp/*", securityHeaders);
twirpRoutes.use("/twirp/*", withConfig);
twirpRoutes.use("/twirp/*", httpsOnly);

twirpRoutes.post("/twirp/:service/:method", async (c) => {
  const { service, method } = c.req.param();
  const rpc = `${service}/${method}`;
  if (!/^livekit\.\w+$/.test(service) || !/^\w+$/.test(method)) throw new TwirpFailure("bad_route", `No Twirp method ${rpc}.`);
  const handler = SERVICES[service]?.[method];
  if (!handler) throw unimplemented(rpc);
  const encoding = encodingOf(c.req.header("Content-Type"));
  if (!encoding) throw new TwirpFailure("bad_route", "Twirp requests are application/json or application/protobuf.");

  const caller = await authenticateTwirp(c);
  const request = decodeRequest(handler.request, encoding, await readBody(c.req.raw));
  const denied = handler.authorize(caller.video, request);
  if (denied) throw permissionDenied(denied);
  const answer = await handler.handle({ deps: depsOf(c), caller }, request);
  const { body, contentType } = encodeResponse(answer, encoding);
  return c.body(body as string, 200, { "Content-Type": contentType });
});

twirpRoutes.all("/twirp/*", (c) => {
  throw new TwirpFailure("bad_route", `Twirp routes take POST, not ${c.req.method}.`);
});

twirpRoutes.onError((err, c: Context<AppEnv>) => {
  const requestId = c.var.requestId ?? newId("request");
  if (err instanceof TwirpFailure) return twirpErrorResponse(c, err, requestId);
  if (err instanceof ApiError) return twirpErrorResponse(c, toTwirpFailure(err), requestId);
  const logger = c.var.logger ?? createLogger({ request_id: requestId });
  if (err instanceof ConfigError) {
    logger.error("config_invalid", { variable: err.variable, error_message: err.message });
    return twirpErrorResponse(c, new TwirpFailure("internal", "The service is misconfigured. The operators have been told."), requestId);
  }
  logger.error("unhandled_error", { route: c.req.routePath, ...describeError(err) });
  return twirpErrorResponse(c, new TwirpFailure("internal", "Something went wrong on our side. Quote the request id if you contact support."), requestId);
});
