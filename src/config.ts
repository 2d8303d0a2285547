/**
 * Configuration from wrangler `[vars]` and secrets, validated once per Worker `env` object.
 * A missing or malformed var never crashes the isolate: `loadConfig` throws a `ConfigError` that
 * names the variable, the request fails with 500 `internal_error`, and the log line says which.
 */
import { z } from "zod";
import { LOG_LEVELS, type LogLevel } from "./lib/logger";

const DEV_LIVEKIT_SECRET = "pulse-dev-livekit-secret-change-me-0123456789";
const DEV_ADMIN_TOKEN = "pulse-dev-admin-token";
const DEV_ENCRYPTION_KEY = "pulse-dev-encryption-key-change-me-0123456789";
const DEV_PASSWORD_PEPPER = "pulse-dev-password-pepper-change-me-0123456789";

const intVar = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const boolVar = z.enum(["true", "false", "1", "0", ""]).transform((v) => v === "true" || v === "1");

const schema = z.object({
  PULSE_ENV: z.enum(["development", "production"]).default("development"),
  LIVEKIT_URL: z.url({ protocol: /^wss?$/ }).default("ws://127.0.0.1:7880"),
  LIVEKIT_API_URL: z.url({ protocol: /^https?$/ }).optional().or(z.literal("").transform(() => undefined)),
  LIVEKIT_API_KEY: z.string().min(1),
  LIVEKIT_API_SECRET: z.string().min(32, "must be at least 32 characters"),
  PULSE_ADMIN_TOKEN: z.string().min(16, "must be at least 16 characters"),
  PULSE_ENCRYPTION_KEY: z.string().min(32, "must be at least 32 characters"),
  RATE_LIMIT_IP_PER_MIN: intVar(1, 1_000_000).default(100),
  RATE_LIMIT_PROJECT_PER_MIN: intVar(1, 10_000_000).default(1000),
  CORS_ORIGINS: z.string().default(""),
  WEBHOOK_ALLOW_PRIVATE_URLS: boolVar.optional(),
  PUBLIC_URL: z.url({ protocol: /^https?$/ }).default("http://127.0.0.1:8787"),
  SESSION_TTL_HOURS: intVar(1, 24 * 365).default(24 * 30),
  AUDIT_RETENTION_DAYS: intVar(1, 3650).default(365),
  WEBHOOK_RETENTION_DAYS: intVar(1, 3650).default(30),
  USAGE_EVENT_RETENTION_DAYS: intVar(2, 3650).default(35),
  PARTICIPANT_SESSION_TIMEOUT_HOURS: intVar(1, 24 * 7).default(24),
  LOG_LEVEL: z.enum(LOG_LEVELS).default("info"),
  PASSWORD_PEPPER: z.string().min(32, "must be at least 32 characters"),
  EMAIL_PROVIDER: z.enum(["log", "http"]).optional().or(z.literal("").transform(() => undefined)),
  EMAIL_API_URL: z.url({ protocol: /^https?$/ }).optional().or(z.literal("").transform(() => undefined)),
  EMAIL_API_KEY: z.string().optional(),
  EMAIL_FROM: z.string().max(320).optional(),
  RATE_LIMIT_USER_PER_MIN: intVar(1, 1_000_000).default(600),
  RATE_LIMIT_WEBHOOK_TEST_PER_MIN: intVar(1, 100_000).default(30),
});

/** The vars and secrets configuration reads (each a string, as Workers hand them over). */
export type ConfigVars = { [K in keyof typeof schema.shape]?: string };

export interface Config {
  env: "development" | "production";
  isProduction: boolean;
  livekit: { url: string; apiUrl: string; apiKey: string; apiSecret: string };
  adminToken: string;
  encryptionKey: string;
  rateLimits: { ipPerMinute: number; projectPerMinute: number; userPerMinute: number; webhookTestPerMinute: number };
  /** HMAC-SHA256 key applied to passwords before PBKDF2 (lib/secrets.ts). */
  passwordPepper: string;
  email: EmailConfig;
  corsOrigins: string[];
  webhookAllowPrivateUrls: boolean;
  publicUrl: string;
  sessionTtlHours: number;
  auditRetentionDays: number;
  webhookRetentionDays: number;
  /** Raw usage events are deleted this long after they happened, once their hour is rolled up. */
  usageEventRetentionDays: number;
  participantSessionTimeoutHours: number;
  logLevel: LogLevel;
}

/** `log` stores mail in the outbox (and the dev mailbox) only; `http` POSTs it to `apiUrl`. */
export type EmailConfig =
  | { provider: "log"; from: string }
  | { provider: "http"; from: string; apiUrl: string; apiKey: string };

export class ConfigError extends Error {
  constructor(readonly variable: string, reason: string) {
    super(`Invalid configuration: ${variable} ${reason}`);
    this.name = "ConfigError";
  }
}

