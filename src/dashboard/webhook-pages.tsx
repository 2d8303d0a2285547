/** @jsxImportSource hono/jsx */
/**
 * Webhook endpoints of a project: list and create (the signing secret shown once), and per
 * endpoint its settings, event filter, secret rotation, a test event and the delivery log with
 * every attempt (refreshed live while the page is open) and retry.
 */
import { Hono } from "hono";
import { auditActor } from "../audit/record";

import { nowMs } from "../lib/clock";
import { urlOrigin } from "../webhooks/delivery";
import { WEBHOOK_EVENT_TYPES } from "../webhooks/event-types";
import { CreateWebhookBody, UpdateWebhookBody } from "../webhooks/schemas";
import {
  createEndpoint,
  deleteEndpoint,
  findEndpoint,
  listDeliveries,
  listEndpoints,
  retryMessage,
  rotateEndpointSecret,
  sendTestEvent,
  updateEndpoint,
} from "../webhooks/service";
import { asAppContext, depsFor, type DashboardEnv, type DashContext } from "./context";
import { formErrors, optional, parseWith } from "./forms";
import { Layout } from "./layout";
import { page, redirectWith, verifiedForm } from "./render";
import { projectPage, signedIn, type ProjectPage } from "./shell";
import { Badge, Button, Card, Checkboxes, Empty, Field, Pager, PostForm, Table, Time, type FieldErrors } from "./ui";

export const webhookPages = new Hono<DashboardEnv>();
webhookPages.use("/projects/*", signedIn);

const audit = (c: DashContext) => auditActor(asAppContext(c));
const EVENT_OPTIONS = WEBHOOK_EVENT_TYPES.map((t) => ({ value: t, label: t }));

/** Admins see the whole URL; others only its origin (paths can carry a tenant's own secrets). */
const shownUrl = (ctx: ProjectPage, url: string) => (ctx.may("webhook:write") ? url : urlOrigin(url));

function EndpointState(p: { enabled: boolean; failingSince: number | null }) {
  if (!p.enabled) return <Badge tone="bad">disabled</Badge>;
  if (p.failingSince !== null) return <Badge tone="warn">failing</Badge>;
  return <Badge tone="ok">enabled</Badge>;
}

interface CreateForm {
  values?: { url?: string; description?: string; events?: string[] };
  errors?: FieldErrors;
}

async function endpointsPage(c: DashContext, projectId: string, form: CreateForm = {}, status: 200 | 400 = 200) {
  const ctx = await projectPage(c, projectId, "webhook:read");
  const endpoints = await listEndpoints(depsFor(c), projectId, { limit: 100 });
  const base = `/projects/${projectId}/webhooks`;
  const e = form.errors ?? {};
  return page(
    c,
    <Layout c={c} shell={ctx.shell("Webhooks", "webhooks")}>
      {ctx.may("webhook:write") ? (
        <Card title="Add an endpoint" id="create-endpoint">
          <PostForm action={base} csrf={c.var.csrfToken}>
            {e._form ? <p class="error" role="alert">{e._form}</p> : null}
            <div class="form-row">
              <Field label="Endpoint URL" name="url" type="url" value={form.values?.url} error={e.url} required placeholder="https://example.com/webhooks/pulse" />
              <Field label="Description (optional)" name="description" value={form.values?.description} error={e.description} maxlength={500} />
            </div>
            <Checkboxes legend="Events" name="events" hint="None ticked: every event, including future ones." options={EVENT_OPTIONS} checked={form.values?.events ?? []} error={e.events} />
            <Button>Add endpoint</Button>
          </PostForm>
        </Card>
      ) : null}
      <Card title="Endpoints" id="endpoints">
        {endpoints.rows.length === 0 ? (
          <Empty title="No endpoints yet">Pulse signs every event with the Standard Webhooks scheme, so the standardwebhooks and svix libraries verify them.</Empty>
        ) : (
          <Table head={["URL", "Events", "Status", "Created"]} caption="Webhook endpoints">
            {endpoints.rows.map((w) => (
              <tr>
                <td class="cell-name">
                  <a href={`${base}/${w.id}`}>{shownUrl(ctx, w.url)}</a>
                  {w.description ? <div class="muted small">{w.description}</div> : null}
                </td>
                <td class="small">{w.events ? (JSON.parse(w.events) as string[]).join(", ") : "all events"}</td>
                <td>
                  <EndpointState enabled={w.enabled} failingSince={w.failingSince} />
                </td>
                <td>
                  <Time at={w.createdAt} />
                </td>
              </tr>
            ))}
          </Table>
        )}
      </Card>
    </Layout>,
    status,
  );
}

webhookPages.get("/projects/:project_id/webhooks", (c) => endpointsPage(c, c.req.param("project_id")));

