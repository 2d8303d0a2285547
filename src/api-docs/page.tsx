/** @jsxImportSource hono/jsx */
/**
 * `GET /docs`: the API reference, rendered on the server from the OpenAPI document the Worker
 * serves, in the dashboard's frame and stylesheet and under its CSP. No script, no CDN: one
 * HTML page with a section per tag and a card per operation (auth, parameters, body fields,
 * responses), linkable by `#operationId`.
 */
import type { Context } from "hono";
import type { Child } from "hono/jsx";
import type { AppEnv } from "../env";
import { contentSecurityPolicy } from "../dashboard/render";
import { HTTP_METHODS, type OpenApiDocument, type Operation } from "./document";

type Schema = NonNullable<NonNullable<OpenApiDocument["components"]>["schemas"]>[string];

const SCHEME_LABELS: Record<string, string> = {
  sessionAuth: "user session (Bearer sess_…)",
  apiKeyAuth: "API key (Bearer pulse_…)",
  apiKeyHeader: "API key (X-API-Key)",
  adminAuth: "platform admin token",
  livekitSignature: "LiveKit webhook signature",
};

function refName(ref: string): string {
  return ref.split("/").pop() ?? ref;
}

/** A schema in a few words: `string`, `integer 1..100`, `array of Room`, `"a" | "b"`. */
export function typeLabel(schema: Schema | undefined): string {
  if (!schema) return "";
  if (schema.$ref) return refName(schema.$ref);
  if (Array.isArray(schema.enum)) return (schema.enum as unknown[]).map((v) => JSON.stringify(v)).join(" | ");
  for (const key of ["anyOf", "oneOf"] as const) {
    const branches = schema[key];
    if (Array.isArray(branches)) return branches.map((b) => typeLabel(b as Schema)).join(" | ");
  }
  const type = Array.isArray(schema.type) ? schema.type.join(" | ") : (schema.type ?? "any");
  if (type === "array") return `array of ${typeLabel(schema.items)}`;
  const min = schema.minimum ?? schema.minLength;
  const max = schema.maximum ?? schema.maxLength;
  const range = min !== undefined || max !== undefined ? ` ${min ?? ""}..${max ?? ""}` : "";
  return `${type}${range}`;
}

function resolve(doc: OpenApiDocument, schema: Schema | undefined): Schema | undefined {
  return schema?.$ref ? doc.components?.schemas?.[refName(schema.$ref)] : schema;
}

