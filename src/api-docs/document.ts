/**
 * The OpenAPI document clients are generated from. Routes declare their own request and success
 * shapes (and the errors only they know of: 402, 409, 502); everything that follows from how the
 * app is assembled is added here, in one pass over the generated document, so a route added in
 * any domain folder is described as completely as the others without repeating anything:
 * - `servers` (this deployment's `PUBLIC_URL`), a tag per resource and an `operationId` per
 *   operation, both derived from the path, so they are stable and unique;
 * - `security` from the authentication table (`src/auth/table.ts`): `[]` on public routes;
 * - every error status the middleware and the table can produce for the route (400, 401, 403,
 *   404, 405, 413, 415, 429, 500, 503; 402, 409 and 502 come from the routes), with the error
 *   envelope, whose `code` is the closed enum;
 * - the `X-Request-Id`, `RateLimit`, `RateLimit-Policy` and `Retry-After` response headers;
 * - request fields with a default are never `required`.
 */
import { authRuleFor, type AuthRule } from "../auth/table";

/** The parts of an OpenAPI 3.1 document this pass reads and writes. */
interface Schema {
  $ref?: string;
  type?: string | string[];
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  default?: unknown;
  allOf?: Schema[];
  anyOf?: Schema[];
  oneOf?: Schema[];
  additionalProperties?: boolean | Schema;
  [key: string]: unknown;
}
interface Parameter {
  name: string;
  in: string;
  required?: boolean;
  schema?: Schema;
  [key: string]: unknown;
}
interface Response {
  description: string;
  headers?: Record<string, unknown>;
  content?: Record<string, { schema?: Schema }>;
}
export interface Operation {
  tags?: string[];
  summary?: string;
  description?: string;
  operationId?: string;
  security?: Record<string, string[]>[];
  parameters?: Parameter[];
  requestBody?: { content?: Record<string, { schema?: Schema }>; required?: boolean; description?: string };
  responses: Record<string, Response>;
}
export interface OpenApiDocument {
  openapi: string;
  info: Record<string, unknown>;
  servers?: { url: string; description?: string }[];
  tags?: { name: string; description?: string }[];
  paths: Record<string, Record<string, Operation>>;
  components?: { schemas?: Record<string, Schema>; securitySchemes?: Record<string, unknown>; headers?: Record<string, unknown> };
  [key: string]: unknown;
}

export const HTTP_METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"] as const;

const SECURITY_SCHEMES = {
  sessionAuth: {
    type: "http",
    scheme: "bearer",
    description: "A user session token (`sess_…`) from `POST /v1/auth/signup` or `POST /v1/auth/login`.",
  },
  apiKeyAuth: { type: "http", scheme: "bearer", description: "A project API key secret (`pulse_live_…`)." },
  apiKeyHeader: { type: "apiKey", in: "header", name: "X-API-Key", description: "The same project API key secret, in `X-API-Key`." },
  adminAuth: { type: "http", scheme: "bearer", description: "The platform operators' `PULSE_ADMIN_TOKEN`." },
  livekitSignature: {
    type: "apiKey",
    in: "header",
    name: "Authorization",
    description:
      "LiveKit's webhook signature: a JWT (with or without `Bearer `) signed HS256 with the deployment's LiveKit API secret, `iss` = its API key, and a `sha256` claim holding the base64 SHA-256 of the raw body.",
  },
} as const;

const HEADERS = {
  "X-Request-Id": { description: "This request's id (echoed when the request sent a sane one); equals `error.request_id`.", schema: { type: "string" } },
  RateLimit: { description: "IETF draft rate limit state of the window that counted this request, e.g. `\"project\";r=998;t=60`.", schema: { type: "string" } },
  "RateLimit-Policy": { description: "IETF draft policy of that window, e.g. `\"project\";q=1000;w=60`.", schema: { type: "string" } },
  "Retry-After": { description: "Seconds to wait before trying again.", schema: { type: "integer" } },
} as const;

