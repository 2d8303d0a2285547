/**
 * Plans on offer (`GET /v1/plans`: public, limited per client IP), the current period's bill and
 * invoices (`/v1/orgs/{org_id}/billing`, `/invoices`: any member, `billing:read`). Switching plans
 * is `PUT /v1/orgs/{org_id}/plan` (orgs router); plan management is the platform admin's (admin router).
 */
import { createRoute } from "@hono/zod-openapi";
import { orgAccess } from "../auth/caller";
import { depsOf } from "../deps";
import { bearerSecurity, errorResponses, jsonContent, listOf, ListQuery } from "../lib/openapi";
import { InvoiceParams, OrgParams } from "../lib/params";
import { createRouter } from "../router";
import { serializePlan } from "./plans";
import { BillingSchema, InvoiceSchema, InvoiceSummarySchema, PlanSchema, serializeBill, serializeInvoice, serializeInvoiceLine } from "./schemas";
import { currentBill, getInvoice, listOrgInvoices, listPlans } from "./service";

export const billingRoutes = createRouter();

const tags = ["Billing"];

billingRoutes.openapi(
  createRoute({
    method: "get",
    path: "/v1/plans",
    tags,
    summary: "Plans on offer, cheapest first (no authentication needed)",
    responses: { 200: jsonContent(listOf(PlanSchema), "Active plans; one page, next_cursor is always null"), 429: errorResponses[429] },
  }),
  async (c) => {
    const offered = await listPlans(depsOf(c));
    return c.json({ data: offered.map(serializePlan), next_cursor: null }, 200);
  },
);

billingRoutes.openapi(
  createRoute({
    method: "get",
    path: "/v1/orgs/{org_id}/billing",
    tags,
    summary: "The current billing period (calendar month, UTC): usage against the plan, overage and the total so far",
    security: bearerSecurity,
    request: { params: OrgParams },
    responses: { 200: jsonContent(BillingSchema, "Current period"), ...errorResponses },
  }),
  async (c) => {
    const { orgId } = await orgAccess(c, c.req.valid("param").org_id, "billing:read");
    return c.json(serializeBill(await currentBill(depsOf(c), orgId)), 200);
  },
);

billingRoutes.openapi(
  createRoute({
    method: "get",
    path: "/v1/orgs/{org_id}/invoices",
    tags,
    summary: "Invoices, newest first (lines on the single-invoice endpoint)",
    security: bearerSecurity,
    request: { params: OrgParams, query: ListQuery },
    responses: { 200: jsonContent(listOf(InvoiceSummarySchema), "Invoices"), ...errorResponses },
  }),
  async (c) => {
    const { orgId } = await orgAccess(c, c.req.valid("param").org_id, "billing:read");
    const result = await listOrgInvoices(depsOf(c), orgId, c.req.valid("query"));
    return c.json({ data: result.rows.map((r) => serializeInvoice(r)), next_cursor: result.nextCursor }, 200);
  },
);

billingRoutes.openapi(
  createRoute({
    method: "get",
    path: "/v1/orgs/{org_id}/invoices/{in_id}",
    tags,
    summary: "One invoice with its lines",
    security: bearerSecurity,
    request: { params: InvoiceParams },
    responses: { 200: jsonContent(InvoiceSchema, "The invoice"), ...errorResponses },
  }),
  async (c) => {
    const { org_id, in_id } = c.req.valid("param");
    await orgAccess(c, org_id, "billing:read");
    const { invoice, lines } = await getInvoice(depsOf(c), org_id, in_id);
    return c.json({ ...serializeInvoice(invoice), lines: lines.map(serializeInvoiceLine) }, 200);
  },
);
