/** @jsxImportSource hono/jsx */
/**
 * Project pages: overview (rename, delete), API keys (create with the secret shown once, roll,
 * revoke, scopes, expiry) and the token playground (mint a test token, see its claims).
 */
import { Hono } from "hono";
import { decodeJwt } from "jose";
import { auditActor } from "../audit/record";
import { API_KEY_SCOPES, type ApiKeyScope } from "../authz/permissions";
import { CreateApiKeyBody } from "../api-keys/schemas";
import { createApiKey, listApiKeys, revokeApiKey, rollApiKey } from "../api-keys/service";
import type { apiKeys } from "../db/schema";
import { nowMs, toIso } from "../lib/clock";
import { CreateProjectBody } from "../projects/schemas";
import { retireProject, updateProject } from "../projects/service";
import { PUBLISH_SOURCES } from "../tokens/grants";
import { CreateTokenBody } from "../tokens/schemas";
import { ADMIN_GRANTS, issueMemberToken } from "../tokens/service";
import { asAppContext, depsFor, type DashboardEnv, type DashContext } from "./context";
import { confirmsName, formErrors, optional, parseWith, utcFromLocalInput } from "./forms";
import { Layout } from "./layout";
import { page, redirectWith } from "./render";
import { projectAction, projectPage, signedIn, type ProjectPage } from "./shell";
import { ActionButton, Badge, Button, Card, Checkboxes, DangerZone, DataTable, Empty, Field, FormError, KeyValues, PostForm, RenameCard, SecretOnce, TextArea, Time, type FieldErrors } from "./ui";

export const projectPages = new Hono<DashboardEnv>();
projectPages.use("/projects/*", signedIn);

const audit = (c: DashContext) => auditActor(asAppContext(c));

type ApiKey = typeof apiKeys.$inferSelect;

// ---- overview ------------------------------------------------------------------------------

async function overviewPage(c: DashContext, projectId: string, errors: FieldErrors = {}, status: 200 | 400 = 200) {
  const ctx = await projectPage(c, projectId, "project:read");
  const p = ctx.project;
  const base = `/projects/${p.id}`;
  return page(
    c,
    <Layout c={c} shell={ctx.shell(p.name, "overview")}>
      <div class="grid grid-3">
        <a class="stat" href={`${base}/keys`}>
          <p class="stat-label">API keys</p>
          <p class="stat-value">Keys</p>
          <p class="stat-sub">Credentials for your servers</p>
        </a>
        <a class="stat" href={`${base}/playground`}>
          <p class="stat-label">Try a room</p>
          <p class="stat-value">Playground</p>
          <p class="stat-sub">Mint a LiveKit token</p>
        </a>
        <a class="stat" href={`${base}/usage`}>
          <p class="stat-label">This month</p>
          <p class="stat-value">Usage</p>
          <p class="stat-sub">Minutes and tokens</p>
        </a>
      </div>
      <Card title="Project" id="project">
        <KeyValues
          items={[
            ["Name", p.name],
            ["Id", <code>{p.id}</code>],
            ["LiveKit URL", <code>{c.var.config.livekit.url}</code>],
          ]}
        />
      </Card>
      {ctx.may("project:update") ? <RenameCard action={`${base}/rename`} csrf={c.var.csrfToken} label="Project name" value={p.name} error={errors.name} /> : null}
      {ctx.may("project:delete") ? (
        <DangerZone
          title="Delete project"
          action={`${base}/delete`}
          csrf={c.var.csrfToken}
          text="Its API keys stop working at once, its webhook endpoints are disabled and its recordings and inputs are stopped."
          confirm="Delete this project? Its keys stop working at once."
          button="Delete project"
          typed={{ label: "Type the project's name to confirm", value: p.name, error: errors.confirm }}
        />
      ) : null}
    </Layout>,
    status,
  );
}

projectPages.get("/projects/:project_id", (c) => overviewPage(c, c.req.param("project_id")));

projectPages.post("/projects/:project_id/rename", async (c) => {
  const { form, ctx } = await projectAction(c, "project:update");
  const projectId = ctx.projectId;
  const parsed = parseWith(CreateProjectBody, { name: form.get("name") ?? "" });
  if (!parsed.ok) return overviewPage(c, projectId, parsed.errors, 400);
  await updateProject(depsFor(c), audit(c), ctx.tenant, parsed.data);
  return redirectWith(c, `/projects/${projectId}`, { notice: "Project renamed." });
});