/** LiveKit's Twirp API lives on the same host as signalling, over http(s) instead of ws(s). */
function deriveApiUrl(livekitUrl: string): string {
  return livekitUrl.replace(/^ws(s?):\/\//, "http$1://").replace(/\/+$/, "");
}

/**
 * Development defaults to the `log` provider; a production deployment must choose one explicitly
 * (forgetting it would silently drop every verification and reset email), and `http` needs all of
 * its settings.
 */
function emailConfig(v: z.infer<typeof schema>, isProduction: boolean): EmailConfig {
  const provider = v.EMAIL_PROVIDER ?? (isProduction ? undefined : "log");
  if (!provider) throw new ConfigError("EMAIL_PROVIDER", "is required in production (log or http)");
  const from = v.EMAIL_FROM || "Pulse <no-reply@localhost>";
  if (provider === "log") return { provider, from };
  if (!v.EMAIL_API_URL) throw new ConfigError("EMAIL_API_URL", "is required when EMAIL_PROVIDER is http");
  if (!v.EMAIL_API_KEY) throw new ConfigError("EMAIL_API_KEY", "is required when EMAIL_PROVIDER is http");
  if (!v.EMAIL_FROM) throw new ConfigError("EMAIL_FROM", "is required when EMAIL_PROVIDER is http");
  return { provider, from, apiUrl: v.EMAIL_API_URL, apiKey: v.EMAIL_API_KEY };
}

const cache = new WeakMap<object, Config>();

export function loadConfig(env: ConfigVars): Config {
  const cached = cache.get(env);
  if (cached) return cached;
  const raw: Record<string, unknown> = {};
  for (const key of Object.keys(schema.shape)) {
    const value = (env as Record<string, unknown>)[key];
    if (value !== undefined) raw[key] = value;
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const variable = String(issue.path[0] ?? "configuration");
    throw new ConfigError(variable, issue.code === "invalid_type" && raw[variable] === undefined ? "is required" : issue.message);
  }
  const v = parsed.data;
  const isProduction = v.PULSE_ENV === "production";
  if (isProduction) {
    // Shipping the development defaults to production would make every secret public.
    if (v.LIVEKIT_API_SECRET === DEV_LIVEKIT_SECRET) throw new ConfigError("LIVEKIT_API_SECRET", "is the development default; set a wrangler secret");
    if (v.PULSE_ADMIN_TOKEN === DEV_ADMIN_TOKEN) throw new ConfigError("PULSE_ADMIN_TOKEN", "is the development default; set a wrangler secret");
    if (v.PULSE_ENCRYPTION_KEY === DEV_ENCRYPTION_KEY) throw new ConfigError("PULSE_ENCRYPTION_KEY", "is the development default; set a wrangler secret");
    if (v.PASSWORD_PEPPER === DEV_PASSWORD_PEPPER) throw new ConfigError("PASSWORD_PEPPER", "is the development default; set a wrangler secret");
  }
  const email = emailConfig(v, isProduction);
  const config: Config = {
    env: v.PULSE_ENV,
    isProduction,
    livekit: {
      url: v.LIVEKIT_URL,
      apiUrl: (v.LIVEKIT_API_URL ?? deriveApiUrl(v.LIVEKIT_URL)).replace(/\/+$/, ""),
      apiKey: v.LIVEKIT_API_KEY,
      apiSecret: v.LIVEKIT_API_SECRET,
    },
    adminToken: v.PULSE_ADMIN_TOKEN,
    encryptionKey: v.PULSE_ENCRYPTION_KEY,
    rateLimits: {
      ipPerMinute: v.RATE_LIMIT_IP_PER_MIN,
      projectPerMinute: v.RATE_LIMIT_PROJECT_PER_MIN,
      userPerMinute: v.RATE_LIMIT_USER_PER_MIN,
      webhookTestPerMinute: v.RATE_LIMIT_WEBHOOK_TEST_PER_MIN,
    },
    passwordPepper: v.PASSWORD_PEPPER,
    email,
    corsOrigins: v.CORS_ORIGINS.split(",").map((o) => o.trim()).filter(Boolean),
    // Production never delivers to private networks, whatever the flag says (SSRF).
    webhookAllowPrivateUrls: !isProduction && (v.WEBHOOK_ALLOW_PRIVATE_URLS ?? true),
    publicUrl: v.PUBLIC_URL.replace(/\/+$/, ""),
    sessionTtlHours: v.SESSION_TTL_HOURS,
    auditRetentionDays: v.AUDIT_RETENTION_DAYS,
    webhookRetentionDays: v.WEBHOOK_RETENTION_DAYS,
    usageEventRetentionDays: v.USAGE_EVENT_RETENTION_DAYS,
    participantSessionTimeoutHours: v.PARTICIPANT_SESSION_TIMEOUT_HOURS,
    logLevel: v.LOG_LEVEL,
  };
  cache.set(env, config);
  return config;
}