function Fields(p: { doc: OpenApiDocument; schema: Schema | undefined }) {
  const schema = resolve(p.doc, p.schema);
  const properties = Object.entries(schema?.properties ?? {});
  if (properties.length === 0) return <p class="muted">{typeLabel(p.schema)}</p>;
  const required = new Set(schema?.required ?? []);
  return (
    <div class="table-wrap">
      <table>
        <thead>
          <tr>
            <th>field</th>
            <th>type</th>
            <th>description</th>
          </tr>
        </thead>
        <tbody>
          {properties.map(([name, property]) => (
            <tr>
              <td>
                <code>{name}</code> {required.has(name) ? <span class="badge badge-info">required</span> : null}
              </td>
              <td>
                <code>{typeLabel(property)}</code>
                {property.default !== undefined ? <span class="muted"> default {JSON.stringify(property.default)}</span> : null}
              </td>
              <td>{typeof property.description === "string" ? property.description : ""}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function OperationCard(p: { doc: OpenApiDocument; method: string; path: string; op: Operation }) {
  const { doc, op } = p;
  const schemes = (op.security ?? []).flatMap((s) => Object.keys(s));
  const body = Object.entries(op.requestBody?.content ?? {})[0];
  return (
    <section class="card" id={op.operationId}>
      <div class="card-head">
        <h3>
          <span class="badge">{p.method.toUpperCase()}</span> <code>{p.path}</code>
        </h3>
        <a class="muted" href={`#${op.operationId}`}>
          {op.operationId}
        </a>
      </div>
      {op.summary ? <p>{op.summary}</p> : null}
      {op.description ? <p class="muted">{op.description}</p> : null}
      <p>
        <strong>Auth:</strong> {schemes.length === 0 ? "none (public)" : schemes.map((s) => SCHEME_LABELS[s] ?? s).join(" or ")}
      </p>
      {op.parameters && op.parameters.length > 0 ? (
        <>
          <h4>Parameters</h4>
          <div class="table-wrap">
            <table>
              <thead>
                <tr>
                  <th>name</th>
                  <th>in</th>
                  <th>type</th>
                  <th>description</th>
                </tr>
              </thead>
              <tbody>
                {op.parameters.map((param) => (
                  <tr>
                    <td>
                      <code>{param.name}</code> {param.required ? <span class="badge badge-info">required</span> : null}
                    </td>
                    <td>{param.in}</td>
                    <td>
                      <code>{typeLabel(param.schema)}</code>
                    </td>
                    <td>{typeof param.description === "string" ? param.description : ""}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      ) : null}
      {body ? (
        <>
          <h4>
            Request body <code>{body[0]}</code> {body[1].schema?.$ref ? <code>{refName(body[1].schema.$ref)}</code> : null}
          </h4>
          <Fields doc={doc} schema={body[1].schema} />
        </>
      ) : null}
      <h4>Responses</h4>
      <div class="table-wrap">
        <table>
          <thead>
            <tr>
              <th>status</th>
              <th>description</th>
              <th>body</th>
            </tr>
          </thead>
          <tbody>
            {Object.entries(op.responses).map(([status, response]) => {
              const media = Object.entries(response.content ?? {})[0];
              return (
                <tr>
                  <td>
                    <code>{status}</code>
                  </td>
                  <td>{response.description}</td>
                  <td>{media ? <code>{typeLabel(media[1].schema) || media[0]}</code> : <span class="muted">none</span>}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
    </section>
  );
}

function Reference(p: { doc: OpenApiDocument }) {
  const { doc } = p;
  const byTag = new Map<string, Child[]>();
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const method of HTTP_METHODS) {
      const op = item[method];
      if (!op) continue;
      const tag = op.tags?.[0] ?? "Other";
      byTag.set(tag, [...(byTag.get(tag) ?? []), <OperationCard doc={doc} method={method} path={path} op={op} />]);
    }
  }
  const tags = [...byTag.keys()].sort();
  const descriptions = new Map((doc.tags ?? []).map((t) => [t.name, t.description]));
  const slug = (tag: string) => `tag-${tag.toLowerCase().replace(/[^a-z0-9]+/g, "-")}`;
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="referrer" content="no-referrer" />
        <title>API reference · Pulse</title>
        <link rel="stylesheet" href="/assets/app.css" />
        <link rel="icon" href="/assets/favicon.svg" type="image/svg+xml" />
      </head>
      <body>
        <header class="topbar">
          <a class="brand" href="/">
            Pulse
          </a>
          <div class="topbar-right">
            <a class="account-link" href="/v1/openapi.json">
              OpenAPI document
            </a>
          </div>
        </header>
        <div class="shell">
          <aside class="sidebar">
            <nav aria-label="Resources">
              <p class="nav-title">Resources</p>
              <ul>
                {tags.map((tag) => (
                  <li>
                    <a href={`#${slug(tag)}`}>{tag}</a>
                  </li>
                ))}
              </ul>
            </nav>
          </aside>
          <main id="main">
            <div class="page-head">
              <h1>{String(doc.info.title ?? "API")} reference</h1>
            </div>
            <p class="muted">{String(doc.info.description ?? "")}</p>
            <p>
              Base URL: <code>{doc.servers?.[0]?.url ?? ""}</code>. Errors are{" "}
              <code>{'{"error": {"code", "message", "request_id", "details?"}}'}</code>; every response carries <code>X-Request-Id</code>.
            </p>
            {tags.map((tag) => (
              <section id={slug(tag)}>
                <h2>{tag}</h2>
                {descriptions.get(tag) ? <p class="muted">{descriptions.get(tag)}</p> : null}
                {byTag.get(tag)}
              </section>
            ))}
          </main>
        </div>
      </body>
    </html>
  );
}

export async function referencePage(c: Context<AppEnv>, doc: OpenApiDocument) {
  const html = "<!doctype html>" + String(await (<Reference doc={doc} />).toString());
  const nonce = crypto.randomUUID().replace(/-/g, "");
  return c.html(html, 200, {
    "Content-Security-Policy": contentSecurityPolicy(nonce),
    "X-Frame-Options": "DENY",
    "Cache-Control": "public, max-age=300",
  });
}
