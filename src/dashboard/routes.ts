/**
 * The dashboard: server-rendered pages on the same services as the JSON API. Mounted after the
 * API's routers; its middleware runs only outside the API's paths, so `/v1/*`, `/health`,
 * `/metrics` and `/twirp/*` behave exactly as without it.
 */
import { Hono, type Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { AppEnv } from "../env";
import { ApiError } from "../lib/errors";
import { isApiPath } from "../lib/paths";
import { accountPages } from "./account-pages";
import { assetRoutes } from "./assets";
import { authPages } from "./auth-pages";
import type { DashboardEnv, DashContext } from "./context";
import { invitationPages } from "./invitation-pages";
import { livekitKeyPages } from "./livekit-key-pages";
import { mediaPages } from "./media-pages";
import { orgPages } from "./org-pages";
import { passwordPages } from "./password-pages";
import { orgRecordPages } from "./org-records-pages";
import { projectPages } from "./project-pages";
import { roomPages } from "./room-pages";
import { usagePages } from "./usage-pages";
import { webhookPages } from "./webhook-pages";
import { errorPage } from "./render";
import { dashboardSession } from "./session";

export const dashboardRoutes = new Hono<DashboardEnv>({ strict: true });

dashboardRoutes.route("/", assetRoutes);
/**
 * The dashboard's own paths, and only those: a wildcard would also match the API's requests (and
 * become the route template in their log lines). `/account/*` matches `/account` too, and the
 * session middleware must run once per request (it counts the request against the user's limit).
 */
const PAGE_PATHS = ["/", "/login", "/signup", "/logout", "/verify-email", "/account/*", "/orgs/*", "/projects/*", "/invitations/*", "/forgot-password", "/reset-password"];
for (const path of PAGE_PATHS) dashboardRoutes.use(path, dashboardSession);
dashboardRoutes.route("/", authPages);
dashboardRoutes.route("/", passwordPages);
dashboardRoutes.route("/", accountPages);
dashboardRoutes.route("/", invitationPages);
dashboardRoutes.route("/", orgPages);
dashboardRoutes.route("/", orgRecordPages);
dashboardRoutes.route("/", projectPages);
dashboardRoutes.route("/", webhookPages);
dashboardRoutes.route("/", usagePages);
dashboardRoutes.route("/", mediaPages);
dashboardRoutes.route("/", roomPages);
dashboardRoutes.route("/", livekitKeyPages);

/** The dashboard's answer to an error: an HTML page with the right status, never a stack trace. */
export function dashboardErrorPage(c: Context<AppEnv>, error: unknown) {
  const dc = c as unknown as DashContext;
  if (error instanceof ApiError && error.code !== "internal_error") {
    for (const [name, value] of Object.entries(error.headers ?? {})) c.header(name, value);
    const status = error.status as ContentfulStatusCode;
    const message = error.code === "not_found" ? "This page does not exist, or you do not have access to it." : error.message;
    return errorPage(dc, status, message);
  }
  return errorPage(dc, 500, "Something went wrong on our side. Quote the request id below if you contact support.");
}

/** Browsers asking for a page Pulse does not have get an HTML 404; API clients keep the envelope. */
export function wantsHtml(c: Context<AppEnv>): boolean {
  return !isApiPath(c.req.path) && (c.req.header("Accept") ?? "").includes("text/html");
}
