import { z } from "@hono/zod-openapi";
import type { users } from "../db/schema";
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
