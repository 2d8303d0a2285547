/**
 * `GET /v1/dev/mailbox?to=<email>`: the `log` provider's messages to one address, newest first,
 * so people running Pulse locally (and the tests) can follow verification, reset and invitation
 * links. It exists only outside production: there `developmentOnly` answers every method on
 * `/v1/dev/*` exactly like an unknown route, before the query is checked or the method matched,
 * so nothing tells the route is there.
 */
import { createRoute, z } from "@hono/zod-openapi";
import type { MiddlewareHandler } from "hono";
import { and, desc, eq, isNotNull } from "drizzle-orm";
import { mailOutbox } from "../db/schema";
import { toIso } from "../lib/clock";
import { normalizeEmail } from "../lib/email";
import { ApiError } from "../lib/errors";
import { errorResponses, jsonContent } from "../lib/openapi";
import { createRouter } from "../router";
import type { AppEnv } from "../env";

export const mailRoutes = createRouter();

/** Mounted by the app on `/v1/dev/*` ahead of the body rules and the 405 check. */
export const developmentOnly: MiddlewareHandler<AppEnv> = async (c, next) => {
  if (c.var.config.isProduction) throw new ApiError("not_found", `No route for ${c.req.method} ${new URL(c.req.url).pathname}.`);
  await next();
};

const MAILBOX_LIMIT = 50;

const MailboxQuery = z.object({ to: z.email().max(254) });

const MailSchema = z
  .object({ id: z.string(), to: z.string(), subject: z.string(), text: z.string(), created_at: z.string() })
  .openapi("DevMail");

mailRoutes.openapi(
  createRoute({
    method: "get",
    path: "/v1/dev/mailbox",
    tags: ["Development"],
    summary: "Mail sent to an address (development only; 404 in production)",
    description: `The ${MAILBOX_LIMIT} newest messages to \`to\`, newest first. Links in \`text\` carry their token as \`token=<value>\`.`,
    request: { query: MailboxQuery },
    responses: { 200: jsonContent(z.object({ data: z.array(MailSchema) }), "Messages"), 400: errorResponses[400], 404: errorResponses[404] },
  }),
  async (c) => {
    const { to } = c.req.valid("query");
    const rows = await c.var.db
      .select()
      .from(mailOutbox)
      .where(and(eq(mailOutbox.toNormalized, normalizeEmail(to)), isNotNull(mailOutbox.text)))
      .orderBy(desc(mailOutbox.createdAt), desc(mailOutbox.id))
      .limit(MAILBOX_LIMIT)
      .all();
    const data = rows.map((m) => ({ id: m.id, to: m.toAddress, subject: m.subject, text: m.text ?? "", created_at: toIso(m.createdAt) }));
    return c.json({ data }, 200);
  },
);
