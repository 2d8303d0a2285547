/**
 * `GET /v1/dev/mailbox?to=<email>`: the `log` provider's messages to one address, newest first,
 * so people running Pulse locally (and the tests) can follow verification, reset and invitation
 * links. It exists only with PULSE_ENV=development; in production it answers exactly like an
 * unknown route.
 */
import { createRoute, z } from "@hono/zod-openapi";
import { and, desc, eq, isNotNull } from "drizzle-orm";
import { mailOutbox } from "../db/schema";
import { toIso } from "../lib/clock";
import { normalizeEmail } from "../lib/email";
import { ApiError } from "../lib/errors";
import { errorResponses, jsonContent } from "../lib/openapi";
import { createRouter } from "../router";

export const mailRoutes = createRouter();

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
    if (c.var.config.isProduction) throw new ApiError("not_found", `No route for GET ${new URL(c.req.url).pathname}.`);
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
