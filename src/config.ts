/**
 * Configuration from wrangler `[vars]` and secrets, validated once per Worker `env` object.
 * A missing or malformed var never crashes the isolate: `loadConfig` throws a `ConfigError` that
 * names the variable, the request fails with 500 `internal_error`, and the log line says which.
 */
import { z } from "zod";
import { MAX_LOG_BATCH_MS } from "./lib/held-lines";
import { LOG_LEVELS, type LogLevel } from "./lib/logger";
import { KEY_ID_PATTERN, LEGACY_KEY_ID, type Keyring } from "./lib/secrets";

const DEV_ADMIN_TOKEN = "pulse-dev-admin-token";
const DEV_ENCRYPTION_KEY = "pulse-dev-encryption-key-change-me-0123456789";
const DEV_PASSWORD_PEPPER = "pulse-dev-password-pepper-change-me-0123456789";

const intVar = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const boolVar = z.enum(["true", "false", "1", "0", ""]).transform((v) => v === "true" || v === "1");

const schema = z.object({
  // No default: a deployed Worker that forgot it must not silently run as development.
  PULSE_ENV: z.enum(["development", "production"], { error: "must be development or production" }),
  LIVEKIT_URL: z.url({ protocol: /^wss?$/ }).default("ws://127.0.0.1:7880"),
  LIVEKIT_API_URL: z.url({ protocol: /^https?$/ }).optional().or(z.literal("").transform(() => undefined)),
  LIVEKIT_API_KEY: z.string().min(1),
  // `livekit-server --dev` uses `secret`; the 32-character minimum is enforced for production below.
  LIVEKIT_API_SECRET: z.string().min(1),
  PULSE_ADMIN_TOKEN: z.string().min(16, "must be at least 16 characters"),
  // Read as key id `k0` of the keyring, so ciphertexts from before PULSE_ENCRYPTION_KEYS still open.
  PULSE_ENCRYPTION_KEY: z.string().min(32, "must be at least 32 characters").optional(),
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
  LOG_BATCH_MS: intVar(0, MAX_LOG_BATCH_MS).default(0),
  PASSWORD_PEPPER: z.string().min(32, "must be at least 32 characters"),
  EMAIL_PROVIDER: z.enum(["log", "http"]).optional().or(z.literal("").transform(() => undefined)),
  EMAIL_API_URL: z.url({ protocol: /^https?$/ }).optional().or(z.literal("").transform(() => undefined)),
  EMAIL_API_KEY: z.string().optional(),
  EMAIL_FROM: z.string().max(320).optional(),
  RATE_LIMIT_USER_PER_MIN: intVar(1, 1_000_000).default(600),
  RATE_LIMIT_WEBHOOK_TEST_PER_MIN: intVar(1, 100_000).default(30),
  LIMIT_FREE_ORGS_PER_USER: intVar(0, 1_000_000).default(2),
  LIMIT_PROJECTS_PER_ORG: intVar(0, 1_000_000).default(100),
  LIMIT_KEYS_PER_PROJECT: intVar(0, 1_000_000).default(50),
  LIMIT_WEBHOOKS_PER_PROJECT: intVar(0, 1_000_000).default(20),
  LIMIT_PENDING_INVITATIONS_PER_ORG: intVar(0, 1_000_000).default(100),
  PULSE_ENCRYPTION_KEYS: z.string().optional(),
  WEB_EGRESS: z.enum(["on", "off"]).default("on"),
  DOH_URL: z.url({ protocol: /^https?$/ }).default("https://cloudflare-dns.com/dns-query"),
});

/** The vars and secrets configuration reads (each a string, as Workers hand them over). */
export type ConfigVars = { [K in keyof typeof schema.shape]?: string };

export interface Config {
  env: "development" | "production";
  isProduction: boolean;
  livekit: { url: string; apiUrl: string; apiKey: string; apiSecret: string };
  adminToken: string;
  /** Seals and opens the secrets Pulse must recover (lib/secrets.ts); the first key of PULSE_ENCRYPTION_KEYS seals. */
  encryptionKeys: Keyring;
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
  /** Count caps: a create past one is 409 `conflict` naming it (see `db/count-cap.ts`). */
  limits: Limits;
  /** `WEB_EGRESS=off` refuses web egress (a browser inside the platform network loading a tenant's page). */
  webEgress: boolean;
  /** DNS-over-HTTPS JSON resolver for destination checks (lib/dns.ts). */
  dohUrl: string;
}

