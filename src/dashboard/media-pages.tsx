/** @jsxImportSource hono/jsx */
/**
 * A project's egress (recordings, streams) and ingress (inputs): lists and details with status,
 * outputs, LiveKit's results and errors, kept current by LiveKit's webhooks. Viewers read; admins
 * stop an egress or delete an ingress, through the same services as the API-key routes.
 */
import { Hono } from "hono";
import type { Child } from "hono/jsx";
import { auditActor } from "../audit/record";
import { ACTIVE_EGRESS_STATUSES } from "../egress/status";
import { findEgress, listEgresses, stopEgress } from "../egress/service";
import { deleteIngress, getIngress, listIngresses } from "../ingress/service";
import { asAppContext, depsFor, type DashboardEnv, type DashContext } from "./context";
import { Layout } from "./layout";
import { page, redirectWith } from "./render";
import { projectAction, projectPage, signedIn, type ProjectPage } from "./shell";
import { ActionButton, Card, DataTable, Empty, KeyValues, Pager, StatusBadge, Table, Time, olderLink, type Column } from "./ui";

export const mediaPages = new Hono<DashboardEnv>();
mediaPages.use("/projects/*", signedIn);

const audit = (c: DashContext) => auditActor(asAppContext(c));

const isActiveEgress = (status: string) => (ACTIVE_EGRESS_STATUSES as readonly string[]).includes(status);

/** Stored JSON (text) or an already parsed value; null when absent or empty. */
function parsed(value: unknown): unknown {
  if (value === null || value === undefined || value === "") return null;
  if (typeof value !== "string") return value;
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}

function Json(p: { value: unknown }) {
  const v = parsed(p.value);
  if (v === null) return <span class="muted">—</span>;
  return <pre>{typeof v === "string" ? v : JSON.stringify(v, null, 2)}</pre>;
}

/** LiveKit's results of an egress, in the record's `*Results` fields when the record has them. */
const RESULT_FIELDS = [
  ["fileResults", "Files"],
  ["streamResults", "Streams"],
  ["segmentResults", "Segments"],
  ["imageResults", "Images"],
] as const;

const cellText = (v: unknown): Child => (v === null || v === undefined || v === "" ? <span class="muted">—</span> : typeof v === "object" ? JSON.stringify(v) : String(v));

/** One kind of result as a table: a column per field LiveKit reported. */
function ResultTable(p: { caption: string; rows: Record<string, unknown>[] }) {
  const keys = [...new Set(p.rows.flatMap((r) => Object.keys(r)))];
  return (
    <Table head={keys} caption={p.caption}>
      {p.rows.map((r) => (
        <tr>
          {keys.map((k) => (
            <td class="cell-wrap">{cellText(r[k])}</td>
          ))}
        </tr>
      ))}
    </Table>
  );
}

export function EgressResults(p: { record: Record<string, unknown> }) {
  const present = RESULT_FIELDS.map(([field, title]) => ({ title, value: parsed(p.record[field]) })).filter(
    (r): r is { title: (typeof RESULT_FIELDS)[number][1]; value: unknown[] } => Array.isArray(r.value) && r.value.length > 0,
  );
  if (present.length === 0) return null;
  return (
    <Card title="Results" id="results">
      {present.map((r) => (
        <>
          <h3>{r.title}</h3>
          <ResultTable caption={r.title} rows={r.value.map((v) => (v && typeof v === "object" ? (v as Record<string, unknown>) : { value: v }))} />
        </>
      ))}
    </Card>
  );
}

const errorText = (error: string | null) => (error ? <span class="error">{error}</span> : null);

/** A list page of egress or ingress: one card, one table, older pages by cursor. */
function MediaList<T>(p: { c: DashContext; ctx: ProjectPage; section: "egress" | "ingress"; title: string; cardTitle: string; rows: T[]; next: string | null; empty: Child; columns: Column<T>[] }) {
  const base = `/projects/${p.ctx.projectId}/${p.section}`;
  return (
    <Layout c={p.c} shell={p.ctx.shell(p.title, p.section)}>
      <Card title={p.cardTitle} id={p.section}>
        <DataTable caption={p.title} rows={p.rows} empty={<Empty title={`No ${p.section} yet`}>{p.empty}</Empty>} columns={p.columns} />
        <Pager newest={p.c.req.query("cursor") ? base : null} older={olderLink(base, p.next)} />
      </Card>
    </Layout>
  );
}

const idLink = (href: string, id: string) => (
  <a href={href}>
    <code>{id}</code>
  </a>
);

