/**
 * Passwords (forgot, reset, change) and the signed-in user's sessions. Forgot and reset are
 * unauthenticated and limited per client IP; `/v1/me/*` needs a session (both in auth/table.ts).
 */
import { createRoute } from "@hono/zod-openapi";
import { auditActor } from "../audit/record";
import { depsOf } from "../deps";
import { bearerSecurity, errorResponses, jsonBody, jsonContent, ListQuery, listOf } from "../lib/openapi";
import { SessionParams } from "../lib/params";
import { createRouter } from "../router";
import { listSessions, revokeOtherSessions, revokeSession } from "./my-sessions";
import { changePassword, forgotPassword, resetPassword } from "./passwords";
import {
  ChangePasswordBody,
  ForgotPasswordBody,
  ResetPasswordBody,
  RevokedSessionsResponse,
  serializeSessionInfo,
  serializeUser,
  SessionInfoSchema,
  UserResponse,
} from "./schemas";
import { currentUser } from "../auth/caller";

export const accountRoutes = createRouter();


const tags = ["Identity"];

accountRoutes.openapi(
  createRoute({
    method: "post",
    path: "/v1/auth/password/forgot",
    tags,
    summary: "Email a password reset link (single use, 1 h) if the address has an account",
    description: "Always 202, whether or not the address has an account. At most 5 emails per address in 15 minutes.",
    request: { body: jsonBody(ForgotPasswordBody) },
    responses: { 202: { description: "Accepted" }, 400: errorResponses[400], 429: errorResponses[429] },
  }),
  async (c) => {
    await forgotPassword(depsOf(c), auditActor(c), c.req.valid("json").email);
    return c.body(null, 202);
  },
);

accountRoutes.openapi(
  createRoute({
    method: "post",
    path: "/v1/auth/password/reset",
    tags,
    summary: "Set a new password with the emailed token; signs the user out everywhere",
    request: { body: jsonBody(ResetPasswordBody) },
    responses: { 200: jsonContent(UserResponse, "Password reset; every session revoked"), 400: errorResponses[400], 429: errorResponses[429] },
  }),
  async (c) => {
    const user = await resetPassword(depsOf(c), auditActor(c), c.req.valid("json"));
    return c.json({ user: serializeUser(user) }, 200);
  },
);

accountRoutes.openapi(
  createRoute({
    method: "post",
    path: "/v1/me/password",
    tags,
    summary: "Change the password; the user's other sessions are revoked",
    description: "A wrong `current_password` is 400 on `current_password` and counts toward the account's sign-in throttle.",
    security: bearerSecurity,
    request: { body: jsonBody(ChangePasswordBody) },
    responses: { 200: jsonContent(UserResponse, "Changed"), ...errorResponses },
  }),
  async (c) => {
    const user = await changePassword(depsOf(c), auditActor(c), currentUser(c), c.req.valid("json"));
    return c.json({ user: serializeUser(user) }, 200);
  },
);

accountRoutes.openapi(
  createRoute({
    method: "get",
    path: "/v1/me/sessions",
    tags,
    summary: "The signed-in user's live sessions, newest first",
    security: bearerSecurity,
    request: { query: ListQuery },
    responses: { 200: jsonContent(listOf(SessionInfoSchema), "Sessions"), ...errorResponses },
  }),
  async (c) => {
    const caller = currentUser(c);
    const result = await listSessions(c.var.db, caller.userId, c.req.valid("query"));
    return c.json({ data: result.rows.map((s) => serializeSessionInfo(s, caller.sessionId)), next_cursor: result.nextCursor }, 200);
  },
);

accountRoutes.openapi(
  createRoute({
    method: "delete",
    path: "/v1/me/sessions/{sess_id}",
    tags,
    summary: "Revoke one of your sessions (your current one signs you out)",
    security: bearerSecurity,
    request: { params: SessionParams },
    responses: { 204: { description: "Revoked" }, ...errorResponses },
  }),
  async (c) => {
    const caller = currentUser(c);
    await revokeSession(c.var.db, { ...caller, actor: auditActor(c) }, c.req.valid("param").sess_id);
    return c.body(null, 204);
  },
);

accountRoutes.openapi(
  createRoute({
    method: "post",
    path: "/v1/me/sessions/revoke-all",
    tags,
    summary: "Revoke every session except the current one",
    security: bearerSecurity,
    responses: { 200: jsonContent(RevokedSessionsResponse, "How many were revoked"), ...errorResponses },
  }),
  async (c) => {
    const caller = currentUser(c);
    const revoked = await revokeOtherSessions(c.var.db, { ...caller, actor: auditActor(c) });
    return c.json({ revoked }, 200);
  },
);
