/** @jsxImportSource hono/jsx */
/**
 * A project's egress (recordings, streams) and ingress (inputs): lists and details with status,
 * outputs, results and errors, kept current by LiveKit's webhooks. Viewers read; admins stop an
 * egress or delete an ingress, through the same services as the API-key routes.
 */
import { Hono } from "hono";
import { auditActor } from "../audit/record";
import { ACTIVE_EGRESS_STATUSES } from "../egress/status";
import { findEgress, listEgresses, stopEgress } from "../egress/service";
import { deleteIngress, getIngress, listIngresses } from "../ingress/service";
import { asAppContext, depsFor, type DashboardEnv, type DashContext } from "./context";
import { Layout } from "./layout";
import { page, redirectWith, verifiedForm } from "./render";
import { projectPage, signedIn } from "./shell";
import { Badge, Button, Card, Empty, Pager, PostForm, Table, Time } from "./ui";

export const mediaPages = new Hono<DashboardEnv>();
mediaPages.use("/projects/*", signedIn);

const audit = (c: DashContext) => auditActor(asAppContext(c));

function statusTone(status: string): "ok" | "warn" | "bad" | "info" | "muted" {
  if (/FAILED|ERROR|ABORTED|LIMIT/.test(status)) return "bad";
  if (/ACTIVE|PUBLISHING|COMPLETE/.test(status)) return "ok";
  if (/STARTING|ENDING|BUFFERING|INACTIVE/.test(status)) return "warn";
  return "muted";
}

const isActiveEgress = (status: string) => (ACTIVE_EGRESS_STATUSES as readonly string[]).includes(status);

function Json(p: { value: string | null }) {
  if (!p.value) return <span class="muted">—</span>;
  let text = p.value;
  try {
    text = JSON.stringify(JSON.parse(p.value), null, 2);
  } catch {
    // shown as stored
  }
  return <pre>{text}</pre>;
}

mediaPages.get("/projects/:project_id/egress", async (c) => {
  const ctx = await projectPage(c, c.req.param("project_id"), "project:read");
  const list = await listEgresses(depsFor(c), ctx.projectId, { limit: 50, cursor: c.req.query("cursor") || undefined });
  const base = `/projects/${ctx.projectId}/egress`;
  return page(
    c,
    <Layout c={c} shell={ctx.shell("Egress", "egress")}>
      <Card title="Recordings and streams" id="egress">
        {list.rows.length === 0 ? (
          <Empty title="No egress yet">Start one with an API key: POST /v1/egress records or streams a room.</Empty>
        ) : (
          <Table head={["Egress", "Type", "Room", "Status", "Started", "Ended"]} caption="Egress">
            {list.rows.map((e) => (
              <tr>
                <td>
                  <a href={`${base}/${e.id}`}>
                    <code>{e.id}</code>
                  </a>
                </td>
                <td>{e.type}</td>
                <td class="cell-name">{e.room ?? <span class="muted">web page</span>}</td>
                <td>
                  <Badge tone={statusTone(e.status)}>{e.status}</Badge>
                </td>
                <td>
                  <Time at={e.startedAt} />
                </td>
                <td>
                  <Time at={e.endedAt} />
                </td>
              </tr>
            ))}
          </Table>
        )}
        <Pager older={list.nextCursor ? `${base}?cursor=${encodeURIComponent(list.nextCursor)}` : null} />
      </Card>
    </Layout>,
  );
});

mediaPages.get("/projects/:project_id/egress/:eg_id", async (c) => {
  const ctx = await projectPage(c, c.req.param("project_id"), "project:read");
  const e = await findEgress(depsFor(c), ctx.projectId, c.req.param("eg_id"));
  return page(
    c,
    <Layout
      c={c}
      shell={ctx.shell(`Egress ${e.id}`, "egress")}
      actions={
        ctx.may("project:update") && isActiveEgress(e.status) ? (
          <PostForm action={`/projects/${ctx.projectId}/egress/${e.id}/stop`} csrf={c.var.csrfToken} confirm="Stop this egress now?">
            <Button kind="danger">Stop egress</Button>
          </PostForm>
        ) : undefined
      }
    >
      <Card title="Egress" id="egress">
        <dl class="kv">
          <dt>Status</dt>
          <dd>
            <Badge tone={statusTone(e.status)}>{e.status}</Badge>
          </dd>
          <dt>Type</dt>
          <dd>{e.type}</dd>
          <dt>Room</dt>
          <dd>{e.room ?? "—"}</dd>
          <dt>LiveKit id</dt>
          <dd>
            <code>{e.egressId}</code>
          </dd>
          <dt>Started</dt>
          <dd>
            <Time at={e.startedAt} />
          </dd>
          <dt>Ended</dt>
          <dd>
            <Time at={e.endedAt} />
          </dd>
          <dt>Error</dt>
          <dd>{e.error ? <span class="error">{e.error}</span> : "—"}</dd>
        </dl>
      </Card>
      <Card title="Outputs" id="outputs">
        <Json value={e.outputs} />
      </Card>
    </Layout>,
  );
});

