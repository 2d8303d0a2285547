/** @jsxImportSource hono/jsx */
/**
 * An organization's records: its plan, the current period's bill and its invoices; and the audit
 * log with filters, cursor paging and export (the API's own filter schema and export stream).
 */
import { Hono } from "hono";
import { AuditFilters } from "../audit/schemas";
import { exportAudit } from "../audit/export";
import { listAuditEntries } from "../audit/service";
import { currentBill, listOrgInvoices } from "../billing/service";
import { toIso } from "../lib/clock";
import { METER_NAMES, METERS } from "../usage/meters";
import { depsFor, type DashboardEnv } from "./context";
import { optional, parseWith } from "./forms";
import { Layout } from "./layout";
import { errorPage, page } from "./render";
import { orgPage, signedIn } from "./shell";
import { Badge, Button, Card, Empty, Field, Pager, Table, Time } from "./ui";

export const orgRecordPages = new Hono<DashboardEnv>();
orgRecordPages.use("/orgs/*", signedIn);

const money = (cents: number, currency: string) => `${(cents / 100).toLocaleString("en-US", { style: "currency", currency: currency.toUpperCase() })}`;

orgRecordPages.get("/orgs/:org_id/billing", async (c) => {
  const orgId = c.req.param("org_id");
  const ctx = await orgPage(c, orgId, "billing:read");
  const { plan, period, priced, segments } = await currentBill(depsFor(c), orgId);
  const invoices = await listOrgInvoices(depsFor(c), orgId, { limit: 24 });
  return page(
    c,
    <Layout c={c} shell={ctx.shell("Plan & billing", "billing")}>
      <>
          <div class="grid grid-3">
            <div class="stat">
              <p class="stat-label">Plan</p>
              <p class="stat-value">{plan.name}</p>
              <p class="stat-sub">{plan.hardCap ? "Hard cap: usage stops at the included amounts" : "Overage billed per unit"}</p>
            </div>
            <div class="stat">
              <p class="stat-label">This period so far</p>
              <p class="stat-value" id="bill-total">
                {money(priced.totalCents, plan.currency)}
              </p>
              <p class="stat-sub">
                {toIso(period.since).slice(0, 10)} to {toIso(period.until - 1).slice(0, 10)} (UTC)
              </p>
            </div>
            <div class="stat">
              <p class="stat-label">Base fee + overage</p>
              <p class="stat-value">
                {money(priced.baseFeeCents, plan.currency)} + {money(priced.overageCents, plan.currency)}
              </p>
              <p class="stat-sub">{ctx.may("plan:change") ? "Owners change the plan through the API (PUT /v1/orgs/{id}/plan)." : "Owners can change the plan."}</p>
            </div>
          </div>
          <Card title="Usage against the plan" id="meters">
            <Table head={["Meter", "Used", "Included", "Overage", ""]} caption="Usage against the plan">
              {METER_NAMES.map((m) => {
                const charge = priced.meters[m];
                return (
                  <tr>
                    <td class="cell-name">{METERS[m].label}</td>
                    <td>{charge.used.toLocaleString("en-US")}</td>
                    <td>{charge.included.toLocaleString("en-US")}</td>
                    <td>{money(charge.amountCents, plan.currency)}</td>
                    <td>{charge.exhausted ? <Badge tone="bad">used up</Badge> : null}</td>
                  </tr>
                );
              })}
            </Table>
          </Card>
          {segments.length > 1 ? (
            <Card title="Plans this period" id="segments">
              <p class="muted">The plan changed this period: each plan is billed for its own days, with its fee and included amounts prorated, and the usage made while it was in force.</p>
              <Table head={["Plan", "From", "To", "Base fee", "Overage", "Total"]} caption="Plans this period">
                {segments.map((s) => (
                  <tr>
                    <td class="cell-name">{s.plan.name}</td>
                    <td>
                      <Time at={s.since} />
                    </td>
                    <td>
                      <Time at={s.until} />
                    </td>
                    <td>{money(s.priced.baseFeeCents, plan.currency)}</td>
                    <td>{money(s.priced.overageCents, plan.currency)}</td>
                    <td>{money(s.priced.totalCents, plan.currency)}</td>
                  </tr>
                ))}
              </Table>
            </Card>
          ) : null}
      </>
      <Card title="Invoices" id="invoices">
        {invoices.rows.length === 0 ? (
          <Empty title="No invoices yet">An invoice is issued after each calendar month.</Empty>
        ) : (
          <Table head={["Invoice", "Period", "Status", "Total"]} caption="Invoices">
            {invoices.rows.map((i) => (
              <tr>
                <td>
                  <code>{i.id}</code>
                </td>
                <td>
                  <Time at={i.periodStart} /> – <Time at={i.periodEnd} />
                </td>
                <td>
                  <Badge tone="info">{i.status}</Badge>
                </td>
                <td>{money(i.totalCents, i.currency)}</td>
              </tr>
            ))}
          </Table>
        )}
      </Card>
    </Layout>,
  );
});

// ---- audit log -----------------------------------------------------------------------------

const FILTERS = ["action", "actor_id", "resource_type", "resource_id", "project_id", "since", "until"] as const;

