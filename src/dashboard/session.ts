/**
 * Cookie sessions, CSRF and one-time flash messages for the dashboard.
 *
 * - `pulse_session` holds the same opaque session token (`sess_…`) the API takes as a bearer
 *   token: HttpOnly, SameSite=Lax, Secure in production, so scripts never see it.
 * - Every state-changing form carries `_csrf`: an HMAC, keyed with the session token (or, signed
 *   out, with the random `pulse_csrf` cookie), of a fixed label. Another site can neither read
 *   the cookie nor compute the token, so a forged POST is refused with 403.
 * - A flash (notice, error, or a secret to show once) travels to the page after a redirect in
 *   `pulse_flash`, encrypted with the at-rest key and deleted by the page that shows it.
 */
import type { MiddlewareHandler } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import { SESSION_TOKEN_PREFIX } from "../auth/credentials";
import { findLiveSession, sessionRequest } from "../auth/session";
import { nowMs } from "../lib/clock";
import { ApiError } from "../lib/errors";
import { bytesToBase64 } from "../lib/base64";
import { decryptSecret, encryptSecret, generateSecret, hmacSha256Hex, timingSafeEqual } from "../lib/secrets";
import { randomBytes } from "../lib/ids";
import { asAppContext, type DashboardEnv, type DashContext, type Flash } from "./context";

export const SESSION_COOKIE = "pulse_session";
const CSRF_COOKIE = "pulse_csrf";
const FLASH_COOKIE = "pulse_flash";
export const CSRF_FIELD = "_csrf";

function secure(c: DashContext): boolean {
  return c.var.config.isProduction;
}

export function setSessionCookie(c: DashContext, token: string, expiresAt: number) {
  setCookie(c, SESSION_COOKIE, token, {
    path: "/",
    httpOnly: true,
    sameSite: "Lax",
    secure: secure(c),
    expires: new Date(expiresAt),
  });
}

export function clearSessionCookie(c: DashContext) {
  deleteCookie(c, SESSION_COOKIE, { path: "/", secure: secure(c) });
}

const csrfFor = (material: string) => hmacSha256Hex(material, "pulse-dashboard-csrf-v1");

/**
 * Resolves the viewer from the cookie, prepares the CSRF token and the CSP nonce, reads (and
 * consumes) the flash. Runs on every dashboard request.
 */
export const dashboardSession: MiddlewareHandler<DashboardEnv> = async (c, next) => {
  c.set("nonce", bytesToBase64(randomBytes(16)));
  const token = getCookie(c, SESSION_COOKIE);
  let viewer = null;
  if (token?.startsWith(SESSION_TOKEN_PREFIX)) {
    const at = nowMs();
    const row = await findLiveSession(c.var.db, token, at);
    if (row) {
      viewer = { userId: row.userId, sessionId: row.sessionId, email: row.email, name: row.name, emailVerified: row.emailVerifiedAt !== null };
      c.set("caller", { kind: "user", userId: row.userId, sessionId: row.sessionId, email: row.email });
      // Pages count as the session's use and against the user's limit, like the API's routes.
      await sessionRequest(asAppContext(c), row, at);
    }
  }
  c.set("viewer", viewer);

  let material = viewer ? token! : getCookie(c, CSRF_COOKIE);
  if (!material) {
    material = generateSecret("csrf_", 24);
    setCookie(c, CSRF_COOKIE, material, { path: "/", httpOnly: true, sameSite: "Lax", secure: secure(c) });
  }
  c.set("csrfToken", await csrfFor(material));
  c.set("flash", await readFlash(c));
  await next();
};

/** Refuses a state-changing request whose form lacks the right `_csrf` (403). */
export async function verifyCsrf(c: DashContext, form: URLSearchParams): Promise<void> {
  const sent = form.get(CSRF_FIELD) ?? "";
  if (!sent || !timingSafeEqual(sent, c.var.csrfToken)) {
    throw new ApiError("forbidden", "This form has expired or did not come from Pulse. Reload the page and try again.");
  }
}

/** The flash cookie is sealed like a stored secret, bound to its cookie (it has no row). */
const FLASH_SEALED_AT = { table: "cookie", column: FLASH_COOKIE, rowId: "" };

export async function setFlash(c: DashContext, flash: Flash) {
  const sealed = await encryptSecret(JSON.stringify(flash), c.var.config.encryptionKeys, FLASH_SEALED_AT);
  setCookie(c, FLASH_COOKIE, sealed, { path: "/", httpOnly: true, sameSite: "Lax", secure: secure(c), maxAge: 120 });
}

async function readFlash(c: DashContext): Promise<Flash | null> {
  const sealed = getCookie(c, FLASH_COOKIE);
  if (!sealed) return null;
  // Only a page (GET) consumes it; a POST that redirects keeps it for the page after.
  if (c.req.method !== "GET") return null;
  deleteCookie(c, FLASH_COOKIE, { path: "/", secure: secure(c) });
  try {
    return JSON.parse(await decryptSecret(sealed, c.var.config.encryptionKeys, FLASH_SEALED_AT)) as Flash;
  } catch {
    return null;
  }
}