mediaPages.post("/projects/:project_id/egress/:eg_id/stop", async (c) => {
  const form = await verifiedForm(c);
  const ctx = await projectPage(c, c.req.param("project_id"), "project:update");
  const e = await stopEgress(depsFor(c), audit(c), ctx.tenant, c.req.param("eg_id"));
  return redirectWith(c, `/projects/${ctx.projectId}/egress/${e.id}`, { notice: "Stop requested; the status follows LiveKit's events." });
});

mediaPages.get("/projects/:project_id/ingress", async (c) => {
  const ctx = await projectPage(c, c.req.param("project_id"), "project:read");
  const list = await listIngresses(depsFor(c), ctx.projectId, { limit: 50, cursor: c.req.query("cursor") || undefined });
  const base = `/projects/${ctx.projectId}/ingress`;
  return page(
    c,
    <Layout c={c} shell={ctx.shell("Ingress", "ingress")}>
      <Card title="Inputs" id="ingress">
        {list.rows.length === 0 ? (
          <Empty title="No ingress yet">Create one with an API key: POST /v1/ingress gives an RTMP, WHIP or URL input into a room.</Empty>
        ) : (
          <Table head={["Ingress", "Name", "Input", "Room", "Identity", "Status", "Created"]} caption="Ingress">
            {list.rows.map(({ row }) => (
              <tr>
                <td>
                  <a href={`${base}/${row.id}`}>
                    <code>{row.id}</code>
                  </a>
                </td>
                <td class="cell-name">{row.name || <span class="muted">—</span>}</td>
                <td>{row.inputType}</td>
                <td>{row.room}</td>
                <td>{row.participantIdentity}</td>
                <td>
                  <Badge tone={statusTone(row.status)}>{row.status}</Badge>
                </td>
                <td>
                  <Time at={row.createdAt} />
                </td>
              </tr>
            ))}
          </Table>
        )}
        <Pager older={list.nextCursor ? `${base}?cursor=${encodeURIComponent(list.nextCursor)}` : null} />
      </Card>
    </Layout>,
  );
});

mediaPages.get("/projects/:project_id/ingress/:ing_id", async (c) => {
  const ctx = await projectPage(c, c.req.param("project_id"), "project:read");
  const { row, streamKey } = await getIngress(depsFor(c), ctx.projectId, c.req.param("ing_id"));
  const admin = ctx.may("project:update");
  return page(
    c,
    <Layout
      c={c}
      shell={ctx.shell(`Ingress ${row.id}`, "ingress")}
      actions={
        admin ? (
          <PostForm action={`/projects/${ctx.projectId}/ingress/${row.id}/delete`} csrf={c.var.csrfToken} confirm="Delete this ingress? Its URL and stream key stop working.">
            <Button kind="danger">Delete ingress</Button>
          </PostForm>
        ) : undefined
      }
    >
      <Card title="Ingress" id="ingress">
        <dl class="kv">
          <dt>Status</dt>
          <dd>
            <Badge tone={statusTone(row.status)}>{row.status}</Badge>
          </dd>
          <dt>Name</dt>
          <dd>{row.name || "—"}</dd>
          <dt>Input</dt>
          <dd>{row.inputType}</dd>
          <dt>Room</dt>
          <dd>{row.room}</dd>
          <dt>Identity</dt>
          <dd>{row.participantIdentity}</dd>
          <dt>URL</dt>
          <dd>{row.url ? <code>{row.url}</code> : "—"}</dd>
          <dt>Stream key</dt>
          <dd>{streamKey ? admin ? <code>{streamKey}</code> : <span class="muted">admins only</span> : "—"}</dd>
          <dt>Error</dt>
          <dd>{row.error ? <span class="error">{row.error}</span> : "—"}</dd>
          <dt>Created</dt>
          <dd>
            <Time at={row.createdAt} />
          </dd>
        </dl>
      </Card>
    </Layout>,
  );
});

mediaPages.post("/projects/:project_id/ingress/:ing_id/delete", async (c) => {
  const form = await verifiedForm(c);
  const ctx = await projectPage(c, c.req.param("project_id"), "project:update");
  await deleteIngress(depsFor(c), audit(c), ctx.tenant, c.req.param("ing_id"));
  return redirectWith(c, `/projects/${ctx.projectId}/ingress`, { notice: "Ingress deleted." });
});