/** The filters in the query string, with date inputs (`YYYY-MM-DD`) read as UTC midnight. */
function auditFilters(query: Record<string, string>) {
  const raw: Record<string, string | undefined> = {};
  for (const f of FILTERS) raw[f] = optional(query[f] ?? null);
  for (const f of ["since", "until"] as const) if (raw[f] && /^\d{4}-\d{2}-\d{2}$/.test(raw[f]!)) raw[f] = `${raw[f]}T00:00:00Z`;
  return { raw, parsed: parseWith(AuditFilters, raw) };
}

function queryString(values: Record<string, string | undefined>) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(values)) if (v) q.set(k, v);
  const s = q.toString();
  return s ? `?${s}` : "";
}

orgRecordPages.get("/orgs/:org_id/audit", async (c) => {
  const orgId = c.req.param("org_id");
  const ctx = await orgPage(c, orgId, "audit:read");
  const query = c.req.query();
  const { raw, parsed } = auditFilters(query);
  const errors = parsed.ok ? {} : parsed.errors;
  const cursor = query.cursor || undefined;
  // Filters that do not parse list nothing: the whole log under "filtered" would mislead.
  const entries = parsed.ok ? await listAuditEntries(depsFor(c), orgId, parsed.data, { limit: 50, cursor }) : { rows: [], nextCursor: null };
  const base = `/orgs/${orgId}/audit`;
  const shown = Object.fromEntries(FILTERS.map((f) => [f, query[f]]));
  return page(
    c,
    <Layout
      c={c}
      shell={ctx.shell("Audit log", "audit")}
      actions={
        <>
          <a class="btn btn-secondary btn-sm" href={`${base}/export${queryString({ ...shown, format: "csv" })}`}>
            Export CSV
          </a>
          <a class="btn btn-secondary btn-sm" href={`${base}/export${queryString({ ...shown, format: "ndjson" })}`}>
            Export NDJSON
          </a>
        </>
      }
    >
      <Card>
        <form method="get" action={base} class="filters" aria-label="Filter the audit log">
          <Field label="Action" name="action" value={query.action} error={errors.action} placeholder="api_key.created" />
          <Field label="Actor id" name="actor_id" value={query.actor_id} error={errors.actor_id} placeholder="usr_…" />
          <Field label="Resource type" name="resource_type" value={query.resource_type} error={errors.resource_type} placeholder="project" />
          <Field label="Resource id" name="resource_id" value={query.resource_id} error={errors.resource_id} />
          <Field label="Project id" name="project_id" value={query.project_id} error={errors.project_id} placeholder="proj_…" />
          <Field label="Since (UTC)" name="since" type="date" value={query.since} error={errors.since} />
          <Field label="Until (UTC)" name="until" type="date" value={query.until} error={errors.until} />
          <div class="field form-actions">
            <Button kind="secondary">Filter</Button>
            <a href={base}>Clear</a>
          </div>
        </form>
      </Card>
      <Card title="Entries" id="entries">
        {entries.rows.length === 0 ? (
          <Empty title={parsed.ok ? "No entries match" : "Correct the filters above"} />
        ) : (
          <Table head={["When", "Action", "Actor", "Resource", "Details"]} caption="Audit entries">
            {entries.rows.map((e) => (
              <tr>
                <td>
                  <Time at={e.createdAt} />
                </td>
                <td>
                  <code>{e.action}</code>
                </td>
                <td class="small">
                  {e.actorType}
                  {e.actorId ? (
                    <div>
                      <a href={`${base}${queryString({ ...raw, actor_id: e.actorId })}`}>
                        <code>{e.actorId}</code>
                      </a>
                    </div>
                  ) : null}
                </td>
                <td class="small">
                  {e.resourceType}
                  {e.resourceId ? (
                    <div>
                      <code>{e.resourceId}</code>
                    </div>
                  ) : null}
                </td>
                <td class="small">
                  <code>{e.metadata}</code>
                </td>
              </tr>
            ))}
          </Table>
        )}
        <Pager newest={cursor ? `${base}${queryString(shown)}` : null} older={entries.nextCursor ? `${base}${queryString({ ...shown, cursor: entries.nextCursor })}` : null} />
      </Card>
    </Layout>,
    parsed.ok ? 200 : 400,
  );
});

orgRecordPages.get("/orgs/:org_id/audit/export", async (c) => {
  const orgId = c.req.param("org_id");
  await orgPage(c, orgId, "audit:read");
  const { parsed } = auditFilters(c.req.query());
  if (!parsed.ok) {
    const problems = Object.entries(parsed.errors).map(([field, message]) => `${field}: ${message}`);
    return errorPage(c, 400, `Nothing was exported: the filters do not parse (${problems.join("; ")}). Correct them on the audit log page and export again.`);
  }
  const format = c.req.query("format") === "csv" ? "csv" : "ndjson";
  return new Response(exportAudit(c.var.db, orgId, parsed.data, format), {
    headers: {
      "Content-Type": format === "csv" ? "text/csv; charset=utf-8" : "application/x-ndjson; charset=utf-8",
      "Content-Disposition": `attachment; filename="audit-${orgId}.${format}"`,
      "Cache-Control": "no-store",
    },
  });
});
