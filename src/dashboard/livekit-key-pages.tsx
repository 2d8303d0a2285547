/** @jsxImportSource hono/jsx */
/**
 * A project's LiveKit keys: credentials in LiveKit's own format for servers written against
 * LiveKit's SDKs (Pulse's URL as their host). Members list them; admins create them (the secret
 * shown once, with a copy button) and delete them.
 */
import { Hono } from "hono";
import { auditActor } from "../audit/record";
import type { livekitKeys } from "../db/schema";
import { CreateLivekitKeyBody } from "../livekit-keys/schemas";
import { createLivekitKey, deleteLivekitKey, listLivekitKeys } from "../livekit-keys/service";
import { asAppContext, depsFor, type DashboardEnv, type DashContext } from "./context";
import { optional, parseWith } from "./forms";
import { Layout } from "./layout";
import { page, redirectWith } from "./render";
import { projectAction, projectPage, signedIn } from "./shell";
import { ActionButton, Button, Card, DataTable, Empty, Field, FormError, Pager, PostForm, Time, olderLink, type FieldErrors } from "./ui";

export const livekitKeyPages = new Hono<DashboardEnv>();
livekitKeyPages.use("/projects/*", signedIn);

type LivekitKey = typeof livekitKeys.$inferSelect;

async function keysPage(c: DashContext, projectId: string, form: { name?: string; errors?: FieldErrors } = {}, status: 200 | 400 = 200) {
  const ctx = await projectPage(c, projectId, "project:read");
  const base = `/projects/${projectId}/livekit-keys`;
  const cursor = c.req.query("cursor") || undefined;
  const canRead = ctx.may("key:read");
  const admin = ctx.may("key:write");
  const keys = canRead ? await listLivekitKeys(c.var.db, projectId, { limit: 50, cursor }) : { rows: [] as LivekitKey[], nextCursor: null };
  const e = form.errors ?? {};
  return page(
    c,
    <Layout c={c} shell={ctx.shell("LiveKit keys", "livekit-keys")}>
      <p class="muted">
        LiveKit's server SDKs (<code>RoomServiceClient</code>, <code>EgressClient</code>, <code>IngressClient</code>, <code>WebhookReceiver</code>) work unchanged with a LiveKit key of
        this project and <code>{c.var.config.publicUrl}</code> as their host.
      </p>
      {admin ? (
        <Card title="Create a LiveKit key" id="create-livekit-key">
          <PostForm action={base} csrf={c.var.csrfToken} class="form-row">
            <FormError errors={e} />
            <Field label="Label (optional)" name="name" value={form.name} error={e.name} maxlength={200} placeholder="media server" />
            <div class="field form-actions">
              <Button>Create LiveKit key</Button>
            </div>
          </PostForm>
        </Card>
      ) : null}
      <Card title="Keys" id="livekit-keys">
        {!canRead ? (
          <Empty title="Your role cannot see LiveKit keys">Members and above see them; admins create and delete them.</Empty>
        ) : (
          <DataTable
            caption="LiveKit keys"
            rows={keys.rows}
            rowKey={(k) => k.id}
            empty={<Empty title="No LiveKit keys yet">{admin ? "Create one above; its secret is shown once." : "An admin of this organization can create one."}</Empty>}
            columns={[
              { head: "API key", cell: (k) => <code>{k.apiKey}</code> },
              { head: "Label", class: "cell-name", cell: (k) => k.name || <span class="muted">—</span> },
              { head: "Created", cell: (k) => <Time at={k.createdAt} /> },
              {
                head: <span class="sr-only">Actions</span>,
                cell: (k) =>
                  admin ? (
                    <ActionButton
                      action={`${base}/${k.id}/delete`}
                      csrf={c.var.csrfToken}
                      label="Delete"
                      formLabel={`Delete ${k.apiKey}`}
                      kind="danger"
                      small
                      confirm={`Delete ${k.apiKey}? Servers using it stop working at once, and webhook endpoints signing with it are disabled.`}
                    />
                  ) : null,
              },
            ]}
          />
        )}
        <Pager newest={cursor ? base : null} older={olderLink(base, keys.nextCursor)} />
      </Card>
    </Layout>,
    status,
  );
}

livekitKeyPages.get("/projects/:project_id/livekit-keys", (c) => keysPage(c, c.req.param("project_id")));

livekitKeyPages.post("/projects/:project_id/livekit-keys", async (c) => {
  const { form, ctx } = await projectAction(c, "key:write");
  const projectId = ctx.projectId;
  const name = form.get("name") ?? "";
  const parsed = parseWith(CreateLivekitKeyBody, { name: optional(name) });
  if (!parsed.ok) return keysPage(c, projectId, { name, errors: parsed.errors }, 400);
  const { row, secret } = await createLivekitKey(depsFor(c), ctx.tenant, { userId: ctx.viewer.userId, audit: auditActor(asAppContext(c)) }, parsed.data);
  return redirectWith(c, `/projects/${projectId}/livekit-keys`, {
    notice: `LiveKit key ${row.apiKey} created.`,
    secret: { label: `API secret of ${row.apiKey}`, value: secret, hint: "Copy it now into your server's LIVEKIT_API_SECRET: Pulse will not show it again." },
  });
});

livekitKeyPages.post("/projects/:project_id/livekit-keys/:lkk_id/delete", async (c) => {
  const { ctx } = await projectAction(c, "key:write");
  const projectId = ctx.projectId;
  await deleteLivekitKey(depsFor(c), ctx.tenant, { audit: auditActor(asAppContext(c)) }, c.req.param("lkk_id"));
  return redirectWith(c, `/projects/${projectId}/livekit-keys`, { notice: "LiveKit key deleted." });
});