webhookPages.post("/projects/:project_id/webhooks", async (c) => {
  const projectId = c.req.param("project_id");
  const form = await verifiedForm(c);
  const ctx = await projectPage(c, projectId, "webhook:write");
  const values = { url: form.get("url") ?? "", description: optional(form.get("description")), events: form.getAll("events") };
  const parsed = parseWith(CreateWebhookBody, { url: values.url, description: values.description, events: values.events.length ? values.events : undefined });
  if (!parsed.ok) return endpointsPage(c, projectId, { values, errors: parsed.errors }, 400);
  try {
    const { endpoint, secret } = await createEndpoint(depsFor(c), audit(c), ctx.tenant, parsed.data);
    return redirectWith(c, `/projects/${projectId}/webhooks/${endpoint.id}`, {
      notice: "Endpoint added. Send a test event to check your receiver.",
      secret: { label: "Signing secret", value: secret, hint: "Verify each delivery's webhook-signature with it. It is shown only now." },
    });
  } catch (error) {
    const errors = formErrors(error, "url");
    if (!errors) throw error;
    return endpointsPage(c, projectId, { values, errors }, 400);
  }
});

// ---- one endpoint --------------------------------------------------------------------------

function attemptTone(status: string) {
  return status === "delivered" ? "ok" : status === "failed" ? "bad" : "warn";
}

async function endpointPage(c: DashContext, projectId: string, endpointId: string, errors: FieldErrors = {}, status: 200 | 400 = 200) {
  const ctx = await projectPage(c, projectId, "webhook:read");
  const deps = depsFor(c);
  const endpoint = await findEndpoint(deps, projectId, endpointId);
  const deliveries = await listDeliveries(deps, projectId, endpointId, { limit: 50, cursor: c.req.query("cursor") || undefined });
  const base = `/projects/${projectId}/webhooks/${endpointId}`;
  const events = endpoint.events ? (JSON.parse(endpoint.events) as string[]) : [];
  const admin = ctx.may("webhook:write");
  const at = nowMs();
  return page(
    c,
    <Layout
      c={c}
      shell={ctx.shell("Webhook endpoint", "webhooks")}
      actions={
        admin ? (
          <>
            <PostForm action={`${base}/test`} csrf={c.var.csrfToken} class="inline">
              <Button kind="secondary" disabled={!endpoint.enabled}>
                Send test event
              </Button>
            </PostForm>
            <PostForm action={`${base}/rotate`} csrf={c.var.csrfToken} class="inline" confirm="Rotate the signing secret? The old one keeps signing for 24 hours.">
              <Button kind="secondary">Rotate secret</Button>
            </PostForm>
          </>
        ) : undefined
      }
    >
      <Card title="Endpoint" id="endpoint">
        <dl class="kv">
          <dt>URL</dt>
          <dd>
            <code>{shownUrl(ctx, endpoint.url)}</code>
          </dd>
          <dt>Status</dt>
          <dd>
            <EndpointState enabled={endpoint.enabled} failingSince={endpoint.failingSince} /> {endpoint.disabledReason ? <span class="muted small">{endpoint.disabledReason}</span> : null}
          </dd>
          <dt>Events</dt>
          <dd>{events.length ? events.join(", ") : "all events"}</dd>
          {endpoint.description ? (
            <>
              <dt>Description</dt>
              <dd>{endpoint.description}</dd>
            </>
          ) : null}
          {endpoint.previousSecretExpiresAt !== null && endpoint.previousSecretExpiresAt > at ? (
            <>
              <dt>Previous secret</dt>
              <dd>
                also signs until <Time at={endpoint.previousSecretExpiresAt} />
              </dd>
            </>
          ) : null}
        </dl>
      </Card>
      <Card title="Delivery log" id="deliveries">
        <div id="delivery-log" data-live-refresh="3000" aria-live="polite">
          {deliveries.rows.length === 0 ? (
            <Empty title="Nothing sent yet">Events for this project appear here with every delivery attempt.</Empty>
          ) : (
            <Table head={["Event", "Status", "Attempts", "Created", ""]} caption="Deliveries">
              {deliveries.rows.map(({ message, attempts }) => (
                <tr data-message={message.id}>
                  <td>
                    <code>{message.eventType}</code>
                    <div class="muted small">
                      <code>{message.id}</code>
                    </div>
                  </td>
                  <td>
                    <Badge tone={attemptTone(message.status)}>{message.status}</Badge>
                  </td>
                  <td class="small">
                    {attempts.length === 0 ? (
                      <span class="muted">none yet</span>
                    ) : (
                      <ol class="attempts">
                        {attempts.map((a) => (
                          <li>
                            #{a.attempt}: {a.statusCode !== null ? <strong>HTTP {a.statusCode}</strong> : <strong>{a.error ?? "no answer"}</strong>} in {a.durationMs} ms, <Time at={a.createdAt} />
                          </li>
                        ))}
                      </ol>
                    )}
                  </td>
                  <td>
                    <Time at={message.createdAt} />
                  </td>
                  <td>
                    {admin && endpoint.enabled ? (
                      <PostForm action={`${base}/deliveries/${message.id}/retry`} csrf={c.var.csrfToken}>
                        <Button kind="secondary" small>
                          Retry
                        </Button>
                      </PostForm>
                    ) : null}
                  </td>
                </tr>
              ))}
            </Table>
          )}
          <Pager older={deliveries.nextCursor ? `${base}?cursor=${encodeURIComponent(deliveries.nextCursor)}` : null} />
        </div>
      </Card>
      {admin ? (
        <Card title="Settings" id="settings">
          <PostForm action={`${base}/update`} csrf={c.var.csrfToken}>
            <div class="form-row">
              <Field label="Endpoint URL" name="url" type="url" value={endpoint.url} error={errors.url} required />
              <Field label="Description" name="description" value={endpoint.description} error={errors.description} maxlength={500} />
            </div>
            <Checkboxes legend="Events" name="events" hint="None ticked: every event." options={EVENT_OPTIONS} checked={events} error={errors.events} />
            <div class="field checks">
              <label class="check">
                <input type="checkbox" name="enabled" value="true" checked={endpoint.enabled} />
                <span>Enabled</span>
              </label>
            </div>
            <Button kind="secondary">Save endpoint</Button>
          </PostForm>
        </Card>
      ) : null}
      {admin ? (
        <Card title="Delete endpoint" id="delete" class="danger-zone">
          <PostForm action={`${base}/delete`} csrf={c.var.csrfToken} confirm="Delete this endpoint? Pending deliveries to it are not sent.">
            <Button kind="danger">Delete endpoint</Button>
          </PostForm>
        </Card>
      ) : null}
    </Layout>,
    status,
  );
}

