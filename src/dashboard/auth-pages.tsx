/** @jsxImportSource hono/jsx */
/**
 * Signing up, in and out. Sign-up and sign-in are limited per client IP like the API's; both put
 * the new session in the `pulse_session` cookie and continue to `next` (same-site paths only).
 */
import { Hono, type MiddlewareHandler } from "hono";
import { auditActor } from "../audit/record";
import { login, logout, signup } from "../identity/service";
import { LoginBody, SignupBody } from "../identity/schemas";
import { rateLimitByIp } from "../middleware/rate-limit";
import { asAppContext, type DashboardEnv, type DashContext } from "./context";
import { formErrors, parseWith, safeNext } from "./forms";
import { AuthLayout } from "./layout";
import { page, redirectWith, verifiedForm } from "./render";
import { clearSessionCookie, setSessionCookie } from "./session";
import { Button, Field, PostForm, type FieldErrors } from "./ui";

export const authPages = new Hono<DashboardEnv>();

// The API's per-IP limiter, on the dashboard's forms that check credentials or create accounts.
const limited = rateLimitByIp as unknown as MiddlewareHandler<DashboardEnv>;

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
    const result = await signup(c.var.db, parsed.data, { ttlHours: c.var.config.sessionTtlHours, actor: auditActor(asAppContext(c)) });
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
    const result = await login(c.var.db, parsed.data, { ttlHours: c.var.config.sessionTtlHours, actor: auditActor(asAppContext(c)) });
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