/** What each error status means on Pulse, with the codes it carries. */
const ERROR_DESCRIPTIONS: Record<string, string> = {
  "400": "`validation_failed` (with `details`) or `invalid_json`",
  "401": "`unauthenticated`: missing, invalid, revoked or expired credentials",
  "402": "`quota_exceeded`: the organization's plan quota is used up",
  "403": "`forbidden`: your role or the key's scopes do not allow this",
  "404": "`not_found`, also for other tenants' resources",
  "405": "`method_not_allowed`: this path does not take that method (`Allow` lists the ones it takes)",
  "409": "`conflict`: the resource's state forbids the change",
  "413": "`payload_too_large`: the body is over 256 KiB",
  "415": "`unsupported_media_type`: the body is not `application/json`",
  "429": "`rate_limited`: wait `Retry-After` seconds",
  "500": "`internal_error`; quote the request id to support",
  "502": "`upstream_error`: LiveKit failed; nothing was recorded",
  "503": "`service_unavailable`: a dependency is briefly down; retry after `Retry-After`",
};

/** Display names for path segments whose title case would read badly. */
const TAG_NAMES: Record<string, string> = {
  auth: "Accounts",
  me: "Accounts",
  keys: "API keys",
  "api-key": "API keys",
  "livekit-keys": "LiveKit keys",
  "audit-logs": "Audit log",
  livekit: "LiveKit webhooks",
  health: "Status",
  status: "Status",
  metrics: "Admin",
  admin: "Admin",
  dev: "Development",
  orgs: "Organizations",
  plans: "Billing",
  plan: "Billing",
  billing: "Billing",
  invoices: "Billing",
  "webhook-event-types": "Webhooks",
};

/** What each resource is, for the document's `tags` (a tag without one is still listed). */
const TAG_DESCRIPTIONS: Record<string, string> = {
  Accounts: "Sign-up, login, sessions, email verification and passwords.",
  Admin: "Platform operators: metrics and plans (`PULSE_ADMIN_TOKEN`).",
  "API keys": "Project API keys for your servers; the secret is shown once.",
  "Audit log": "Every change to an organization's data, with filters and exports.",
  Billing: "Plans, the current period's bill and invoices.",
  Development: "Helpers that exist only when `PULSE_ENV=development`.",
  Egress: "Recordings and streams through LiveKit.",
  Ingress: "RTMP, WHIP and URL inputs through LiveKit.",
  Invitations: "Inviting people into an organization.",
  "LiveKit keys": "LiveKit-format credentials so LiveKit's server SDKs work against Pulse.",
  "LiveKit webhooks": "LiveKit's own signed events, received by Pulse.",
  Members: "An organization's team and roles.",
  Organizations: "Organizations: the tenant, its plan and its owners.",
  Projects: "Projects inside an organization.",
  Rooms: "Live rooms and participants through LiveKit's RoomService.",
  Sessions: "Room sessions (history) built from LiveKit's webhooks.",
  Status: "Liveness and readiness.",
  Tokens: "LiveKit access tokens for your participants.",
  Usage: "Metered usage: participant, egress and ingress minutes, tokens issued.",
  Webhooks: "Your endpoints for Pulse's signed events, and their delivery log.",
};

const ref = (name: string) => ({ $ref: `#/components/headers/${name}` });
const isParam = (segment: string) => segment.startsWith("{");
const pascal = (segment: string) => segment.replace(/(^|[-_])([a-z0-9])/g, (_m, _sep, ch: string) => ch.toUpperCase());
const singular = (segment: string) => (segment.endsWith("ies") ? `${segment.slice(0, -3)}y` : segment.endsWith("s") && !segment.endsWith("ss") ? segment.slice(0, -1) : segment);

function literalSegments(path: string): string[] {
  return path.split("/").filter((s) => s && s !== "v1");
}

/** The resource a path belongs to: the segment after an org or project id, else the first one. */
export function tagFor(path: string): string {
  const segments = literalSegments(path);
  let segment = segments[0] ?? "";
  if ((segment === "orgs" || segment === "projects") && segments.length > 2 && isParam(segments[1]!)) segment = segments[2]!;
  const name = TAG_NAMES[segment] ?? pascal(segment).replace(/([a-z])([A-Z])/g, "$1 $2");
  return name;
}