export interface Limits {
  /** Orgs on the free plan one user may own. */
  freeOrgsPerUser: number;
  projectsPerOrg: number;
  /** Active keys: neither revoked nor expired. */
  keysPerProject: number;
  webhooksPerProject: number;
  pendingInvitationsPerOrg: number;
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

/**
 * `PULSE_ENCRYPTION_KEYS=id1:secret1,id2:secret2`: the first seals, all open. The old single
 * `PULSE_ENCRYPTION_KEY` joins the ring as `k0` (and seals when it is the only key).
 */
function keyring(keysVar: string | undefined, legacy: string | undefined): Keyring {
  const keys = new Map<string, string>();
  let primary: string | undefined;
  for (const entry of (keysVar ?? "").split(",").map((e) => e.trim()).filter(Boolean)) {
    const colon = entry.indexOf(":");
    const id = colon < 0 ? "" : entry.slice(0, colon);
    const secret = colon < 0 ? "" : entry.slice(colon + 1);
    if (!KEY_ID_PATTERN.test(id)) throw new ConfigError("PULSE_ENCRYPTION_KEYS", "must be id:secret pairs separated by commas (ids of letters, digits, _ or -)");
    if (secret.length < 32) throw new ConfigError("PULSE_ENCRYPTION_KEYS", `key ${id} must be at least 32 characters`);
    if (keys.has(id)) throw new ConfigError("PULSE_ENCRYPTION_KEYS", `names key ${id} twice`);
    keys.set(id, secret);
    primary ??= id;
  }
  if (legacy !== undefined) {
    if (keys.has(LEGACY_KEY_ID) && keys.get(LEGACY_KEY_ID) !== legacy) throw new ConfigError("PULSE_ENCRYPTION_KEYS", `key ${LEGACY_KEY_ID} differs from PULSE_ENCRYPTION_KEY`);
    keys.set(LEGACY_KEY_ID, legacy);
    primary ??= LEGACY_KEY_ID;
  }
  if (!primary) throw new ConfigError("PULSE_ENCRYPTION_KEYS", "is required");
  return { primary, keys };
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
    throw new ConfigError(variable, raw[variable] === undefined ? "is required" : issue.message);
  }
  const v = parsed.data;
  const isProduction = v.PULSE_ENV === "production";
  const encryptionKeys = keyring(v.PULSE_ENCRYPTION_KEYS, v.PULSE_ENCRYPTION_KEY);
  if (isProduction) {
    // Shipping the development defaults to production would make every secret public.
    if (v.LIVEKIT_API_SECRET.length < 32) throw new ConfigError("LIVEKIT_API_SECRET", "must be at least 32 characters in production; set a wrangler secret");
    if (v.PULSE_ADMIN_TOKEN === DEV_ADMIN_TOKEN) throw new ConfigError("PULSE_ADMIN_TOKEN", "is the development default; set a wrangler secret");
    if ([...encryptionKeys.keys.values()].includes(DEV_ENCRYPTION_KEY)) throw new ConfigError("PULSE_ENCRYPTION_KEYS", "holds the development key; set a wrangler secret");
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
    encryptionKeys,
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
    limits: {
      freeOrgsPerUser: v.LIMIT_FREE_ORGS_PER_USER,
      projectsPerOrg: v.LIMIT_PROJECTS_PER_ORG,
      keysPerProject: v.LIMIT_KEYS_PER_PROJECT,
      webhooksPerProject: v.LIMIT_WEBHOOKS_PER_PROJECT,
      pendingInvitationsPerOrg: v.LIMIT_PENDING_INVITATIONS_PER_ORG,
    },
    webEgress: v.WEB_EGRESS === "on",
    dohUrl: v.DOH_URL,
  };
  cache.set(env, config);
  return config;
}
