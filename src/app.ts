/**
 * The one place the HTTP application is assembled: cross-cutting middleware in order, then each
 * domain's router, then the error, 404 and 405 handlers that guarantee the contract's envelope.
 */
import { HTTPException } from "hono/http-exception";
import { methodNotAllowed } from "hono/method-not-allowed";
import type { Context } from "hono";
import { ConfigError } from "./config";
import type { AppEnv } from "./env";
import { ApiError, errorBody } from "./lib/errors";
import { createLogger, describeError } from "./lib/logger";
import { newId } from "./lib/ids";
import { dashboardErrorPage, dashboardRoutes, wantsHtml } from "./dashboard/routes";
import { createRouter } from "./router";
import { cors } from "./middleware/cors";
import { httpsOnly } from "./middleware/https-only";
import { jsonBody } from "./middleware/json-body";
import { requestContext, withConfig } from "./middleware/request-context";
import { requestLog } from "./middleware/request-log";
import { securityHeaders } from "./middleware/security-headers";
import { authenticate } from "./auth/table";
import { auditDenied } from "./audit/denied";
import { apiKeyRoutes } from "./api-keys/routes";
import { livekitKeyRoutes } from "./livekit-keys/routes";
import { twirpRoutes } from "./compat/routes";
import { auditRoutes } from "./audit/routes";
import { egressRoutes } from "./egress/routes";
import { accountRoutes } from "./identity/account-routes";
import { identityRoutes } from "./identity/routes";
import { ingressRoutes } from "./ingress/routes";
import { developmentOnly, mailRoutes } from "./mail/routes";
import { invitationRoutes } from "./invitations/routes";
import { memberRoutes } from "./members/routes";
import { orgRoutes } from "./orgs/routes";
import { projectRoutes } from "./projects/routes";
import { statusRoutes } from "./status/routes";
import { adminRoutes } from "./admin/routes";
import { livekitWebhookRoutes } from "./inbound/routes";
import { webhookRoutes } from "./webhooks/routes";
import { usageRoutes } from "./usage/routes";
import { tokenRoutes } from "./tokens/routes";
import { billingRoutes } from "./billing/routes";
import { roomRoutes } from "./rooms/routes";
import { sessionRoutes } from "./sessions/routes";
import { apiDocsRoutes } from "./api-docs/routes";

function respondWithError(c: Context<AppEnv>, error: ApiError) {
  // Browsers on dashboard pages get pages; the API's paths (and non-browser clients) keep the envelope.
  if (wantsHtml(c)) return dashboardErrorPage(c, error);
  const requestId = c.var.requestId ?? newId("request");
  return c.json(errorBody(error, requestId), error.status, { ...error.headers, "X-Request-Id": requestId });
}

const OPENAPI_INFO = {
  openapi: "3.1.0",
  info: {
    title: "Pulse API",
    version: "1.0.0",
    description: "Multi-tenant control plane for LiveKit: organizations, projects, API keys, LiveKit access tokens, rooms, egress, ingress, webhooks, usage and billing.",
    license: { name: "Proprietary", identifier: "LicenseRef-Proprietary" },
  },
};

export function createApp() {
  const app = createRouter();

  // LiveKit's Twirp API first: it has its own middleware and answers in Twirp's error format, so
  // none of the /v1 middleware below (JSON-only bodies, the error envelope) runs for it.
  app.route("/", twirpRoutes);

  app.use("*", requestContext);
  app.use("*", requestLog);
  app.use("*", securityHeaders);
  // A missing or malformed var throws a ConfigError here: 500 for the request, the var named in the log.
  app.use("*", withConfig);
  app.use("*", cors);
  app.use("*", httpsOnly);
  // Development helpers do not exist in production: 404 before anything could tell otherwise.
  app.use("/v1/dev/*", developmentOnly);
  app.use("*", jsonBody);
  app.use("*", methodNotAllowed({
    app,
    onMethodNotAllowed: (c, methods) =>
      respondWithError(c as Context<AppEnv>, new ApiError("method_not_allowed", `Method ${c.req.method} is not allowed here.`, {
        headers: { Allow: methods.join(", ") },
      })),
  }));

  // Who may call what is one table (auth/table.ts), applied here before any router: routers never
  // authenticate on their own, so the order below carries no meaning.
  app.use("*", authenticate);

  app.route("/", statusRoutes);
  app.route("/", adminRoutes);
  app.route("/", identityRoutes);
  app.route("/", accountRoutes);
  app.route("/", mailRoutes);
  app.route("/", orgRoutes);
  app.route("/", projectRoutes);
  app.route("/", apiKeyRoutes);
  app.route("/", livekitKeyRoutes);
  app.route("/", auditRoutes);
  app.route("/", livekitWebhookRoutes);
  app.route("/", webhookRoutes);
  app.route("/", usageRoutes);
  app.route("/", memberRoutes);
  app.route("/", invitationRoutes);
  app.route("/", tokenRoutes);
  app.route("/", egressRoutes);
  app.route("/", ingressRoutes);
  app.route("/", billingRoutes);
  app.route("/", roomRoutes);
  app.route("/", sessionRoutes);
  // The OpenAPI document of every route above (completed centrally: src/api-docs/document.ts) and its reference page.
  app.route("/", apiDocsRoutes(() => app.getOpenAPI31Document(OPENAPI_INFO) as never));
  // Last: the dashboard's pages (HTML) on every path outside the API's.
  app.route("/", dashboardRoutes as never);

  app.notFound((c) => respondWithError(c, new ApiError("not_found", `No route for ${c.req.method} ${new URL(c.req.url).pathname}.`)));

  app.onError((err, c) => {
    if (err instanceof ApiError) {
      auditDenied(c, err);
      return respondWithError(c, err);
    }
    const logger = c.var.logger ?? createLogger({ request_id: c.var.requestId });
    if (err instanceof ConfigError) {
      logger.error("config_invalid", { variable: err.variable, error_message: err.message });
      return respondWithError(c, new ApiError("internal_error", "The service is misconfigured. The operators have been told."));
    }
    if (err instanceof HTTPException) {
      // Hono's own validators and helpers: map to the contract's codes.
      if (err.status === 400 && /JSON/i.test(err.message)) return respondWithError(c, new ApiError("invalid_json", "The request body is not valid JSON."));
      if (err.status === 413) return respondWithError(c, new ApiError("payload_too_large", "The request body is too large."));
      // zod-openapi's media-type gate: stricter than ours about the header's form (`application/json;`).
      if (err.status === 415) return respondWithError(c, new ApiError("unsupported_media_type", "Request bodies must be JSON (Content-Type: application/json)."));
      if (err.status < 500) return respondWithError(c, new ApiError("validation_failed", err.message || "Invalid request."));
    }
    logger.error("unhandled_error", { route: c.req.routePath, ...describeError(err) });
    return respondWithError(c, new ApiError("internal_error", "Something went wrong on our side. Quote the request id if you contact support."));
  });

  return app;
}

