/** @jsxImportSource hono/jsx */
/**
 * Forgotten passwords: `/forgot-password` asks for the address (the answer is the same whether or
 * not it has an account) and `/reset-password` takes the emailed token, from `?token=` or from
 * the fragment (`#token=`, moved into the form by the page's script), and a new password. Setting
 * it signs the person out everywhere, as the API's reset does. Both POSTs are limited per client
 * IP like sign-in; token pages never leak the token in a Referer (`Referrer-Policy: no-referrer`).
 */
import { Hono } from "hono";
import { auditActor } from "../audit/record";
import { forgotPassword, resetPassword } from "../identity/passwords";
import { ForgotPasswordBody, ResetPasswordBody } from "../identity/schemas";
import { limited } from "./auth-pages";
import { asAppContext, depsFor, type DashboardEnv, type DashContext } from "./context";
import { formErrors, parseWith } from "./forms";
import { AuthLayout } from "./layout";
import { page, redirectWith, verifiedForm } from "./render";
import { clearSessionCookie } from "./session";
import { Button, Field, FormError, LinkToken, PostForm, type FieldErrors } from "./ui";

export const passwordPages = new Hono<DashboardEnv>();

function ForgotPage(p: { c: DashContext; email?: string; errors?: FieldErrors }) {
  const e = p.errors ?? {};
  return (
    <AuthLayout c={p.c} title="Reset your password" subtitle="We email you a link to set a new one. It works once, for an hour.">
      <PostForm action="/forgot-password" csrf={p.c.var.csrfToken}>
        <FormError errors={e} />
        <Field label="Email" name="email" type="email" value={p.email} error={e.email} required autocomplete="email" autofocus />
        <Button>Email me a link</Button>
      </PostForm>
      <p class="auth-foot">
        <a href="/login">Back to sign in</a>
      </p>
    </AuthLayout>
  );
}

passwordPages.get("/forgot-password", (c) => page(c, <ForgotPage c={c} />));

passwordPages.post("/forgot-password", limited, async (c) => {
  const form = await verifiedForm(c);
  const email = form.get("email") ?? "";
  const parsed = parseWith(ForgotPasswordBody, { email });
  if (!parsed.ok) return page(c, <ForgotPage c={c} email={email} errors={parsed.errors} />, 400);
  await forgotPassword(depsFor(c), auditActor(asAppContext(c)), parsed.data.email);
  return redirectWith(c, "/login", { notice: "If an account uses that address, a link to reset its password is on its way. Check your inbox." });
});

function ResetPage(p: { c: DashContext; token: string; errors?: FieldErrors }) {
  const e = p.errors ?? {};
  const tokenError = e.token ?? e._form;
  return (
    <AuthLayout c={p.c} title="Choose a new password" subtitle="Setting it signs you out on every device.">
      <PostForm action="/reset-password" csrf={p.c.var.csrfToken}>
        {tokenError ? (
          <p class="error" role="alert">
            {tokenError} <a href="/forgot-password">Ask for a new link.</a>
          </p>
        ) : null}
        <LinkToken token={p.token} missing="This link has no reset token. Open the link from the email again." />
        <Field label="New password" name="password" type="password" error={e.password} required autocomplete="new-password" minlength={10} hint="At least 10 characters." autofocus />
        <Button>Set new password</Button>
      </PostForm>
    </AuthLayout>
  );
}

passwordPages.get("/reset-password", (c) => page(c, <ResetPage c={c} token={c.req.query("token") ?? ""} />));

passwordPages.post("/reset-password", limited, async (c) => {
  const form = await verifiedForm(c);
  const token = form.get("token") ?? "";
  const parsed = parseWith(ResetPasswordBody, { token, password: form.get("password") ?? "" });
  if (!parsed.ok) return page(c, <ResetPage c={c} token={token} errors={parsed.errors} />, 400);
  try {
    await resetPassword(depsFor(c), auditActor(asAppContext(c)), parsed.data);
  } catch (error) {
    const errors = formErrors(error, "token");
    if (!errors) throw error;
    return page(c, <ResetPage c={c} token={token} errors={errors} />, 400);
  }
  // Every session of the account was revoked, this browser's too.
  clearSessionCookie(c);
  return redirectWith(c, "/login", { notice: "Your password is changed and you are signed out everywhere. Sign in with the new password." });
});
