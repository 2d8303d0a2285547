/**
 * Path parameters of every resource, declared once so every router (and the OpenAPI document)
 * names and describes them the same way. Nested resources extend their parent's parameters.
 */
import { z } from "@hono/zod-openapi";
import { idParam } from "./schemas";

export const OrgParams = z.object({ org_id: idParam("org_id", "org") });
export const ProjectParams = z.object({ project_id: idParam("project_id", "proj") });

export const MemberParams = OrgParams.extend({ user_id: idParam("user_id", "usr") });
export const InvitationParams = OrgParams.extend({ inv_id: idParam("inv_id", "inv") });
export const InvoiceParams = OrgParams.extend({ in_id: idParam("in_id", "in") });
export const AuditEntryParams = OrgParams.extend({ id: idParam("id", "aud") });

export const KeyParams = ProjectParams.extend({ key_id: idParam("key_id", "key") });
export const WebhookParams = ProjectParams.extend({ whk_id: idParam("whk_id", "whk") });
export const MessageParams = WebhookParams.extend({ msg_id: idParam("msg_id", "msg") });

export const EgressParams = z.object({ eg_id: idParam("eg_id", "eg") });
export const IngressParams = z.object({ ing_id: idParam("ing_id", "ing") });

/** Plans are named by operators (`pro`), not generated ids. */
export const PlanParams = z.object({ plan_id: z.string().min(1).max(64).openapi({ param: { name: "plan_id", in: "path" }, example: "pro" }) });