projectPages.post("/projects/:project_id/delete", async (c) => {
  const { form, ctx } = await projectAction(c, "project:delete");
  const projectId = ctx.projectId;
  if (!confirmsName(form.get("confirm"), ctx.project.name)) return overviewPage(c, projectId, { confirm: "Type the project's name exactly as shown." }, 400);
  await retireProject(depsFor(c), audit(c), ctx.tenant);
  return redirectWith(c, `/orgs/${ctx.orgId}`, { notice: `Project “${ctx.project.name}” deleted.` });
});

// ---- API keys ------------------------------------------------------------------------------

function keyStatus(k: ApiKey, at: number) {
  if (k.revokedAt !== null) return <Badge tone="bad">revoked</Badge>;
  if (k.expiresAt !== null && k.expiresAt <= at) return <Badge tone="warn">expired</Badge>;
  return <Badge tone="ok">active</Badge>;
}

const SCOPE_HINTS: Record<ApiKeyScope, string> = {
  "tokens:write": "mint access tokens",
  "egress:write": "recordings and streams",
  "ingress:write": "inputs",
  "webhooks:write": "manage webhook endpoints",
  "rooms:read": "see live rooms and participants",
  "rooms:write": "create, moderate and end rooms",
  "usage:read": "read usage",
};

interface KeyForm {
  values?: { name?: string; scopes?: string[]; expires_at?: string };
  errors?: FieldErrors;
}

async function keysPage(c: DashContext, projectId: string, form: KeyForm = {}, status: 200 | 400 | 409 = 200) {
  const ctx = await projectPage(c, projectId, "project:read");
  const base = `/projects/${projectId}`;
  const canRead = ctx.may("key:read");
  const keys = canRead ? await listApiKeys(depsFor(c), projectId, { limit: 100 }) : { rows: [] as ApiKey[], nextCursor: null };
  const at = nowMs();
  const e = form.errors ?? {};
  return page(
    c,
    <Layout c={c} shell={ctx.shell("API keys", "keys")}>
      {ctx.may("key:write") ? (
        <Card title="Create an API key" id="create-key">
          <PostForm action={`${base}/keys`} csrf={c.var.csrfToken}>
            <FormError errors={e} />
            <div class="form-row">
              <Field label="Name" name="name" value={form.values?.name} error={e.name} required maxlength={200} placeholder="backend (production)" />
              <Field
                label="Expires at (UTC, optional)"
                name="expires_at"
                type="datetime-local"
                value={form.values?.expires_at}
                error={e.expires_at}
                hint="Leave empty for a key that does not expire."
              />
            </div>
            <Checkboxes
              legend="Scopes"
              name="scopes"
              options={API_KEY_SCOPES.map((s) => ({ value: s, label: `${s} — ${SCOPE_HINTS[s]}` }))}
              checked={form.values?.scopes ?? [...API_KEY_SCOPES]}
              error={e.scopes}
            />
            <Button>Create key</Button>
          </PostForm>
        </Card>
      ) : null}
      <Card title="Keys" id="keys">
        {!canRead ? (
          <Empty title="Your role cannot see API keys">Members and above see key metadata; admins create, roll and revoke keys.</Empty>
        ) : keys.rows.length === 0 ? (
          <Empty title="No API keys yet">{ctx.may("key:write") ? "Create one above; its secret is shown once." : "An admin of this organization can create one."}</Empty>
        ) : (
          <DataTable
            caption="API keys"
            rows={keys.rows}
            rowKey={(k) => k.id}
            columns={[
              { head: "Name", class: "cell-name", cell: (k) => k.name },
              { head: "Prefix", cell: (k) => <code>{k.prefix}…</code> },
              { head: "Scopes", class: "small", cell: (k) => (JSON.parse(k.scopes) as string[]).join(", ") },
              { head: "Status", cell: (k) => keyStatus(k, at) },
              { head: "Created", cell: (k) => <Time at={k.createdAt} /> },
              { head: "Expires", cell: (k) => <Time at={k.expiresAt} /> },
              { head: "Last used", cell: (k) => <Time at={k.lastUsedAt} /> },
              {
                head: <span class="sr-only">Actions</span>,
                cell: (k) =>
                  ctx.may("key:write") && k.revokedAt === null && (k.expiresAt === null || k.expiresAt > at) ? (
                    <div class="actions">
                      <ActionButton action={`${base}/keys/${k.id}/roll`} csrf={c.var.csrfToken} label="Roll" formLabel={`Roll ${k.name}`} small confirm={`Roll “${k.name}”? Its current secret stops working at once.`} />
                      <ActionButton action={`${base}/keys/${k.id}/revoke`} csrf={c.var.csrfToken} label="Revoke" formLabel={`Revoke ${k.name}`} kind="danger" small confirm={`Revoke “${k.name}”? It stops working at once.`} />
                    </div>
                  ) : null,
              },
            ]}
          />
        )}
      </Card>
    </Layout>,
    status,
  );
}

