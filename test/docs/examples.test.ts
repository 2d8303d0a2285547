/**
 * The docs are tested like code: every example marked runnable in README.md and docs/ runs
 * against a real Worker (`wrangler dev`) whose LiveKit is a fake Node server reachable over HTTP,
 * and must print what the doc says it prints. The OpenAPI document passes Redocly's lint and
 * makes a typed client (openapi-typescript) that compiles and runs the README walk-through.
 */
import { readdirSync, readFileSync, writeFileSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { join, relative } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createConfig, lintFromString } from "@redocly/openapi-core";
import openapiTS, { astToString } from "openapi-typescript";
import ts from "typescript";
import { startHttpLivekit, type HttpLivekit } from "../support/livekit-http";
import { freePort, ROOT, startWorker, type Worker } from "../support/wrangler-dev";
import { examplesOf, matchesExpected, runnableExamples, runSession } from "./runnable";

/** What the docs assume: `livekit-server --dev`'s key and secret, Pulse's development defaults too. */
const LIVEKIT_KEY = "devkey";
const LIVEKIT_SECRET = "secret";

function markdownFiles(): string[] {
  const walk = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : e.name.endsWith(".md") ? [join(dir, e.name)] : []));
  return [join(ROOT, "README.md"), ...walk(join(ROOT, "docs"))];
}

/** The Worker's OpenAPI document (retried once: a kept-alive socket the dev server closed fails the first try). */
async function openapiText(): Promise<string> {
  const get = async () => (await fetch(`${worker.url}/v1/openapi.json`)).text();
  return get().catch(get);
}

let worker: Worker;
let livekit: HttpLivekit;

beforeAll(async () => {
  livekit = await startHttpLivekit(LIVEKIT_KEY, LIVEKIT_SECRET);
  // Only LiveKit's API address differs from `npm run dev`: the fake answers there.
  worker = await startWorker({ LIVEKIT_API_URL: livekit.url });
});

afterAll(async () => {
  await worker?.stop();
  await livekit?.stop();
});

describe("the runnable examples of the docs", () => {
  const files = markdownFiles().filter((file) => runnableExamples([file]).length > 0);

  it("are found in the README and every guide", () => {
    const names = files.map((f) => relative(ROOT, f));
    expect(names).toEqual(expect.arrayContaining(["README.md", "docs/quickstart.md", "docs/authentication.md", "docs/webhooks.md"]));
  });

  // Each document signs up its own user, so the documents run side by side.
  it.concurrent.each(files.map((f) => [relative(ROOT, f)]))("run in %s and print what the doc says", async (name) => {
    const examples = runnableExamples([join(ROOT, name)]);
    const { outcomes, code, all } = await runSession(examples, { PULSE_URL: worker.url, PORT: String(await freePort()) });
    expect(outcomes.length, `${name} stopped early:\n${all.slice(-2000)}`).toBe(examples.length);
    for (const { example, output } of outcomes) {
      if (example.expected === undefined) continue;
      const where = `${name}:${example.line} printed:\n${output}\nbut the doc shows:\n${example.expected}\n`;
      expect(matchesExpected(output, example.expected), where).toBe(true);
    }
    expect(code, `${name} failed:\n${all.slice(-2000)}`).toBe(0);
    expect(livekit.violations).toEqual([]);
    // The quickstart's room went to LiveKit (the fake) under the project's namespace.
    if (name === "docs/quickstart.md") expect([...livekit.rooms.keys()].some((room) => /^proj_\w+:demo$/.test(room))).toBe(true);
  });

  it("stop the README walk-through with a clear message when Pulse is not running", async () => {
    const [first] = runnableExamples([join(ROOT, "README.md")]);
    const { code, all } = await runSession([first!], { PULSE_URL: `http://127.0.0.1:${await freePort()}` });
    expect(code).not.toBe(0);
    expect(all).toContain("Pulse is not running at http://127.0.0.1:");
    expect(all).toContain("start it with npm run dev");
  });

  it("compare output with … as the only wildcard", () => {
    expect(matchesExpected('{"a":"xyz","b":2}', '{"a":"…","b":2}')).toBe(true);
    expect(matchesExpected('{"a":"xyz","b":3}', '{"a":"…","b":2}')).toBe(false);
    expect(matchesExpected("a.b", "a*b")).toBe(false);
    const [example] = examplesOf("x.md", "text\n```sh runnable\necho hi\n```\n\n```text output\nhi\n```\n");
    expect(example).toMatchObject({ lang: "sh", code: "echo hi", expected: "hi", line: 2 });
  });
});

