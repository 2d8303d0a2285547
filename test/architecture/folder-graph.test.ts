/// <reference types="vite/client" />
/**
 * The layering rules of `src/`, checked on the source itself: imports between folders run one way
 * (routes → services → domain modules → lib/db), so no folder reaches itself through imports however
 * long the path (type-only imports count), and `src/livekit/` (LiveKit's protocol) imports nothing
 * but `src/lib/`.
 */
import { describe, expect, it } from "vitest";
import { cycles, importEdges, importSpecifiers } from "./import-graph";

// Bundled by Vite at test time: every source file's text, keyed by its path.
const globbed = import.meta.glob("../../src/**/*.{ts,tsx}", { query: "?raw", import: "default", eager: true }) as Record<string, string>;
const sources = Object.fromEntries(Object.entries(globbed).map(([path, text]) => [path.replace(/^(\.\.\/)+/, ""), text]));

/** What `src/livekit/` may import besides itself. */
const LIVEKIT_MAY_IMPORT = new Set(["lib"]);

describe("the scanner", () => {
  it("sees every kind of import, type-only and dynamic ones included, and skips comments", () => {
    const source = [
      `import { a } from "./a";`,
      `import type { B } from "../b/b";`,
      `import c, { type D } from "../c";`,
      `export { e } from "../e/e";`,
      `export type { F } from "../f/f";`,
      `import "../g/side-effect";`,
      `type H = import("../h/h").H;`,
      `const i = await import("../i/i");`,
      `import {`,
      `  j,`,
      `  k,`,
      `} from "../j/j";`,
      `// import { no } from "../commented/out";`,
      `/** import { no } from "../doc/comment"; */`,
      `const url = "https://example.com"; import { l } from "../l/l";`,
    ].join("\n");
    expect(importSpecifiers(source).sort()).toEqual(
      ["./a", "../b/b", "../c", "../e/e", "../f/f", "../g/side-effect", "../h/h", "../i/i", "../j/j", "../l/l"].sort(),
    );
  });

  it("reports a cycle however long, through type-only imports, and not a one-way chain", () => {
    const cyclic = importEdges({
      "src/a/x.ts": `import { b } from "../b/y";`,
      "src/b/y.ts": `import { c } from "../c";`,
      "src/c.ts": `import type { A } from "./a/x";`,
      "src/d/z.ts": `import { a } from "../a/x";`,
    });
    expect(cycles(cyclic)).toEqual([{ members: ["a", "b", "c"], example: "a → b → c → a" }]);
    const oneWay = importEdges({
      "src/a/x.ts": `import { b } from "../b/y";`,
      "src/b/y.ts": `import { c } from "../c";`,
      "src/c.ts": `import { z } from "zod";`,
    });
    expect(cycles(oneWay)).toEqual([]);
  });

  it("reads the real source tree", () => {
    expect(Object.keys(sources)).toContain("src/app.ts");
    expect(Object.keys(sources)).toContain("src/livekit/jwt.ts");
    const edges = importEdges(sources);
    // The app assembles every router: the scanner must see those edges.
    expect(edges.some((e) => e.file === "src/app.ts" && e.to === "inbound")).toBe(true);
    expect(edges.some((e) => e.file === "src/env.ts" && e.to === "config")).toBe(true);
  });
});

describe("the folder graph of src/", () => {
  const edges = importEdges(sources);

  it("has no folder that reaches itself through imports, however long the path", () => {
    expect(cycles(edges)).toEqual([]);
  });

  it("keeps src/livekit/ to LiveKit's protocol: it imports only src/lib/", () => {
    const outside = edges.filter((e) => e.from === "livekit" && !LIVEKIT_MAY_IMPORT.has(e.to)).map((e) => `${e.file} → ${e.specifier}`);
    expect(outside).toEqual([]);
  });
});

describe("the test tree", () => {
  // This folder is left out: its scanner tests hold made-up imports as text.
  const testSources = import.meta.glob(["../**/*.ts", "!../support/**", "!../architecture/**"], { query: "?raw", import: "default", eager: true }) as Record<
    string,
    string
  >;

  it("shares helpers only through test/support/: no area imports another area's files", () => {
    const crossing: string[] = [];
    for (const [path, source] of Object.entries(testSources)) {
      const parts = path.split("/"); // "../<area>/<file>.ts"; setup files sit directly in test/
      if (parts.length < 3) continue;
      const area = parts[1]!;
      for (const specifier of importSpecifiers(source)) {
        const other = /^\.\.\/([^./][^/]*)\//.exec(specifier)?.[1];
        if (other && other !== "support" && other !== area) crossing.push(`test/${parts.slice(1).join("/")} → ${specifier}`);
      }
    }
    expect(Object.keys(testSources).length).toBeGreaterThan(20);
    expect(crossing).toEqual([]);
  });
});