projectPages.get("/projects/:project_id/keys", (c) => keysPage(c, c.req.param("project_id")));

projectPages.post("/projects/:project_id/keys", async (c) => {
  const { form, ctx } = await projectAction(c, "key:write");
  const projectId = ctx.projectId;
  const values = { name: form.get("name") ?? "", scopes: form.getAll("scopes"), expires_at: optional(form.get("expires_at")) };
  const parsed = parseWith(CreateApiKeyBody, { name: values.name, scopes: values.scopes, expires_at: utcFromLocalInput(values.expires_at) });
  if (!parsed.ok) return keysPage(c, projectId, { values, errors: parsed.errors }, 400);
  try {
    const { key, secret } = await createApiKey(depsFor(c), { userId: ctx.viewer.userId, audit: audit(c) }, ctx.tenant, parsed.data);
    return redirectWith(c, `/projects/${projectId}/keys`, {
      notice: `Key “${key.name}” created.`,
      secret: { label: `Secret of “${key.name}”`, value: secret, hint: "Copy it now into your server's configuration: Pulse keeps only a hash and will not show it again." },
    });
  } catch (error) {
    const errors = formErrors(error, "name");
    if (!errors) throw error;
    return keysPage(c, projectId, { values, errors }, 400);
  }
});

projectPages.post("/projects/:project_id/keys/:key_id/roll", async (c) => {
  const { form, ctx } = await projectAction(c, "key:write");
  const projectId = ctx.projectId;
  const { key, secret } = await rollApiKey(depsFor(c), audit(c), ctx.tenant, c.req.param("key_id"));
  return redirectWith(c, `/projects/${projectId}/keys`, {
    notice: `Key “${key.name}” rolled: the old secret no longer works.`,
    secret: { label: `New secret of “${key.name}”`, value: secret },
  });
});

projectPages.post("/projects/:project_id/keys/:key_id/revoke", async (c) => {
  const { form, ctx } = await projectAction(c, "key:write");
  const projectId = ctx.projectId;
  await revokeApiKey(depsFor(c), audit(c), ctx.tenant, c.req.param("key_id"));
  return redirectWith(c, `/projects/${projectId}/keys`, { notice: "Key revoked." });
});

// ---- token playground ----------------------------------------------------------------------

interface Minted {
  token: string;
  url: string;
  room: string;
  identity: string;
  expiresAt: number;
}

/** The playground's grant checkboxes: the token's flag and what it lets the holder do. */
const GRANT_LABELS: Record<string, string> = {
  can_publish: "Publish tracks",
  can_subscribe: "Subscribe to tracks",
  can_publish_data: "Publish data",
  can_update_own_metadata: "Update own metadata",
  hidden: "Hidden participant",
  room_admin: "Admin of this room",
};
const GRANTS = Object.entries(GRANT_LABELS).map(([value, label]) => ({ value, label }));
const DEFAULT_GRANTS = ["can_publish", "can_subscribe", "can_publish_data"];
/** The grants a member below admin may not hand out are not offered to them (the service refuses them too). */
const grantsFor = (ctx: ProjectPage) => (ctx.may("room:write") ? GRANTS : GRANTS.filter((g) => !(ADMIN_GRANTS as readonly string[]).includes(g.value)));