describe("the operators' guide", () => {
  it.concurrent("names exactly the gauges /metrics reports", async () => {
    const res = await fetch(`${worker.url}/metrics`, { headers: { Authorization: "Bearer pulse-dev-admin-token" } });
    expect(res.status).toBe(200);
    const reported = [...(await res.text()).matchAll(/^# TYPE (\S+) gauge$/gm)].map((m) => m[1]).sort();
    const guide = readFileSync(join(ROOT, "docs", "deployment.md"), "utf8");
    const documented = [...guide.matchAll(/^\| `(pulse_\w+)(?:\{\w+\})?` \|/gm)].map((m) => m[1]).sort();
    expect(reported.length).toBeGreaterThan(5);
    expect(documented).toEqual(reported);
  });

  it("names every scheduled job under its cron expression", () => {
    // CRON_JOBS in src/jobs/scheduled.ts: each expression, then its jobs as `name: (env…) =>`.
    const source = readFileSync(join(ROOT, "src", "jobs", "scheduled.ts"), "utf8");
    const scheduled = new Map<string, string[]>();
    let cron: string | null = null;
    for (const line of source.split("\n")) {
      const expression = /^ {2}"([^"]+)": \{$/.exec(line);
      if (expression) scheduled.set((cron = expression[1]!), []);
      const job = /^ {4}(\w+): \(env/.exec(line);
      if (cron && job) scheduled.get(cron)!.push(job[1]!);
    }
    expect(scheduled.size).toBeGreaterThanOrEqual(3);
    const table = readFileSync(join(ROOT, "docs", "usage.md"), "utf8");
    for (const [expression, jobs] of scheduled) {
      const row = table.split("\n").find((l) => l.startsWith(`| \`${expression}\` |`));
      expect(row, expression).toBeDefined();
      const named = [...row!.matchAll(/`(\w+)`/g)].map((m) => m[1]);
      for (const job of jobs) expect(named, `${expression} ${job}`).toContain(job);
    }
  });
});

describe("the OpenAPI document", () => {
  // Side by side with the examples above: each of these only reads the document.
  it.concurrent("passes Redocly's recommended lint with no errors", async () => {
    const source = await openapiText();
    const problems = await lintFromString({ source, absoluteRef: `${worker.url}/v1/openapi.json`, config: await createConfig({ extends: ["recommended"] }) });
    const errors = problems.filter((p) => p.severity === "error").map((p) => `${p.ruleId}: ${p.message} at ${p.location[0]?.pointer}`);
    expect(errors).toEqual([]);
  });

  it.concurrent("generates a typed client that compiles and runs the README walk-through", async () => {
    const doc = JSON.parse(await openapiText());
    const cache = join(ROOT, "node_modules", ".cache");
    mkdirSync(cache, { recursive: true });
    const dir = mkdtempSync(join(cache, "pulse-client-"));
    try {
      writeFileSync(join(dir, "package.json"), JSON.stringify({ type: "module" }));
      writeFileSync(join(dir, "schema.d.ts"), astToString(await openapiTS(doc)));
      writeFileSync(join(dir, "client.ts"), readFileSync(join(import.meta.dirname, "typed-client.ts.txt"), "utf8"));
      const program = ts.createProgram([join(dir, "client.ts")], {
        strict: true,
        target: ts.ScriptTarget.ES2022,
        module: ts.ModuleKind.ES2022,
        moduleResolution: ts.ModuleResolutionKind.Bundler,
        lib: ["lib.es2022.d.ts"],
        types: [],
        skipLibCheck: false,
        outDir: dir,
      });
      const diagnostics = ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, "\n"));
      expect(diagnostics).toEqual([]);
      program.emit();
      const { walkThrough } = (await import(pathToFileURL(join(dir, "client.js")).href)) as { walkThrough(base: string): Promise<Record<string, string>> };
      const result = await walkThrough(worker.url);
      expect(result.org).toMatch(/^org_/);
      expect(result.project).toMatch(/^proj_/);
      expect(result.secret).toMatch(/^pulse_live_/);
      expect(result.room).toBe("standup");
      expect(result.error).toBe("validation_failed");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