function isList(path: string, operation: Operation, paths: OpenApiDocument["paths"], schemas: Record<string, Schema>): boolean {
  if (Object.keys(paths).some((p) => p.startsWith(`${path}/{`) && p.split("/").length === path.split("/").length + 1)) return true;
  const ok = operation.responses["200"]?.content?.["application/json"]?.schema;
  const body = resolve(ok, schemas);
  return body?.properties?.data?.type === "array";
}

/**
 * `listOrgProjects`, `getProjectKey`, `createOrg`, `rollProjectKey`, `verifyToken`…: the verb from
 * the method (an action's own name for a POST to a path no GET reads), then the resource path with
 * every collection that is followed by an id in the singular.
 */
export function operationIdFor(method: string, path: string, operation: Operation, doc: OpenApiDocument): string {
  const segments = path.split("/").filter((s) => s && s !== "v1");
  const schemas = doc.components?.schemas ?? {};
  const words = segments.map((s, i) => (isParam(s) ? null : isParam(segments[i + 1] ?? "") ? singular(s) : s)).filter((s): s is string => s !== null);
  const last = segments[segments.length - 1] ?? "";
  const endsWithId = isParam(last);
  let verb: string;
  let nouns = words;
  switch (method) {
    case "get":
      verb = !endsWithId && isList(path, operation, doc.paths, schemas) ? "list" : "get";
      break;
    case "patch":
      verb = "update";
      break;
    case "put":
      verb = "set";
      break;
    case "delete":
      verb = "delete";
      break;
    case "post": {
      // A POST to a collection creates (one the same path lists, or minted things like tokens).
      const collection = !endsWithId && (doc.paths[path]?.get !== undefined || segments.length === 1 || last === "tokens");
      if (collection) {
        verb = "create";
        nouns = [...words.slice(0, -1), singular(words[words.length - 1] ?? "")];
      } else {
        verb = last.replace(/-([a-z0-9])/g, (_m, ch: string) => ch.toUpperCase());
        nouns = words.slice(0, -1).map(singular);
      }
      break;
    }
    default:
      verb = method;
  }
  return verb + nouns.map(pascal).join("");
}

function resolve(schema: Schema | undefined, schemas: Record<string, Schema>): Schema | undefined {
  if (schema?.$ref) return schemas[schema.$ref.replace("#/components/schemas/", "")];
  return schema;
}

/** Whether a default is set anywhere inside `schema` (following references). */
function hasDefault(schema: Schema | undefined, schemas: Record<string, Schema>, seen = new Set<Schema>()): boolean {
  const s = resolve(schema, schemas);
  if (!s || seen.has(s)) return false;
  seen.add(s);
  if (s.default !== undefined) return true;
  const children = [...Object.values(s.properties ?? {}), ...(s.items ? [s.items] : []), ...(s.allOf ?? []), ...(s.anyOf ?? []), ...(s.oneOf ?? [])];
  if (typeof s.additionalProperties === "object") children.push(s.additionalProperties);
  return children.some((child) => hasDefault(child, schemas, seen));
}

/**
 * A request body's schema with every referenced schema that holds a default copied in place:
 * generators (openapi-typescript) keep defaulted fields optional only inside a request body, and
 * a shared component is read as a response shape, where a default means "always present".
 */
function inlineDefaults(schema: Schema, schemas: Record<string, Schema>, stack: string[] = []): Schema {
  if (schema.$ref) {
    const name = schema.$ref.replace("#/components/schemas/", "");
    const target = schemas[name];
    if (!target || stack.includes(name) || !hasDefault(target, schemas)) return schema;
    return { title: name, ...inlineDefaults(target, schemas, [...stack, name]) };
  }
  const out: Schema = { ...schema };
  if (schema.properties) out.properties = Object.fromEntries(Object.entries(schema.properties).map(([k, v]) => [k, inlineDefaults(v, schemas, stack)]));
  if (schema.items) out.items = inlineDefaults(schema.items, schemas, stack);
  for (const key of ["allOf", "anyOf", "oneOf"] as const) if (schema[key]) out[key] = schema[key]!.map((b) => inlineDefaults(b, schemas, stack));
  if (typeof schema.additionalProperties === "object") out.additionalProperties = inlineDefaults(schema.additionalProperties, schemas, stack);
  return out;
}

