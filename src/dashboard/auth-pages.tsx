/** @jsxImportSource hono/jsx */
/**
 * Signing up, in and out, and confirming an email address. Sign-up, sign-in and confirming are
 * limited per client IP like the API's; the first two put the new session in the `pulse_session`
 * cookie and continue to `next` (same-site paths only).
 */
import { Hono, type MiddlewareHandler } from "hono";
import { auditActor } from "../audit/record";
import { login, logout, signup } from "../identity/service";
import { verifyEmail } from "../identity/verification";
import { LoginBody, SignupBody } from "../identity/schemas";
import { rateLimitByIp } from "../middleware/rate-limit";
import { asAppContext, depsFor, type DashboardEnv, type DashContext } from "./context";
import { formErrors, parseWith, safeNext } from "./forms";
import { AuthLayout } from "./layout";
import { page, redirectWith, verifiedForm } from "./render";
import { clearSessionCookie, setSessionCookie } from "./session";
import { Button, Field, LinkToken, PostForm, type FieldErrors } from "./ui";

export const authPages = new Hono<DashboardEnv>();

// The API's per-IP limiter, on the dashboard's forms that check credentials, tokens or create accounts.
export const limited = rateLimitByIp as unknown as MiddlewareHandler<DashboardEnv>;

function nextQuery(next: string) {
  return next === "/" ? "" : `?next=${encodeURIComponent(next)}`;
}

function SignupPage(p: { c: DashContext; next: string; values?: Record<string, string>; errors?: FieldErrors }) {
  const e = p.errors ?? {};
  return (
    <AuthLayout c={p.c} title="Create your account" subtitle="Projects, keys and tokens for your LiveKit apps in minutes.">
      <PostForm action={`/signup${nextQuery(p.next)}`} csrf={p.c.var.csrfToken}>
        {e._form ? <p class="error" role="alert">{e._form}</p> : null}
        <Field label="Your name" name="name" value={p.values?.name} error={e.name} required autocomplete="name" autofocus />
        <Field label="Work email" name="email" type="email" value={p.values?.email} error={e.email} required autocomplete="email" />
        <Field label="Password" name="password" type="password" error={e.password} required autocomplete="new-password" minlength={10} hint="At least 10 characters." />
        <Button>Create account</Button>
      </PostForm>
      <p class="auth-foot">
        Already have an account? <a href={`/login${nextQuery(p.next)}`}>Sign in</a>
      </p>
    </AuthLayout>
  );
}

function LoginPage(p: { c: DashContext; next: string; email?: string; errors?: FieldErrors }) {
  const e = p.errors ?? {};
  return (
    <AuthLayout c={p.c} title="Sign in to Pulse">
      <PostForm action={`/login${nextQuery(p.next)}`} csrf={p.c.var.csrfToken}>
        {e._form ? <p class="error" role="alert">{e._form}</p> : null}
        <Field label="Email" name="email" type="email" value={p.email} error={e.email} required autocomplete="email" autofocus />
        <Field label="Password" name="password" type="password" error={e.password} required autocomplete="current-password" />
        <Button>Sign in</Button>
      </PostForm>
      <p class="auth-foot">
        <a href="/forgot-password">Forgot your password?</a> · <a href={`/signup${nextQuery(p.next)}`}>Create an account</a>
      </p>
    </AuthLayout>
  );
}

authPages.get("/signup", (c) => {
  const next = safeNext(c.req.query("next"));
  if (c.var.viewer) return c.redirect(next, 303);
  return page(c, <SignupPage c={c} next={next} values={{ email: c.req.query("email") ?? "" }} />);
});

authPages.post("/signup", limited, async (c) => {
  const form = await verifiedForm(c);
  const next = safeNext(c.req.query("next"));
  const values = { name: form.get("name") ?? "", email: form.get("email") ?? "", password: form.get("password") ?? "" };
  const parsed = parseWith(SignupBody, values);
  const shown = { name: values.name, email: values.email };
  if (!parsed.ok) return page(c, <SignupPage c={c} next={next} values={shown} errors={parsed.errors} />, 400);
  try {
    const result = await signup(depsFor(c), auditActor(asAppContext(c)), parsed.data);
    setSessionCookie(c, result.token, result.expiresAt);
  } catch (error) {
    const errors = formErrors(error, "email");
    if (!errors) throw error;
    return page(c, <SignupPage c={c} next={next} values={shown} errors={errors} />, 400);
  }
  return redirectWith(c, next === "/" ? "/orgs/new" : next, { notice: "Welcome to Pulse. Check your inbox to confirm your email address." });
});

authPages.get("/login", (c) => {
  const next = safeNext(c.req.query("next"));
  if (c.var.viewer) return c.redirect(next, 303);
  return page(c, <LoginPage c={c} next={next} />);
});

authPages.post("/login", limited, async (c) => {
  const form = await verifiedForm(c);
  const next = safeNext(c.req.query("next"));
  const values = { email: form.get("email") ?? "", password: form.get("password") ?? "" };
  const parsed = parseWith(LoginBody, values);
  if (!parsed.ok) return page(c, <LoginPage c={c} next={next} email={values.email} errors={parsed.errors} />, 400);
  try {
    const result = await login(depsFor(c), auditActor(asAppContext(c)), parsed.data);
    setSessionCookie(c, result.token, result.expiresAt);
  } catch (error) {
    const errors = formErrors(error, "password");
    if (!errors) throw error;
    return page(c, <LoginPage c={c} next={next} email={values.email} errors={errors} />, 401);
  }
  return redirectWith(c, next);
});

authPages.post("/logout", async (c) => {
  const form = await verifiedForm(c);
  const viewer = c.var.viewer;
  if (viewer) await logout(c.var.db, { sessionId: viewer.sessionId, audit: auditActor(asAppContext(c)) });
  clearSessionCookie(c);
  return redirectWith(c, "/login", { notice: "You are signed out." });
});

/**
 * The emailed confirmation link (`/verify-email?token=…`). Opening it shows a button rather than
 * confirming at once, so a mail scanner that follows links cannot use the token up; the token
 * travels on in the form, never in a Referer (every page sends `Referrer-Policy: no-referrer`).
 */
function VerifyEmailPage(p: { c: DashContext; token: string; errors?: FieldErrors }) {
  const e = p.errors ?? {};
  return (
    <AuthLayout c={p.c} title="Confirm your email address" subtitle="One click and your account can join organizations.">
      <PostForm action="/verify-email" csrf={p.c.var.csrfToken}>
        {e.token || e._form ? <p class="error" role="alert">{e.token ?? e._form}</p> : null}
        <LinkToken token={p.token} missing="This link has no confirmation token. Open the link from the email again." />
        <Button>Confirm email</Button>
      </PostForm>
    </AuthLayout>
  );
}

authPages.get("/verify-email", (c) => page(c, <VerifyEmailPage c={c} token={c.req.query("token") ?? ""} />));

authPages.post("/verify-email", limited, async (c) => {
  const form = await verifiedForm(c);
  const token = form.get("token") ?? "";
  try {
    await verifyEmail(depsFor(c), auditActor(asAppContext(c)), token);
  } catch (error) {
    const errors = formErrors(error, "token");
    if (!errors) throw error;
    return page(c, <VerifyEmailPage c={c} token={token} errors={errors} />, 400);
  }
  return redirectWith(c, c.var.viewer ? "/account" : "/login", { notice: "Your email address is confirmed." });
});