function PlaygroundPage(p: { c: DashContext; ctx: ProjectPage; values: Record<string, string | string[]>; errors?: FieldErrors; minted?: Minted }) {
  const { c, ctx, values } = p;
  const e = p.errors ?? {};
  const text = (k: string) => (typeof values[k] === "string" ? (values[k] as string) : undefined);
  const list = (k: string) => (Array.isArray(values[k]) ? (values[k] as string[]) : []);
  return (
    <Layout c={c} shell={ctx.shell("Token playground", "playground")}>
      <div class="grid grid-2">
        <Card title="Mint a test token" id="mint">
          {ctx.may("token:create") ? (
            <PostForm action={`/projects/${ctx.projectId}/playground`} csrf={c.var.csrfToken}>
              <FormError errors={e} />
              <div class="form-row">
                <Field label="Identity" name="identity" value={text("identity")} error={e.identity} required maxlength={256} placeholder="alice" />
                <Field label="Room" name="room" value={text("room")} error={e.room} required placeholder="standup" />
              </div>
              <div class="form-row">
                <Field label="Display name (optional)" name="name" value={text("name")} error={e.name} />
                <Field label="Lifetime (seconds)" name="ttl" type="number" min="60" max="86400" value={text("ttl") ?? "3600"} error={e.ttl} />
              </div>
              <TextArea label="Metadata (optional)" name="metadata" value={text("metadata")} error={e.metadata} rows={2} />
              <Checkboxes legend="Grants" name="grants" options={grantsFor(ctx)} checked={list("grants")} error={e.grants} />
              <Checkboxes
                legend="Allowed sources"
                name="sources"
                hint="None ticked: any source."
                options={PUBLISH_SOURCES.map((s) => ({ value: s, label: s.replace(/_/g, " ") }))}
                checked={list("sources")}
              />
              <Button>Mint token</Button>
            </PostForm>
          ) : (
            <Empty title="Viewers cannot mint tokens">Members and above can try rooms from here.</Empty>
          )}
        </Card>
        <Card title="Result" id="result">
          {p.minted ? <MintedToken minted={p.minted} /> : <Empty title="No token yet">Mint one to see its claims and the URL to connect to.</Empty>}
        </Card>
      </div>
    </Layout>
  );
}

function MintedToken(p: { minted: Minted }) {
  const m = p.minted;
  const claims = JSON.stringify(decodeJwt(m.token), null, 2);
  return (
    <div>
      <SecretOnce label="Access token" value={m.token} hint="A real LiveKit token for this project's room: hand it to a client SDK with the URL below." />
      <h3>Connect</h3>
      <dl class="kv">
        <dt>LiveKit URL</dt>
        <dd>
          <code id="livekit-url">{m.url}</code>
        </dd>
        <dt>Room</dt>
        <dd>{m.room}</dd>
        <dt>Identity</dt>
        <dd>{m.identity}</dd>
        <dt>Expires</dt>
        <dd>
          <Time at={m.expiresAt} />
        </dd>
      </dl>
      <h3>Decoded claims</h3>
      <pre id="claims">{claims}</pre>
    </div>
  );
}

projectPages.get("/projects/:project_id/playground", async (c) => {
  const ctx = await projectPage(c, c.req.param("project_id"), "project:read");
  return page(c, <PlaygroundPage c={c} ctx={ctx} values={{ grants: DEFAULT_GRANTS }} />);
});

/**
 * Minting answers with the result page itself rather than a redirect: the token is a test
 * credential that may be too large for a cookie, and resubmitting only mints another one.
 */
projectPages.post("/projects/:project_id/playground", async (c) => {
  const { form, ctx } = await projectAction(c, "token:create");
  const projectId = ctx.projectId;
  const grants = form.getAll("grants");
  const sources = form.getAll("sources");
  const values = {
    identity: form.get("identity") ?? "",
    room: form.get("room") ?? "",
    name: form.get("name") ?? "",
    metadata: form.get("metadata") ?? "",
    ttl: form.get("ttl") ?? "3600",
    grants,
    sources,
  };
  const grantFlags = Object.fromEntries(GRANTS.map((g) => [g.value, grants.includes(g.value)]));
  const parsed = parseWith(CreateTokenBody, {
    identity: values.identity,
    room: values.room,
    name: optional(values.name),
    metadata: optional(values.metadata),
    ttl: Number(values.ttl),
    grants: { ...grantFlags, ...(sources.length ? { can_publish_sources: sources } : {}) },
  });
  if (!parsed.ok) return page(c, <PlaygroundPage c={c} ctx={ctx} values={values} errors={parsed.errors} />, 400);
  try {
    const minted = await issueMemberToken(depsFor(c), { ...ctx.tenant, role: ctx.role }, audit(c), parsed.data);
    return page(c, <PlaygroundPage c={c} ctx={ctx} values={values} minted={minted} />);
  } catch (error) {
    const errors = formErrors(error);
    if (!errors) throw error;
    return page(c, <PlaygroundPage c={c} ctx={ctx} values={values} errors={errors} />, 402);
  }
});