webhookPages.get("/projects/:project_id/webhooks/:whk_id", (c) => endpointPage(c, c.req.param("project_id"), c.req.param("whk_id")));

async function adminAction(c: DashContext) {
  const form = await verifiedForm(c);
  const ctx = await projectPage(c, c.req.param("project_id") ?? "", "webhook:write");
  return { form, ctx, deps: depsFor(c), endpointId: c.req.param("whk_id") ?? "", base: `/projects/${ctx.projectId}/webhooks/${c.req.param("whk_id")}` };
}

webhookPages.post("/projects/:project_id/webhooks/:whk_id/update", async (c) => {
  const { form, ctx, deps, endpointId, base } = await adminAction(c);
  const events = form.getAll("events");
  const parsed = parseWith(UpdateWebhookBody, {
    url: form.get("url") ?? "",
    description: optional(form.get("description")) ?? null,
    events: events.length ? events : null,
    enabled: form.get("enabled") === "true",
  });
  if (!parsed.ok) return endpointPage(c, ctx.projectId, endpointId, parsed.errors, 400);
  try {
    await updateEndpoint(deps, audit(c), ctx.tenant, endpointId, parsed.data);
  } catch (error) {
    const errors = formErrors(error, "url");
    if (!errors) throw error;
    return endpointPage(c, ctx.projectId, endpointId, errors, 400);
  }
  return redirectWith(c, base, { notice: "Endpoint saved." });
});

webhookPages.post("/projects/:project_id/webhooks/:whk_id/rotate", async (c) => {
  const { ctx, deps, endpointId, base } = await adminAction(c);
  const { secret } = await rotateEndpointSecret(deps, audit(c), ctx.tenant, endpointId);
  return redirectWith(c, base, { secret: { label: "New signing secret", value: secret, hint: "The previous secret keeps signing for 24 hours, so you can switch without losing events. Shown only now." } });
});

webhookPages.post("/projects/:project_id/webhooks/:whk_id/test", async (c) => {
  const { ctx, deps, endpointId, base } = await adminAction(c);
  const { message } = await sendTestEvent(deps, audit(c), ctx.tenant, endpointId);
  return redirectWith(c, base, { notice: `Test event ${message.id} queued; its delivery appears below.` });
});

webhookPages.post("/projects/:project_id/webhooks/:whk_id/deliveries/:msg_id/retry", async (c) => {
  const { ctx, deps, endpointId, base } = await adminAction(c);
  await retryMessage(deps, audit(c), ctx.tenant, endpointId, c.req.param("msg_id"));
  return redirectWith(c, base, { notice: "Message queued again." });
});

webhookPages.post("/projects/:project_id/webhooks/:whk_id/delete", async (c) => {
  const { ctx, deps, endpointId } = await adminAction(c);
  await deleteEndpoint(deps, audit(c), ctx.tenant, endpointId);
  return redirectWith(c, `/projects/${ctx.projectId}/webhooks`, { notice: "Endpoint deleted." });
});
