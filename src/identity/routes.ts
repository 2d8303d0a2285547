import { createRoute, z } from "@hono/zod-openapi";
import { currentUser } from "../auth/caller";
import { and, eq, isNull } from "drizzle-orm";
import { auditActor, auditEntry } from "../audit/record";
import { memberships, organizations, sessions, users } from "../db/schema";
import { nowMs, toIso } from "../lib/clock";
import { bearerSecurity, conflictResponse, errorResponses, jsonBody, jsonContent } from "../lib/openapi";
import { createRouter } from "../router";
import { unauthenticated } from "../lib/errors";
import { LoginBody, serializeUser, SessionResponse, SignupBody, UserSchema } from "./schemas";
import { login, logout, signup } from "./service";

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
    return c.json({ user: serializeUser(result.user), token: result.token, expires_at: toIso(result.expiresAt) }, 201);
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
    return c.json({ user: serializeUser(result.user), token: result.token, expires_at: toIso(result.expiresAt) }, 200);
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
    await logout(c.var.db, auditActor(c), currentUser(c).sessionId);
    return c.body(null, 204);
  },
);

const MeResponse = z
  .object({
    user: UserSchema,
    organizations: z.array(z.object({ id: z.string(), name: z.string(), role: z.string() })),
  })
  .openapi("Me");

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
    const { userId } = currentUser(c);
    const db = c.var.db;
    const [user, orgs] = await Promise.all([
      db.select().from(users).where(eq(users.id, userId)).get(),
      db
        .select({ id: organizations.id, name: organizations.name, role: memberships.role })
        .from(memberships)
        .innerJoin(organizations, eq(organizations.id, memberships.orgId))
        .where(and(eq(memberships.userId, userId), isNull(organizations.deletedAt)))
        .orderBy(organizations.createdAt)
        .all(),
    ]);
    if (!user) throw unauthenticated();
    return c.json({ user: serializeUser(user), organizations: orgs }, 200);
  },
);
