/**
 * The import graph of `src/` between folders: a plain scanner over the source text (no compiler
 * needed), so the layering rules can be checked by a test. Every relative import counts, type-only
 * ones included: `import … from "…"`, `import type …`, `export … from "…"`, side-effect
 * `import "…"`, and `import("…")` (dynamic or in a type position).
 *
 * A node is a folder directly under `src/` (`src/usage/…` → `usage`) or a top-level file
 * (`src/config.ts` → `config`). Imports inside one node are not edges.
 */

/** One import that crosses nodes, for messages that say where to look. */
export interface ImportEdge {
  from: string;
  to: string;
  file: string;
  specifier: string;
}

const IMPORT_PATTERNS = [
  /\b(?:import|export)\s+(?:type\s+)?[^;"'`]*?\bfrom\s*["']([^"']+)["']/g,
  /\bimport\s*["']([^"']+)["']/g,
  /\bimport\s*\(\s*["']([^"']+)["']\s*\)/g,
];

/** Source without comments, so an example in a doc comment is not an import. Strings are kept. */
function stripComments(source: string): string {
  return source.replace(/\/\*[\s\S]*?\*\//g, " ").replace(/(^|[^:"'`\\])\/\/.*$/gm, "$1");
}

export function importSpecifiers(source: string): string[] {
  const text = stripComments(source);
  const found: string[] = [];
  for (const pattern of IMPORT_PATTERNS) {
    for (const match of text.matchAll(pattern)) found.push(match[1]!);
  }
  return found;
}

/** `src/a/b.ts` → `a`; `src/config.ts` → `config`. Paths are relative to the repository root. */
export function nodeOf(path: string): string {
  const parts = path.replace(/^\/+/, "").split("/");
  if (parts[0] !== "src" || parts.length < 2) throw new Error(`not under src/: ${path}`);
  return parts.length === 2 ? parts[1]!.replace(/\.tsx?$/, "") : parts[1]!;
}

function resolve(fromFile: string, specifier: string): string {
  const parts = fromFile.split("/").slice(0, -1);
  for (const segment of specifier.split("/")) {
    if (segment === "..") parts.pop();
    else if (segment !== "." && segment !== "") parts.push(segment);
  }
  return parts.join("/");
}

/** Edges between nodes, from `{ "src/x/y.ts": sourceText }`. Package imports are not edges. */
export function importEdges(files: Record<string, string>): ImportEdge[] {
  const edges: ImportEdge[] = [];
  for (const [file, source] of Object.entries(files)) {
    const from = nodeOf(file);
    for (const specifier of importSpecifiers(source)) {
      if (!specifier.startsWith(".")) continue;
      const target = resolve(file, specifier);
      // `../config` names the file `src/config.ts`; `../lib/clock` the folder `lib`.
      const to = nodeOf(target.split("/").length === 2 ? `${target}.ts` : target);
      if (to !== from) edges.push({ from, to, file, specifier });
    }
  }
  return edges;
}

/**
 * Groups of nodes that reach each other (strongly connected components with more than one node),
 * each sorted, with one concrete cycle through the group as `a → b → … → a` for the message.
 */
export function cycles(edges: ImportEdge[]): { members: string[]; example: string }[] {
  const next = new Map<string, Set<string>>();
  for (const e of edges) {
    if (!next.has(e.from)) next.set(e.from, new Set());
    if (!next.has(e.to)) next.set(e.to, new Set());
    next.get(e.from)!.add(e.to);
  }
  // Tarjan's algorithm.
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const groups: string[][] = [];
  const visit = (v: string) => {
    index.set(v, counter);
    low.set(v, counter);
    counter++;
    stack.push(v);
    onStack.add(v);
    for (const w of next.get(v)!) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) === index.get(v)) {
      const group: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        group.push(w);
      } while (w !== v);
      if (group.length > 1) groups.push(group.sort());
    }
  };
  for (const v of [...next.keys()].sort()) if (!index.has(v)) visit(v);

  return groups.map((members) => {
    // Shortest way back to the first member, inside the group (breadth-first).
    const inGroup = new Set(members);
    const start = members[0]!;
    const previous = new Map<string, string>();
    const queue = [start];
    let end: string | null = null;
    while (queue.length > 0 && end === null) {
      const v = queue.shift()!;
      for (const w of [...next.get(v)!].sort()) {
        if (!inGroup.has(w)) continue;
        if (w === start) {
          end = v;
          break;
        }
        if (!previous.has(w)) {
          previous.set(w, v);
          queue.push(w);
        }
      }
    }
    const path = [start];
    for (let v = end!; v !== start; v = previous.get(v)!) path.splice(1, 0, v);
    return { members, example: [...path, start].join(" → ") };
  });
}
