import { createRoute, z } from "@hono/zod-openapi";
import { and, eq, isNull } from "drizzle-orm";
import { auditActor, auditEntry } from "../audit/record";
import { memberships, organizations, sessions, users } from "../db/schema";
import { nowMs, toIso } from "../lib/clock";
import { bearerSecurity, conflictResponse, errorResponses, jsonBody, jsonContent } from "../lib/openapi";
import { createRouter } from "../router";
import { unauthenticated } from "../lib/errors";
import { rateLimitByIp } from "../middleware/rate-limit";
import { depsOf } from "../deps";
import { LoginBody, serializeUser, SessionResponse, SignupBody, UserResponse, UserSchema, VerifyEmailBody } from "./schemas";
import { login, signup } from "./service";
import { currentUser, requireUser } from "./sessions";
import { resendVerification, verifyEmail } from "./verification";

export const identityRoutes = createRouter();

identityRoutes.use("/v1/auth/signup", rateLimitByIp);
identityRoutes.use("/v1/auth/login", rateLimitByIp);
identityRoutes.use("/v1/auth/verify-email", rateLimitByIp);
identityRoutes.use("/v1/auth/verify-email/resend", requireUser);
identityRoutes.use("/v1/auth/logout", requireUser);
identityRoutes.use("/v1/me", requireUser);

const tags = ["Identity"];

identityRoutes.openapi(
  createRoute({
    method: "post",
    path: "/v1/auth/signup",
    tags,
    summary: "Create an account and sign in; a verification link is emailed",
    description: "The new account's `email_verified_at` is null until `POST /v1/auth/verify-email` with the emailed token.",
    request: { body: jsonBody(SignupBody) },
    responses: { 201: jsonContent(SessionResponse, "Signed up"), 400: errorResponses[400], ...conflictResponse("Email taken") },
  }),
  async (c) => {
    const result = await signup(depsOf(c), auditActor(c), c.req.valid("json"));
    return c.json({ user: serializeUser(result.user), token: result.token, expires_at: toIso(result.expiresAt) }, 201);
  },
);

identityRoutes.openapi(
  createRoute({
    method: "post",
    path: "/v1/auth/login",
    tags,
    summary: "Sign in with email and password",
    description: "Throttled per client IP and per account: after 10 failures for one email in 15 minutes, 429 until the window passes.",
    request: { body: jsonBody(LoginBody) },
    responses: { 200: jsonContent(SessionResponse, "Signed in"), 400: errorResponses[400], 401: errorResponses[401], 429: errorResponses[429] },
  }),
  async (c) => {
    const result = await login(depsOf(c), auditActor(c), c.req.valid("json"));
    return c.json({ user: serializeUser(result.user), token: result.token, expires_at: toIso(result.expiresAt) }, 200);
  },
);

identityRoutes.openapi(
  createRoute({
    method: "post",
    path: "/v1/auth/verify-email",
    tags,
    summary: "Verify the account's email with the emailed token (single use, 24 h)",
    request: { body: jsonBody(VerifyEmailBody) },
    responses: { 200: jsonContent(UserResponse, "Verified"), 400: errorResponses[400], 429: errorResponses[429] },
  }),
  async (c) => {
    const user = await verifyEmail(depsOf(c), auditActor(c), c.req.valid("json").token);
    return c.json({ user: serializeUser(user) }, 200);
  },
);

identityRoutes.openapi(
  createRoute({
    method: "post",
    path: "/v1/auth/verify-email/resend",
    tags,
    summary: "Email a new verification link to the signed-in user (older links stop working)",
    description: "409 when already verified; 429 beyond 5 emails to the address in 15 minutes.",
    security: bearerSecurity,
    responses: { 202: { description: "Sent" }, 401: errorResponses[401], 409: { description: "Already verified" }, 429: errorResponses[429] },
  }),
  async (c) => {
    await resendVerification(depsOf(c), currentUser(c).userId);
    return c.body(null, 202);
  },
);

identityRoutes.openapi(
  createRoute({
    method: "post",
    path: "/v1/auth/logout",
    tags,
    summary: "Revoke the presented session",
    security: bearerSecurity,
    responses: { 204: { description: "Signed out" }, 401: errorResponses[401] },
  }),
  async (c) => {
    const user = currentUser(c);
    const db = c.var.db;
    const at = nowMs();
    await db.batch([
      db.update(sessions).set({ revokedAt: at }).where(and(eq(sessions.id, user.sessionId), isNull(sessions.revokedAt))),
      auditEntry(db, auditActor(c), { action: "user.logged_out", resourceType: "session", resourceId: user.sessionId }, at),
    ]);
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
    tags,
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