mediaPages.get("/projects/:project_id/egress", async (c) => {
  const ctx = await projectPage(c, c.req.param("project_id"), "project:read");
  const list = await listEgresses(depsFor(c), ctx.projectId, { limit: 50, cursor: c.req.query("cursor") || undefined });
  const base = `/projects/${ctx.projectId}/egress`;
  return page(
    c,
    <MediaList
      c={c}
      ctx={ctx}
      section="egress"
      title="Egress"
      cardTitle="Recordings and streams"
      rows={list.rows}
      next={list.nextCursor}
      empty="Start one with an API key: POST /v1/egress records or streams a room."
      columns={[
        { head: "Egress", cell: (e) => idLink(`${base}/${e.id}`, e.id) },
        { head: "Type", cell: (e) => e.type },
        { head: "Room", class: "cell-name", cell: (e) => e.room ?? <span class="muted">web page</span> },
        { head: "Status", cell: (e) => <StatusBadge status={e.status} /> },
        { head: "Started", cell: (e) => <Time at={e.startedAt} /> },
        { head: "Ended", cell: (e) => <Time at={e.endedAt} /> },
      ]}
    />,
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
          <ActionButton action={`/projects/${ctx.projectId}/egress/${e.id}/stop`} csrf={c.var.csrfToken} label="Stop egress" kind="danger" confirm="Stop this egress now?" />
        ) : undefined
      }
    >
      <Card title="Egress" id="egress">
        <KeyValues
          items={[
            ["Status", <StatusBadge status={e.status} />],
            ["Type", e.type],
            ["Room", e.room],
            ["LiveKit id", <code>{e.egressId}</code>],
            ["Started", <Time at={e.startedAt} />],
            ["Ended", <Time at={e.endedAt} />],
            ["Error", errorText(e.error)],
          ]}
        />
      </Card>
      <EgressResults record={e as unknown as Record<string, unknown>} />
      <Card title="Outputs" id="outputs">
        <Json value={e.outputs} />
      </Card>
    </Layout>,
  );
});

mediaPages.post("/projects/:project_id/egress/:eg_id/stop", async (c) => {
  const { ctx } = await projectAction(c, "project:update");
  const e = await stopEgress(depsFor(c), audit(c), ctx.tenant, c.req.param("eg_id"));
  return redirectWith(c, `/projects/${ctx.projectId}/egress/${e.id}`, { notice: "Stop requested; the status follows LiveKit's events." });
});

mediaPages.get("/projects/:project_id/ingress", async (c) => {
  const ctx = await projectPage(c, c.req.param("project_id"), "project:read");
  const list = await listIngresses(depsFor(c), ctx.projectId, { limit: 50, cursor: c.req.query("cursor") || undefined });
  const base = `/projects/${ctx.projectId}/ingress`;
  return page(
    c,
    <MediaList
      c={c}
      ctx={ctx}
      section="ingress"
      title="Ingress"
      cardTitle="Inputs"
      rows={list.rows.map((r) => r.row)}
      next={list.nextCursor}
      empty="Create one with an API key: POST /v1/ingress gives an RTMP, WHIP or URL input into a room."
      columns={[
        { head: "Ingress", cell: (row) => idLink(`${base}/${row.id}`, row.id) },
        { head: "Name", class: "cell-name", cell: (row) => row.name || <span class="muted">—</span> },
        { head: "Input", cell: (row) => row.inputType },
        { head: "Room", cell: (row) => row.room },
        { head: "Identity", cell: (row) => row.participantIdentity },
        { head: "Status", cell: (row) => <StatusBadge status={row.status} /> },
        { head: "Created", cell: (row) => <Time at={row.createdAt} /> },
      ]}
    />,
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
          <ActionButton
            action={`/projects/${ctx.projectId}/ingress/${row.id}/delete`}
            csrf={c.var.csrfToken}
            label="Delete ingress"
            kind="danger"
            confirm="Delete this ingress? Its URL and stream key stop working."
          />
        ) : undefined
      }
    >
      <Card title="Ingress" id="ingress">
        <KeyValues
          items={[
            ["Status", <StatusBadge status={row.status} />],
            ["Name", row.name || null],
            ["Input", row.inputType],
            ["Room", row.room],
            ["Identity", row.participantIdentity],
            ["URL", row.url ? <code>{row.url}</code> : null],
            ["Stream key", streamKey ? admin ? <code>{streamKey}</code> : <span class="muted">admins only</span> : null],
            ["Error", errorText(row.error)],
            ["Created", <Time at={row.createdAt} />],
          ]}
        />
      </Card>
    </Layout>,
  );
});

mediaPages.post("/projects/:project_id/ingress/:ing_id/delete", async (c) => {
  const { ctx } = await projectAction(c, "project:update");
  await deleteIngress(depsFor(c), audit(c), ctx.tenant, c.req.param("ing_id"));
  return redirectWith(c, `/projects/${ctx.projectId}/ingress`, { notice: "Ingress deleted." });
});