/** Drops `required` for every property with a default, through nested objects, arrays and unions. */
function unrequireDefaults(schema: Schema | undefined, schemas: Record<string, Schema>, seen: Set<Schema>): void {
  const s = resolve(schema, schemas);
  if (!s || seen.has(s)) return;
  seen.add(s);
  if (s.properties) {
    if (s.required) {
      s.required = s.required.filter((name) => s.properties![name]?.default === undefined);
      if (s.required.length === 0) delete s.required;
    }
    for (const property of Object.values(s.properties)) unrequireDefaults(property, schemas, seen);
  }
  if (s.items) unrequireDefaults(s.items, schemas, seen);
  for (const branch of [...(s.allOf ?? []), ...(s.anyOf ?? []), ...(s.oneOf ?? [])]) unrequireDefaults(branch, schemas, seen);
  if (typeof s.additionalProperties === "object") unrequireDefaults(s.additionalProperties, schemas, seen);
}

function securityFor(rule: AuthRule | undefined): Record<string, string[]>[] {
  switch (rule?.credential) {
    case undefined:
    case "none":
      return [];
    case "session":
      return [{ sessionAuth: [] }];
    case "api_key":
      return [{ apiKeyAuth: [] }, { apiKeyHeader: [] }];
    case "platform_admin":
      return [{ adminAuth: [] }];
    case "livekit_signature":
    case "livekit_jwt":
      return [{ livekitSignature: [] }];
  }
}

/** Which rate limit counts the route's requests (none for public reads and the admin token). */
function rateLimited(rule: AuthRule | undefined, path: string, method: string): boolean {
  if (!rule) return false;
  if (rule.limitByIp || rule.credential === "session" || rule.credential === "api_key" || rule.credential === "livekit_signature") return true;
  return method === "post" && /\/(test|retry|recover)$/.test(path);
}

/** The error statuses the app's assembly can answer for this operation, whatever its handler does. */
function derivedStatuses(method: string, operation: Operation, rule: AuthRule | undefined, limited: boolean): string[] {
  // 405 belongs to the path (another method of it answers `method_not_allowed` with `Allow`), and
  // OpenAPI has no path-level responses, so every operation lists it.
  const statuses = ["405", "500"];
  const takesBody = method === "post" || method === "put" || method === "patch";
  const params = operation.parameters ?? [];
  if (takesBody) statuses.push("413", "415");
  if (takesBody || params.length > 0) statuses.push("400");
  const credential = rule?.credential ?? "none";
  if (credential !== "none") statuses.push("401");
  if (credential === "session" || credential === "api_key") statuses.push("403");
  if (params.some((p) => p.in === "path")) statuses.push("404");
  if (limited) statuses.push("429", "503");
  return statuses;
}

function scopeNote(rule: AuthRule | undefined): string | undefined {
  if (rule?.credential !== "api_key") return undefined;
  if (rule.readScope) return `API key scopes: \`${rule.readScope}\` for reads, \`${rule.scope}\` for changes.`;
  return rule.scope ? `API key scope: \`${rule.scope}\`.` : "Any live API key of the project.";
}

/**
 * LiveKit's own webhook body (protobuf-JSON `WebhookEvent`). The route reads the raw bytes (the
 * signature covers them exactly), so the shape is described here rather than validated by zod.
 */
const LIVEKIT_WEBHOOK_EVENT: Schema = {
  type: "object",
  description:
    "LiveKit's `WebhookEvent` in protobuf-JSON: lowerCamelCase keys, default values omitted, int64 as strings. Sent with `Content-Type: application/webhook+json`. Events are deduplicated by `id`.",
  properties: {
    event: {
      type: "string",
      enum: [
        "room_started",
        "room_finished",
        "participant_joined",
        "participant_left",
        "participant_connection_aborted",
        "track_published",
        "track_unpublished",
        "egress_started",
        "egress_updated",
        "egress_ended",
        "ingress_started",
        "ingress_ended",
      ],
    },
    id: { type: "string", description: "`EV_…`, unique per event" },
    createdAt: { type: "string", description: "Unix seconds (int64 as a string)" },
    room: { type: "object", description: "LiveKit `Room` (`sid`, `name` = the namespaced room, …)", additionalProperties: true },
    participant: { type: "object", description: "LiveKit `ParticipantInfo` (`sid`, `identity`, `name`, `state`, `joinedAt`, …)", additionalProperties: true },
    track: { type: "object", description: "LiveKit `TrackInfo`", additionalProperties: true },
    egressInfo: { type: "object", description: "LiveKit `EgressInfo`", additionalProperties: true },
    ingressInfo: { type: "object", description: "LiveKit `IngressInfo`", additionalProperties: true },
  },
  required: ["event", "id"],
  additionalProperties: true,
};

