/** @jsxImportSource hono/jsx */
/**
 * Rendering pages and errors. Every dashboard response carries a strict CSP: scripts only with this
 * response's nonce, styles and images only from Pulse itself, nothing framed, forms only to Pulse.
 */
import type { Child } from "hono/jsx";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { DashContext } from "./context";
import { AuthLayout } from "./layout";
import { setFlash, verifyCsrf } from "./session";
import type { Flash } from "./context";

export function contentSecurityPolicy(nonce: string): string {
  return [
    "default-src 'none'",
    `script-src 'nonce-${nonce}'`,
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "form-action 'self'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
  ].join("; ");
}

/** Renders a full HTML document with the dashboard's headers. */
export async function page(c: DashContext, body: Child, status: ContentfulStatusCode = 200) {
  const html = "<!doctype html>" + (await Promise.resolve(String(await (body as { toString(): string | Promise<string> }).toString())));
  return c.html(html, status, {
    "Content-Security-Policy": contentSecurityPolicy(c.var.nonce),
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
  });
}

/** POST-redirect-GET: after a change, the browser lands on a page it may reload safely. */
export async function redirectWith(c: DashContext, to: string, flash?: Flash) {
  if (flash) await setFlash(c, flash);
  return c.redirect(to, 303);
}

/**
 * Reads an urlencoded form (the body was already read, size-limited, by the body middleware) and
 * refuses it with 403 unless it carries this visitor's CSRF token.
 */
export async function verifiedForm(c: DashContext): Promise<URLSearchParams> {
  const form = new URLSearchParams(await c.req.text());
  await verifyCsrf(c, form);
  return form;
}

const TITLES: Record<number, string> = {
  400: "That didn't work",
  401: "Please sign in",
  402: "Plan limit reached",
  403: "Not allowed",
  404: "Not found",
  409: "Conflict",
  429: "Slow down",
  500: "Something went wrong",
  502: "LiveKit did not answer",
  503: "Temporarily unavailable",
};

export function errorPage(c: DashContext, status: ContentfulStatusCode, message: string) {
  // Errors raised before the dashboard's own middleware ran still get a nonce for the page.
  if (!c.var.nonce) c.set("nonce", crypto.randomUUID().replace(/-/g, ""));
  const title = TITLES[status] ?? "Something went wrong";
  return page(
    c,
    <AuthLayout c={c} title={title}>
      <p>{message}</p>
      <p class="muted small">Request id: <code>{c.var.requestId}</code></p>
      <p class="auth-foot">
        <a href="/">Back to the dashboard</a>
      </p>
    </AuthLayout>,
    status,
  );
}
