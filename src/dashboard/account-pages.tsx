/** @jsxImportSource hono/jsx */
/**
 * The signed-in person's own account: who they are, their organizations, changing the password
 * (which signs out their other sessions) and their sessions, each revocable, or all but this one.
 */
import { Hono } from "hono";
import { auditActor } from "../audit/record";
import type { sessions } from "../db/schema";
import { listSessions, revokeOtherSessions, revokeSession, type SessionCaller } from "../identity/my-sessions";
import { changePassword } from "../identity/passwords";
import { ChangePasswordBody } from "../identity/schemas";
import { ApiError } from "../lib/errors";
import { listOrgsOf } from "../orgs/service";
import { asAppContext, depsFor, type DashboardEnv, type DashContext } from "./context";
import { formErrors, parseWith } from "./forms";
import { Layout } from "./layout";
import { page, redirectWith, verifiedForm } from "./render";
import { clearSessionCookie } from "./session";
import { signedIn, viewerOf } from "./shell";
import { ActionButton, Badge, Button, Card, DataTable, Field, FormError, KeyValues, Pager, PostForm, Time, olderLink, type FieldErrors } from "./ui";

export const accountPages = new Hono<DashboardEnv>();
accountPages.use("/account", signedIn);
accountPages.use("/account/*", signedIn);

type SessionRow = typeof sessions.$inferSelect;

function caller(c: DashContext): SessionCaller {
  const viewer = viewerOf(c);
  return { userId: viewer.userId, sessionId: viewer.sessionId, actor: auditActor(asAppContext(c)) };
}

async function accountPage(c: DashContext, passwordErrors: FieldErrors = {}, status: 200 | 400 | 429 = 200) {
  const viewer = viewerOf(c);
  const cursor = c.req.query("cursor") || undefined;
  const [orgs, mySessions] = await Promise.all([listOrgsOf(depsFor(c), viewer.userId, { limit: 100 }), listSessions(c.var.db, viewer.userId, { limit: 50, cursor })]);
  const orgList = orgs.rows.map((r) => ({ id: r.org.id, name: r.org.name }));
  const csrf = c.var.csrfToken;
  const current = (s: SessionRow) => s.id === viewer.sessionId;
  return page(
    c,
    <Layout c={c} shell={{ title: "Your account", section: "account", orgs: orgList }}>
      <Card title="Profile" id="profile">
        <KeyValues
          items={[
            ["Name", viewer.name],
            ["Email", <>{viewer.email} {viewer.emailVerified ? <Badge tone="ok">verified</Badge> : <Badge tone="warn">not verified</Badge>}</>],
          ]}
        />
      </Card>
      <Card title="Change password" id="password">
        <PostForm action="/account/password" csrf={csrf}>
          <FormError errors={passwordErrors} />
          <div class="form-row">
            <Field label="Current password" name="current_password" type="password" error={passwordErrors.current_password} required autocomplete="current-password" />
            <Field
              label="New password"
              name="new_password"
              type="password"
              error={passwordErrors.new_password}
              required
              autocomplete="new-password"
              minlength={10}
              hint="At least 10 characters."
            />
          </div>
          <Button kind="secondary">Change password</Button>
        </PostForm>
        <p class="hint">Your other sessions are signed out when the password changes; this one stays signed in.</p>
      </Card>
      <Card
        title="Sessions"
        id="sessions"
        actions={<ActionButton action="/account/sessions/revoke-all" csrf={csrf} label="Sign out all other sessions" kind="danger" small confirm="Sign out every other browser and device?" />}
      >
        <DataTable<SessionRow>
          caption="Your sessions"
          rows={mySessions.rows}
          rowKey={(s) => s.id}
          columns={[
            { head: "Signed in", cell: (s) => <><Time at={s.createdAt} /> {current(s) ? <Badge tone="info">this session</Badge> : null}</> },
            { head: "Last used", cell: (s) => <Time at={s.lastUsedAt} /> },
            { head: "IP address", cell: (s) => (s.ip ? <code>{s.ip}</code> : <span class="muted">—</span>) },
            { head: "Browser", class: "small cell-wrap", cell: (s) => s.userAgent ?? <span class="muted">—</span> },
            { head: "Expires", cell: (s) => <Time at={s.expiresAt} /> },
            {
              head: <span class="sr-only">Actions</span>,
              cell: (s) => (
                <ActionButton
                  action={`/account/sessions/${s.id}/revoke`}
                  csrf={csrf}
                  label={current(s) ? "Sign out" : "Revoke"}
                  kind="danger"
                  small
                  confirm={current(s) ? "Sign out of this session?" : "Revoke this session? That browser is signed out at once."}
                />
              ),
            },
          ]}
        />
        <Pager newest={cursor ? "/account#sessions" : null} older={olderLink("/account", mySessions.nextCursor)} />
      </Card>
      <Card title="Organizations" id="orgs">
        <DataTable
          caption="Your organizations"
          rows={orgs.rows}
          columns={[
            { head: "Organization", class: "cell-name", cell: (r) => <a href={`/orgs/${r.org.id}`}>{r.org.name}</a> },
            { head: "Your role", cell: (r) => <Badge>{r.role}</Badge> },
          ]}
        />
      </Card>
    </Layout>,
    status,
  );
}

accountPages.get("/account", (c) => accountPage(c));

accountPages.post("/account/password", async (c) => {
  const form = await verifiedForm(c);
  const parsed = parseWith(ChangePasswordBody, { current_password: form.get("current_password") ?? "", new_password: form.get("new_password") ?? "" });
  if (!parsed.ok) return accountPage(c, parsed.errors, 400);
  const me = caller(c);
  try {
    await changePassword(depsFor(c), me.actor, me, parsed.data);
  } catch (error) {
    const errors = formErrors(error, "current_password");
    if (!errors) throw error;
    return accountPage(c, errors, error instanceof ApiError && error.code === "rate_limited" ? 429 : 400);
  }
  return redirectWith(c, "/account", { notice: "Password changed. Your other sessions were signed out." });
});

accountPages.post("/account/sessions/revoke-all", async (c) => {
  await verifiedForm(c);
  const revoked = await revokeOtherSessions(c.var.db, caller(c));
  return redirectWith(c, "/account", { notice: revoked === 1 ? "1 other session signed out." : `${revoked} other sessions signed out.` });
});

accountPages.post("/account/sessions/:sess_id/revoke", async (c) => {
  await verifiedForm(c);
  const me = caller(c);
  const target = c.req.param("sess_id");
  await revokeSession(c.var.db, me, target);
  if (target === me.sessionId) {
    clearSessionCookie(c);
    return redirectWith(c, "/login", { notice: "You are signed out." });
  }
  return redirectWith(c, "/account", { notice: "Session revoked." });
});
