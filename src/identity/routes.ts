/** Accounts and dashboard sessions: sign up, sign in, sign out, and who am I. */
import { createRoute } from "@hono/zod-openapi";
import { currentUser } from "../auth/caller";
import { auditActor } from "../audit/record";
import { depsOf } from "../deps";
import { bearerSecurity, conflictResponse, errorResponses, jsonBody, jsonContent } from "../lib/openapi";
import { createRouter } from "../router";
import { LoginBody, MeResponse, serializeSession, serializeUser, SessionResponse, SignupBody, UserResponse, VerifyEmailBody } from "./schemas";
import { describeUser, login, logout, signup } from "./service";
import { resendVerification, verifyEmail } from "./verification";

export const identityRoutes = createRouter();

identityRoutes.openapi(
  createRoute({
    method: "post",
    path: "/v1/auth/signup",
    tags: ["Identity"],
    summary: "Create an account and sign in; a verification link is emailed",
    description: "The new account's `email_verified_at` is null until `POST /v1/auth/verify-email` with the emailed token.",
    request: { body: jsonBody(SignupBody) },
    responses: { 201: jsonContent(SessionResponse, "Signed up"), 400: errorResponses[400], ...conflictResponse("Email taken") },
  }),
  async (c) => {
    const result = await signup(depsOf(c), auditActor(c), c.req.valid("json"));
    return c.json(serializeSession(result), 201);
  },
);

identityRoutes.openapi(
  createRoute({
    method: "post",
    path: "/v1/auth/login",
    tags: ["Identity"],
    summary: "Sign in with email and password",
    description: "Throttled per client IP and per account: after 10 failures for one email in 15 minutes, 429 until the window passes.",
    request: { body: jsonBody(LoginBody) },
    responses: { 200: jsonContent(SessionResponse, "Signed in"), 400: errorResponses[400], 401: errorResponses[401], 429: errorResponses[429] },
  }),
  async (c) => {
    const result = await login(depsOf(c), auditActor(c), c.req.valid("json"));
    return c.json(serializeSession(result), 200);
  },
);

identityRoutes.openapi(
  createRoute({
    method: "post",
    path: "/v1/auth/verify-email",
    tags: ["Identity"],
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
    tags: ["Identity"],
    summary: "Email a new verification link to the signed-in user (older links stop working)",
    description: "409 when already verified; 429 beyond 5 emails to the address in 15 minutes.",
    security: bearerSecurity,
    responses: { 202: { description: "Sent" }, 401: errorResponses[401], ...conflictResponse("Already verified"), 429: errorResponses[429] },
  }),
  async (c) => {
    await resendVerification(depsOf(c), auditActor(c), currentUser(c).userId);
    return c.body(null, 202);
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