function describeLivekitWebhook(operation: Operation, schemas: Record<string, Schema>) {
  schemas.LivekitWebhookEvent = LIVEKIT_WEBHOOK_EVENT;
  const schema = { $ref: "#/components/schemas/LivekitWebhookEvent" };
  operation.requestBody ??= {
    required: true,
    description: "Exactly the bytes LiveKit sent; the `sha256` claim of the `Authorization` JWT must be their hash.",
    content: { "application/webhook+json": { schema }, "application/json": { schema } },
  };
}

export interface EnrichOptions {
  /** Where this deployment serves the API (`PUBLIC_URL`). */
  serverUrl: string;
}

/** Completes the generated document in place (see the module comment) and returns it. */
export function enrichDocument(doc: OpenApiDocument, options: EnrichOptions): OpenApiDocument {
  doc.components ??= {};
  const schemas = (doc.components.schemas ??= {});
  doc.servers = [{ url: options.serverUrl, description: "This deployment" }];
  doc.components = {
    ...doc.components,
    securitySchemes: { ...SECURITY_SCHEMES },
    headers: { ...HEADERS },
  };
  const tags = new Set<string>();
  const seenIds = new Map<string, string>();

  for (const [path, item] of Object.entries(doc.paths)) {
    const rule = authRuleFor(path.replace(/\{[^}]+\}/g, "x_1"));
    for (const method of HTTP_METHODS) {
      const operation = item[method];
      if (!operation) continue;
      const tag = tagFor(path);
      tags.add(tag);
      operation.tags = [tag];
      operation.operationId ??= operationIdFor(method, path, operation, doc);
      const clash = seenIds.get(operation.operationId);
      if (clash) throw new Error(`operationId ${operation.operationId} of ${method} ${path} is already used by ${clash}`);
      seenIds.set(operation.operationId, `${method} ${path}`);
      operation.security = securityFor(rule);
      if (rule?.credential === "livekit_signature") describeLivekitWebhook(operation, schemas);
      const note = scopeNote(rule);
      if (note && !operation.description?.includes(note)) operation.description = operation.description ? `${operation.description}\n\n${note}` : note;

      for (const parameter of operation.parameters ?? []) {
        if (parameter.schema?.default !== undefined) parameter.required = false;
      }
      for (const media of Object.values(operation.requestBody?.content ?? {})) {
        if (!media.schema) continue;
        unrequireDefaults(media.schema, schemas, new Set());
        media.schema = inlineDefaults(media.schema, schemas);
      }

      const limited = rateLimited(rule, path, method);
      const statuses = new Set([...Object.keys(operation.responses), ...derivedStatuses(method, operation, rule, limited)]);
      const responses: Record<string, Response> = {};
      for (const status of [...statuses].sort()) {
        const declared = operation.responses[status];
        const isError = Number(status) >= 400;
        const response: Response = declared ?? { description: ERROR_DESCRIPTIONS[status] ?? "Error" };
        if (isError) response.content = { "application/json": { schema: { $ref: "#/components/schemas/Error" } } };
        const headers: Record<string, unknown> = { ...response.headers, "X-Request-Id": ref("X-Request-Id") };
        if (limited) Object.assign(headers, { RateLimit: ref("RateLimit"), "RateLimit-Policy": ref("RateLimit-Policy") });
        if (status === "429" || status === "503") headers["Retry-After"] = ref("Retry-After");
        response.headers = headers;
        responses[status] = response;
      }
      operation.responses = responses;
    }
  }
  doc.tags = [...tags].sort().map((name) => (TAG_DESCRIPTIONS[name] ? { name, description: TAG_DESCRIPTIONS[name] } : { name }));
  return doc;
}
