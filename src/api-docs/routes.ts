/**
 * `GET /v1/openapi.json` (the completed OpenAPI document) and `GET /docs` (the API reference page
 * rendered from it). Both are public. The document is generated on first use, once all routers are
 * mounted, and kept for the isolate's life: it only changes with a deployment.
 */
import { createRouter } from "../router";
import { enrichDocument, type OpenApiDocument } from "./document";
import { referencePage } from "./page";

export function apiDocsRoutes(generate: () => OpenApiDocument) {
  const routes = createRouter();
  const cache = new Map<string, OpenApiDocument>();
  const documentFor = (serverUrl: string) => {
    let doc = cache.get(serverUrl);
    if (!doc) cache.set(serverUrl, (doc = enrichDocument(generate(), { serverUrl })));
    return doc;
  };

  routes.get("/v1/openapi.json", (c) => c.json(documentFor(c.var.config.publicUrl)));
  routes.get("/docs", async (c) => referencePage(c, documentFor(c.var.config.publicUrl)));
  return routes;
}
