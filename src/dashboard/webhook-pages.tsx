/** @jsxImportSource hono/jsx */
/**
 * Webhook endpoints of a project: list and create (the signing secret shown once), and per
 * endpoint its settings, event filter, secret rotation, a test event and the delivery log with
 * every attempt (refreshed live while the page is open) and retry.
 */
import { Hono } from "hono";
import { auditActor } from "../audit/record";

import { nowMs, toIso } from "../lib/clock";
import { rateLimitWebhookSends } from "../middleware/rate-limit";
import { recoverFailedMessages } from "../webhooks/recover";
import { urlOrigin } from "../webhooks/delivery";
import { WEBHOOK_EVENT_TYPES } from "../webhooks/event-types";
import { CreateWebhookBody, RecoverBody, roomPatternsOf, UpdateWebhookBody } from "../webhooks/schemas";
import * as webhooks from "../webhooks/service";
import { asAppContext, depsFor, type DashboardEnv, type DashContext } from "./context";
import { formErrors, optional, parseWith, utcFromLocalInput } from "./forms";
import { Layout } from "./layout";
import { page, redirectWith } from "./render";
import { projectAction, projectPage, signedIn, type ProjectPage } from "./shell";
import { ActionButton, Badge, Button, Card, Checkboxes, DangerZone, DataTable, Empty, Field, FormError, KeyValues, Pager, PostForm, TextArea, Time, olderLink, type FieldErrors } from "./ui";

export const webhookPages = new Hono<DashboardEnv>();
webhookPages.use("/projects/*", signedIn);

const audit = (c: DashContext) => auditActor(asAppContext(c));
const EVENT_OPTIONS = WEBHOOK_EVENT_TYPES.map((t) => ({ value: t, label: t }));

/**
 * The rooms field: one room name or pattern per line (the API's `rooms` list). Lines are kept as
 * typed, spaces included (room names are the tenant's own text); only empty lines are dropped.
 * Nothing left means every room.
 */
function roomLines(text: string | null): string[] | undefined {
  const lines = (text ?? "").split(/\r?\n/).filter((line) => line !== "");
  return lines.length ? lines : undefined;
}

const ROOMS_HINT = "One room name per line; * matches any characters (support-*). Empty: every room. Events about no room, like the test event, are always sent.";

/** Admins see the whole URL; others only its origin (paths can carry a tenant's own secrets). */
const shownUrl = (ctx: ProjectPage, url: string) => (ctx.may("webhook:write") ? url : urlOrigin(url));

function EndpointState(p: { enabled: boolean; failingSince: number | null }) {
  if (!p.enabled) return <Badge tone="bad">disabled</Badge>;
  if (p.failingSince !== null) return <Badge tone="warn">failing</Badge>;
  return <Badge tone="ok">enabled</Badge>;
}

interface CreateForm {
  values?: { url?: string; description?: string; events?: string[]; rooms?: string };
  errors?: FieldErrors;
}

