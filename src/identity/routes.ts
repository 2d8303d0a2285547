/** Accounts and dashboard sessions: sign up, sign in, sign out, and who am I. */
import { createRoute } from "@hono/zod-openapi";
import { currentUser } from "../auth/caller";
import { auditActor } from "../audit/record";
import { bearerSecurity, conflictResponse, errorResponses, jsonBody, jsonContent } from "../lib/openapi";
import { createRouter } from "../router";
import { LoginBody, MeResponse, serializeSession, serializeUser, SessionResponse, SignupBody } from "./schemas";
import { describeUser, login, logout, signup } from "./service";

export const identityRoutes = createRouter();

identityRoutes.openapi(
  createRoute({
    method: "post",
    path: "/v1/auth/signup",
    tags: ["Identity"],
    summary: "Create an account and sign in",
    request: { body: jsonBody(SignupBody) },
    responses: { 201: jsonContent(SessionResponse, "Signed up"), 400: errorResponses[400], ...conflictResponse("Email taken") },
  }),
  async (c) => {
    const body = c.req.valid("json");
    const result = await signup(c.var.db, body, { ttlHours: c.var.config.sessionTtlHours, actor: auditActor(c) });
    return c.json(serializeSession(result), 201);
  },
);

identityRoutes.openapi(
  createRoute({
    method: "post",
    path: "/v1/auth/login",
    tags: ["Identity"],
    summary: "Sign in with email and password",
    request: { body: jsonBody(LoginBody) },
    responses: { 200: jsonContent(SessionResponse, "Signed in"), 400: errorResponses[400], 401: errorResponses[401] },
  }),
  async (c) => {
    const body = c.req.valid("json");
    const result = await login(c.var.db, body, { ttlHours: c.var.config.sessionTtlHours, actor: auditActor(c) });
    return c.json(serializeSession(result), 200);
  },
);

identityRoutes.openapi(
  createRoute({
    method: "post",
    path: "/v1/auth/logout",
    tags: ["Identity"],
    summary: "Revoke the presented session",
    security: bearerSecurity,
    responses: { 204: { description: "Signed out" }, 401: errorResponses[401] },
  }),
  async (c) => {
    const { sessionId } = currentUser(c);
    await logout(c.var.db, { sessionId, audit: auditActor(c) });
    return c.body(null, 204);
  },
);

identityRoutes.openapi(
  createRoute({
    method: "get",
    path: "/v1/me",
    tags: ["Identity"],
    summary: "The signed-in user and their organizations",
    security: bearerSecurity,
    responses: { 200: jsonContent(MeResponse, "You"), 401: errorResponses[401] },
  }),
  async (c) => {
    const me = await describeUser(c.var.db, currentUser(c).userId);
    return c.json({ user: serializeUser(me.user), organizations: me.organizations }, 200);
  },
);
