import { z } from "@hono/zod-openapi";
import type { sessions, users } from "../db/schema";
import { toIso } from "../lib/clock";

export const UserSchema = z
  .object({
    id: z.string(),
    email: z.string(),
    name: z.string(),
    email_verified_at: z.string().nullable(),
    created_at: z.string(),
  })
  .openapi("User");

export function serializeUser(u: typeof users.$inferSelect) {
  return {
    id: u.id,
    email: u.email,
    name: u.name,
    email_verified_at: u.emailVerifiedAt === null ? null : toIso(u.emailVerifiedAt),
    created_at: toIso(u.createdAt),
  };
}

/** A new session as signup and login answer it: the token is shown only here. */
export function serializeSession(s: { user: typeof users.$inferSelect; token: string; expiresAt: number }) {
  return { user: serializeUser(s.user), token: s.token, expires_at: toIso(s.expiresAt) };
}

export const Email = z.email().max(254);
export const Password = z.string().min(10).max(256);

export const SignupBody = z.strictObject({ email: Email, password: Password, name: z.string().min(1).max(200) }).openapi("SignupRequest");
export const LoginBody = z.strictObject({ email: Email, password: z.string().min(1).max(256) }).openapi("LoginRequest");

export const SessionResponse = z
  .object({ user: UserSchema, token: z.string(), expires_at: z.string() })
  .openapi("Session");

export const MeResponse = z
  .object({
    user: UserSchema,
    organizations: z.array(z.object({ id: z.string(), name: z.string(), role: z.string() })),
  })
  .openapi("Me");

/** Tokens from emailed links (`vrf_…`, `rst_…`). */
const LinkToken = z.string().min(1).max(256);

export const VerifyEmailBody = z.strictObject({ token: LinkToken }).openapi("VerifyEmailRequest");
export const ForgotPasswordBody = z.strictObject({ email: Email }).openapi("ForgotPasswordRequest");
export const ResetPasswordBody = z.strictObject({ token: LinkToken, password: Password }).openapi("ResetPasswordRequest");
export const ChangePasswordBody = z
  .strictObject({ current_password: z.string().min(1).max(256), new_password: Password })
  .openapi("ChangePasswordRequest");

export const UserResponse = z.object({ user: UserSchema }).openapi("UserResponse");

export const SessionInfoSchema = z
  .object({
    id: z.string(),
    created_at: z.string(),
    last_used_at: z.string().nullable().openapi({ description: "Updated at most once a minute." }),
    expires_at: z.string(),
    ip: z.string().nullable(),
    user_agent: z.string().nullable(),
    current: z.boolean().openapi({ description: "The session making this request." }),
  })
  .openapi("SessionInfo");

export function serializeSessionInfo(s: typeof sessions.$inferSelect, currentSessionId: string) {
  return {
    id: s.id,
    created_at: toIso(s.createdAt),
    last_used_at: s.lastUsedAt === null ? null : toIso(s.lastUsedAt),
    expires_at: toIso(s.expiresAt),
    ip: s.ip,
    user_agent: s.userAgent,
    current: s.id === currentSessionId,
  };
}

export const RevokedSessionsResponse = z.object({ revoked: z.number().int() }).openapi("RevokedSessions");