async function endpointsPage(c: DashContext, projectId: string, form: CreateForm = {}, status: 200 | 400 = 200) {
  const ctx = await projectPage(c, projectId, "webhook:read");
  const endpoints = await webhooks.listEndpoints(depsFor(c), projectId, { limit: 100 });
  const base = `/projects/${projectId}/webhooks`;
  const e = form.errors ?? {};
  return page(
    c,
    <Layout c={c} shell={ctx.shell("Webhooks", "webhooks")}>
      {ctx.may("webhook:write") ? (
        <Card title="Add an endpoint" id="create-endpoint">
          <PostForm action={base} csrf={c.var.csrfToken}>
            <FormError errors={e} />
            <div class="form-row">
              <Field label="Endpoint URL" name="url" type="url" value={form.values?.url} error={e.url} required placeholder="https://example.com/webhooks/pulse" />
              <Field label="Description (optional)" name="description" value={form.values?.description} error={e.description} maxlength={500} />
            </div>
            <Checkboxes legend="Events" name="events" hint="None ticked: every event, including future ones." options={EVENT_OPTIONS} checked={form.values?.events ?? []} error={e.events} />
            <TextArea label="Rooms (optional)" name="rooms" value={form.values?.rooms} error={e.rooms} hint={ROOMS_HINT} rows={2} />
            <Button>Add endpoint</Button>
          </PostForm>
        </Card>
      ) : null}
      <Card title="Endpoints" id="endpoints">
        <DataTable
          caption="Webhook endpoints"
          rows={endpoints.rows}
          rowKey={(w) => w.id}
          empty={<Empty title="No endpoints yet">Pulse signs every event with the Standard Webhooks scheme, so the standardwebhooks and svix libraries verify them.</Empty>}
          columns={[
            {
              head: "URL",
              class: "cell-name cell-wrap",
              cell: (w) => (
                <>
                  <a href={`${base}/${w.id}`}>{shownUrl(ctx, w.url)}</a>
                  {w.description ? <div class="muted small">{w.description}</div> : null}
                </>
              ),
            },
            { head: "Events", class: "small", cell: (w) => (w.events ? (JSON.parse(w.events) as string[]).join(", ") : "all events") },
            { head: "Status", cell: (w) => <EndpointState enabled={w.enabled} failingSince={w.failingSince} /> },
            { head: "Created", cell: (w) => <Time at={w.createdAt} /> },
          ]}
        />
      </Card>
    </Layout>,
    status,
  );
}

webhookPages.get("/projects/:project_id/webhooks", (c) => endpointsPage(c, c.req.param("project_id")));

