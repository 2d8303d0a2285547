/// <reference types="vite/client" />
/**
 * Route handlers stay thin (parse → authorize → call the service → serialize): none is longer than
 * a screenful. The logic they would otherwise hold lives in services, which a dashboard or another
 * API can call without HTTP.
 */
import { describe, expect, it } from "vitest";

const routeFiles = import.meta.glob("../../src/**/routes.ts", { query: "?raw", import: "default", eager: true }) as Record<string, string>;

/** A screenful. */
const MAX_HANDLER_LINES = 30;

/** Each `async (c) => { … }` handler in `source`, with the line it starts on and its length. */
function handlers(source: string): { line: number; length: number }[] {
  const lines = source.split("\n");
  const found: { line: number; length: number }[] = [];
  lines.forEach((text, start) => {
    if (!/^\s*(async\s+)?\(c\)\s*=>\s*\{\s*$/.test(text)) return;
    let depth = 0;
    for (let end = start; end < lines.length; end++) {
      for (const ch of lines[end]!) depth += ch === "{" ? 1 : ch === "}" ? -1 : 0;
      if (depth === 0) {
        found.push({ line: start + 1, length: end - start + 1 });
        return;
      }
    }
  });
  return found;
}

describe("route handlers", () => {
  it("are measured by the scanner, nested blocks included", () => {
    const source = ["x.openapi(route,", "  async (c) => {", "    if (a) {", "      b();", "    }", "    return c.json({});", "  },", ");"].join("\n");
    expect(handlers(source)).toEqual([{ line: 2, length: 6 }]);
  });

  it(`are at most ${MAX_HANDLER_LINES} lines each`, () => {
    const all = Object.entries(routeFiles).flatMap(([path, source]) => handlers(source).map((h) => ({ path: path.replace(/^(\.\.\/)+/, ""), ...h })));
    expect(all.length).toBeGreaterThan(50);
    expect(all.filter((h) => h.length > MAX_HANDLER_LINES)).toEqual([]);
  });
});
