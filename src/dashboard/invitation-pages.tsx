/** @jsxImportSource hono/jsx */
/**
 * `/invitations/accept`: where an invitation's `accept_url` lands. The token comes in the
 * fragment (`#token=`, which browsers never send to servers; the page's script moves it into
 * the form) or the query. A signed-out invitee chooses to sign in or create an account: the token
 * waits in a short-lived HttpOnly cookie and the page comes back after, ready to accept. Accepting
 * is limited per client IP, like the API's route, since it checks a secret.
 */
import { Hono } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import { auditActor } from "../audit/record";
import { acceptInvitation } from "../invitations/service";
import { ApiError } from "../lib/errors";
import { limited } from "./auth-pages";
import { asAppContext, type DashboardEnv, type DashContext } from "./context";
import { AuthLayout } from "./layout";
import { page, redirectWith, verifiedForm } from "./render";
import { Button, LinkToken, PostForm } from "./ui";

export const invitationPages = new Hono<DashboardEnv>();

const PENDING_COOKIE = "pulse_invitation";
const PATH = "/invitations/accept";

function TokenField(p: { token: string }) {
  return <LinkToken token={p.token} missing="This link has no invitation token. Open the link from your invitation email again." />;
}

function AcceptPage(p: { c: DashContext; token: string; error?: string }) {
  const { c } = p;
  const viewer = c.var.viewer;
  return (
    <AuthLayout c={c} title="Join an organization on Pulse" subtitle={viewer ? <>Signed in as <strong>{viewer.email}</strong>.</> : "You were invited to an organization's team."}>
      {p.error ? (
        <p class="flash flash-bad" role="alert">
          {p.error}
        </p>
      ) : null}
      {viewer ? (
        <PostForm action={PATH} csrf={c.var.csrfToken}>
          <TokenField token={p.token} />
          <Button>Accept invitation</Button>
        </PostForm>
      ) : (
        <>
          <p>Sign in with the email address the invitation was sent to, or create an account with it. You come back here to accept.</p>
          <PostForm action={`${PATH}/continue`} csrf={c.var.csrfToken}>
            <TokenField token={p.token} />
            <div class="form-actions">
              <Button attrs={{ name: "to", value: "signup" }}>Create an account</Button>
              <Button kind="secondary" attrs={{ name: "to", value: "login" }}>
                I have an account
              </Button>
            </div>
          </PostForm>
        </>
      )}
    </AuthLayout>
  );
}

invitationPages.get(PATH, (c) => {
  const token = c.req.query("token") ?? getCookie(c, PENDING_COOKIE) ?? "";
  return page(c, <AcceptPage c={c} token={token} />);
});

/** A signed-out invitee on their way to sign in or up: keep the token for when they come back. */
invitationPages.post(`${PATH}/continue`, async (c) => {
  const form = await verifiedForm(c);
  const token = form.get("token") ?? "";
  if (token) setCookie(c, PENDING_COOKIE, token, { path: PATH, httpOnly: true, sameSite: "Lax", secure: c.var.config.isProduction, maxAge: 86_400 });
  const to = form.get("to") === "login" ? "/login" : "/signup";
  return c.redirect(`${to}?next=${encodeURIComponent(PATH)}`, 303);
});

invitationPages.post(PATH, limited, async (c) => {
  const form = await verifiedForm(c);
  const token = form.get("token") || getCookie(c, PENDING_COOKIE) || "";
  const viewer = c.var.viewer;
  if (!viewer) return c.redirect(`/login?next=${encodeURIComponent(PATH)}`, 303);
  try {
    const { org, member } = await acceptInvitation(c.var.db, auditActor(asAppContext(c)), viewer.userId, token);
    deleteCookie(c, PENDING_COOKIE, { path: PATH });
    return redirectWith(c, `/orgs/${org.id}`, { notice: `Welcome to ${org.name}: you joined as ${member.role}.` });
  } catch (error) {
    if (!(error instanceof ApiError) || !["not_found", "forbidden", "conflict"].includes(error.code)) throw error;
    const message = error.code === "not_found" ? "This invitation link is not valid. Ask for a new invitation." : error.message;
    return page(c, <AcceptPage c={c} token={token} error={message} />, error.status as 403 | 404 | 409);
  }
});