webhookPages.post("/projects/:project_id/webhooks", async (c) => {
  const { form, ctx } = await projectAction(c, "webhook:write");
  const projectId = ctx.projectId;
  const values = { url: form.get("url") ?? "", description: optional(form.get("description")), events: form.getAll("events"), rooms: form.get("rooms") ?? "" };
  const parsed = parseWith(CreateWebhookBody, {
    url: values.url,
    description: values.description,
    events: values.events.length ? values.events : undefined,
    rooms: roomLines(values.rooms),
  });
  if (!parsed.ok) return endpointsPage(c, projectId, { values, errors: parsed.errors }, 400);
  try {
    const { endpoint, secret } = await webhooks.createEndpoint(depsFor(c), audit(c), ctx.tenant, parsed.data);
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

function Attempts(p: { attempts: { attempt: number; statusCode: number | null; error: string | null; durationMs: number; createdAt: number }[] }) {
  if (p.attempts.length === 0) return <span class="muted">none yet</span>;
  return (
    <ol class="attempts">
      {p.attempts.map((a) => (
        <li>
          #{a.attempt}: {a.statusCode !== null ? <strong>HTTP {a.statusCode}</strong> : <strong>{a.error ?? "no answer"}</strong>} in {a.durationMs} ms, <Time at={a.createdAt} />
        </li>
      ))}
    </ol>
  );
}

function attemptTone(status: string) {
  return status === "delivered" ? "ok" : status === "failed" ? "bad" : "warn";
}

async function endpointPage(c: DashContext, projectId: string, endpointId: string, errors: FieldErrors = {}, status: 200 | 400 = 200) {
  const ctx = await projectPage(c, projectId, "webhook:read");
  const deps = depsFor(c);
  const endpoint = await webhooks.findEndpoint(deps, projectId, endpointId);
  const deliveries = await webhooks.listDeliveries(deps, projectId, endpointId, { limit: 50, cursor: c.req.query("cursor") || undefined });
  const base = `/projects/${projectId}/webhooks/${endpointId}`;
  const events = endpoint.events ? (JSON.parse(endpoint.events) as string[]) : [];
  const rooms = roomPatternsOf(endpoint);
  const admin = ctx.may("webhook:write");
  const at = nowMs();
  // The form starts one day back, in the `datetime-local` shape (UTC, minutes).
  const recoverSince = toIso(at - 86_400_000).slice(0, 16);
  return page(
    c,
    <Layout
      c={c}
      shell={ctx.shell("Webhook endpoint", "webhooks")}
      actions={
        admin ? (
          <>
            <ActionButton action={`${base}/test`} csrf={c.var.csrfToken} label="Send test event" inline disabled={!endpoint.enabled} />
            <ActionButton action={`${base}/rotate`} csrf={c.var.csrfToken} label="Rotate secret" inline confirm="Rotate the signing secret? The old one keeps signing for 24 hours." />
          </>
        ) : undefined
      }
    >
      <Card title="Endpoint" id="endpoint">
        <KeyValues
          items={[
            ["URL", <code>{shownUrl(ctx, endpoint.url)}</code>],
            ["Status", <><EndpointState enabled={endpoint.enabled} failingSince={endpoint.failingSince} /> {endpoint.disabledReason ? <span class="muted small">{endpoint.disabledReason}</span> : null}</>],
            ["Events", events.length ? events.join(", ") : "all events"],
            ["Rooms", rooms ? rooms.join(", ") : "every room"],
            endpoint.description ? ["Description", endpoint.description] : null,
            endpoint.previousSecretExpiresAt !== null && endpoint.previousSecretExpiresAt > at ? ["Previous secret", <>also signs until <Time at={endpoint.previousSecretExpiresAt} /></>] : null,
          ]}
        />
      </Card>
      <Card title="Delivery log" id="deliveries">
        <div id="delivery-log" data-live-refresh="3000" aria-live="polite">
          <DataTable
            caption="Deliveries"
            rows={deliveries.rows}
            rowKey={(d) => d.message.id}
            empty={<Empty title="Nothing sent yet">Events for this project appear here with every delivery attempt.</Empty>}
            columns={[
              {
                head: "Event",
                cell: ({ message }) => (
                  <>
                    <code>{message.eventType}</code>
                    <div class="muted small">
                      <code>{message.id}</code>
                    </div>
                  </>
                ),
              },
              { head: "Status", cell: ({ message }) => <Badge tone={attemptTone(message.status)}>{message.status}</Badge> },
              { head: "Attempts", class: "small", cell: ({ attempts }) => <Attempts attempts={attempts} /> },
              { head: "Created", cell: ({ message }) => <Time at={message.createdAt} /> },
              {
                head: <span class="sr-only">Actions</span>,
                cell: ({ message }) =>
                  admin && endpoint.enabled ? <ActionButton action={`${base}/deliveries/${message.id}/retry`} csrf={c.var.csrfToken} label="Retry" formLabel={`Retry ${message.id}`} small /> : null,
              },
            ]}
          />
          <Pager newest={c.req.query("cursor") ? base : null} older={olderLink(base, deliveries.nextCursor)} />
        </div>
      </Card>
      {admin ? (
        <Card title="Recover failed deliveries" id="recover">
          <PostForm action={`${base}/recover`} csrf={c.var.csrfToken} class="form-row">
            <Field
              label="Failed since (UTC)"
              name="since"
              type="datetime-local"
              value={recoverSince}
              error={errors.since}
              required
              hint="Every message to this endpoint that failed for good since then is sent again."
            />
            <div class="field form-actions">
              <Button kind="secondary">Recover failed deliveries</Button>
            </div>
          </PostForm>
        </Card>
      ) : null}
      {admin ? (
        <Card title="Settings" id="settings">
          <PostForm action={`${base}/update`} csrf={c.var.csrfToken}>
            <div class="form-row">
              <Field label="Endpoint URL" name="url" type="url" value={endpoint.url} error={errors.url} required />
              <Field label="Description" name="description" value={endpoint.description} error={errors.description} maxlength={500} />
            </div>
            <Checkboxes legend="Events" name="events" hint="None ticked: every event." options={EVENT_OPTIONS} checked={events} error={errors.events} />
            <TextArea label="Rooms" name="rooms" value={rooms?.join("\n")} error={errors.rooms} hint={ROOMS_HINT} rows={2} />
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
        <DangerZone
          title="Delete endpoint"
          action={`${base}/delete`}
          csrf={c.var.csrfToken}
          text="Pulse stops sending to it at once; pending deliveries are dropped."
          confirm="Delete this endpoint? Pending deliveries to it are not sent."
          button="Delete endpoint"
        />
      ) : null}
    </Layout>,
    status,
  );
}

webhookPages.get("/projects/:project_id/webhooks/:whk_id", (c) => endpointPage(c, c.req.param("project_id"), c.req.param("whk_id")));

async function adminAction(c: DashContext) {
  const { form, ctx } = await projectAction(c, "webhook:write");
  return { form, ctx, deps: depsFor(c), endpointId: c.req.param("whk_id") ?? "", base: `/projects/${ctx.projectId}/webhooks/${c.req.param("whk_id")}` };
}

webhookPages.post("/projects/:project_id/webhooks/:whk_id/update", async (c) => {
  const { form, ctx, deps, endpointId, base } = await adminAction(c);
  const events = form.getAll("events");
  const parsed = parseWith(UpdateWebhookBody, {
    url: form.get("url") ?? "",
    description: optional(form.get("description")) ?? null,
    events: events.length ? events : null,
    rooms: roomLines(form.get("rooms")) ?? null,
    enabled: form.get("enabled") === "true",
  });
  if (!parsed.ok) return endpointPage(c, ctx.projectId, endpointId, parsed.errors, 400);
  try {
    await webhooks.updateEndpoint(deps, audit(c), ctx.tenant, endpointId, parsed.data);
  } catch (error) {
    const errors = formErrors(error, "url");
    if (!errors) throw error;
    return endpointPage(c, ctx.projectId, endpointId, errors, 400);
  }
  return redirectWith(c, base, { notice: "Endpoint saved." });
});

webhookPages.post("/projects/:project_id/webhooks/:whk_id/rotate", async (c) => {
  const { ctx, deps, endpointId, base } = await adminAction(c);
  const { secret } = await webhooks.rotateEndpointSecret(deps, audit(c), ctx.tenant, endpointId);
  return redirectWith(c, base, { secret: { label: "New signing secret", value: secret, hint: "The previous secret keeps signing for 24 hours, so you can switch without losing events. Shown only now." } });
});

/** Test, retry and recover send to the tenant's receiver: limited per endpoint like the API's. */
const limitSends = (c: DashContext, projectId: string, endpointId: string) => rateLimitWebhookSends(asAppContext(c), projectId, endpointId);

webhookPages.post("/projects/:project_id/webhooks/:whk_id/recover", async (c) => {
  const { form, ctx, deps, endpointId, base } = await adminAction(c);
  const parsed = parseWith(RecoverBody, { since: utcFromLocalInput(optional(form.get("since"))) ?? "" });
  if (!parsed.ok) return endpointPage(c, ctx.projectId, endpointId, parsed.errors, 400);
  await limitSends(c, ctx.projectId, endpointId);
  try {
    const result = await recoverFailedMessages(deps, audit(c), ctx.tenant, endpointId, parsed.data);
    const more = result.more ? " The rest follow in batches." : "";
    return redirectWith(c, base, { notice: `${result.queued} failed ${result.queued === 1 ? "message" : "messages"} since ${result.since} queued again.${more}` });
  } catch (error) {
    const errors = formErrors(error, "since");
    if (!errors) throw error;
    return endpointPage(c, ctx.projectId, endpointId, errors, 400);
  }
});

webhookPages.post("/projects/:project_id/webhooks/:whk_id/test", async (c) => {
  const { ctx, deps, endpointId, base } = await adminAction(c);
  await limitSends(c, ctx.projectId, endpointId);
  const { message } = await webhooks.sendTestEvent(deps, audit(c), ctx.tenant, endpointId);
  return redirectWith(c, base, { notice: `Test event ${message.id} queued; its delivery appears below.` });
});

webhookPages.post("/projects/:project_id/webhooks/:whk_id/deliveries/:msg_id/retry", async (c) => {
  const { ctx, deps, endpointId, base } = await adminAction(c);
  await limitSends(c, ctx.projectId, endpointId);
  await webhooks.retryMessage(deps, audit(c), ctx.tenant, endpointId, c.req.param("msg_id"));
  return redirectWith(c, base, { notice: "Message queued again." });
});

webhookPages.post("/projects/:project_id/webhooks/:whk_id/delete", async (c) => {
  const { ctx, deps, endpointId } = await adminAction(c);
  await webhooks.deleteEndpoint(deps, audit(c), ctx.tenant, endpointId);
  return redirectWith(c, `/projects/${ctx.projectId}/webhooks`, { notice: "Endpoint deleted." });
});
