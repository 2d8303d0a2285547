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

export const Email = z.email().max(254);
export const Password = z.string().min(10).max(256);

export const SignupBody = z.strictObject({ email: Email, password: Password, name: z.string().min(1).max(200) }).openapi("SignupRequest");
export const LoginBody = z.strictObject({ email: Email, password: z.string().min(1).max(256) }).openapi("LoginRequest");

export const SessionResponse = z
  .object({ user: UserSchema, token: z.string(), expires_at: z.string() })
  .openapi("Session");
