/** `/v1/orgs/{org_id}/audit-logs`: reading and exporting the org's audit log (session routes, `audit:read`). */
import { createRoute, z } from "@hono/zod-openapi";
import { orgAccess } from "../auth/caller";
import { depsOf } from "../deps";
import { bearerSecurity, errorResponses, jsonContent, ListQuery, listOf } from "../lib/openapi";
import { AuditEntryParams, OrgParams } from "../lib/params";
import { createRouter } from "../router";
import { exportAudit } from "./export";
import { AuditEntrySchema, AuditFilters, serializeAudit } from "./schemas";
import { findAuditEntry, listAuditEntries } from "./service";

export const auditRoutes = createRouter();

const tags = ["Audit log"];

auditRoutes.openapi(
  createRoute({
    method: "get",
    path: "/v1/orgs/{org_id}/audit-logs",
    tags,
    summary: "List audit entries, newest first, with filters",
    security: bearerSecurity,
    request: { params: OrgParams, query: ListQuery.extend(AuditFilters.shape) },
    responses: { 200: jsonContent(listOf(AuditEntrySchema), "Entries"), ...errorResponses },
  }),
  async (c) => {
    const { limit, cursor, ...filters } = c.req.valid("query");
    const { orgId } = await orgAccess(c, c.req.valid("param").org_id, "audit:read");
    const result = await listAuditEntries(depsOf(c), orgId, filters, { limit, cursor });
    return c.json({ data: result.rows.map(serializeAudit), next_cursor: result.nextCursor }, 200);
  },
);

auditRoutes.openapi(
  createRoute({
    method: "get",
    path: "/v1/orgs/{org_id}/audit-logs/export",
    tags,
    summary: "Export the whole filtered range as NDJSON or CSV (streamed)",
    security: bearerSecurity,
    request: { params: OrgParams, query: AuditFilters.extend({ format: z.enum(["ndjson", "csv"]).default("ndjson") }) },
    responses: {
      200: {
        description: "The entries",
        content: { "application/x-ndjson": { schema: z.string() }, "text/csv": { schema: z.string() } },
      },
      ...errorResponses,
    },
  }),
  async (c) => {
    const { org_id } = c.req.valid("param");
    const { format, ...filters } = c.req.valid("query");
    await orgAccess(c, org_id, "audit:read");
    const stream = exportAudit(c.var.db, org_id, filters, format);
    const filename = `audit-${org_id}.${format === "csv" ? "csv" : "ndjson"}`;
    return new Response(stream, {
      status: 200,
      headers: {
        "Content-Type": format === "csv" ? "text/csv; charset=utf-8" : "application/x-ndjson; charset=utf-8",
        "Content-Disposition": `attachment; filename="${filename}"`,
      },
    }) as never;
  },
);

auditRoutes.openapi(
  createRoute({
    method: "get",
    path: "/v1/orgs/{org_id}/audit-logs/{id}",
    tags,
    summary: "Read one audit entry",
    security: bearerSecurity,
    request: { params: AuditEntryParams },
    responses: { 200: jsonContent(AuditEntrySchema, "The entry"), ...errorResponses },
  }),
  async (c) => {
    const { org_id, id } = c.req.valid("param");
    await orgAccess(c, org_id, "audit:read");
    return c.json(serializeAudit(await findAuditEntry(depsOf(c), org_id, id)), 200);
  },
);
