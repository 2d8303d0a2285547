/**
 * Runnable examples in the docs: fenced blocks whose info string carries `runnable`
 * (```sh runnable, ```js runnable, ```js runnable background). The fence right after one, when
 * marked `output` (```json output), is what the doc says it prints; `…` in it stands for any text.
 * The examples of one document run in order in one bash session, as a reader pastes them: shell
 * blocks as they are, JS blocks as ES modules run by `node` (a `background` one is left running,
 * and its first line of output is its output).
 */
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** Examples are written under the repository's node_modules so their imports resolve from it. */
const WORK_DIR = join(import.meta.dirname, "..", "..", "node_modules", ".cache");

export interface Example {
  file: string;
  line: number;
  lang: string;
  flags: string[];
  code: string;
  expected?: string;
}

const FENCE = /^```(\S*)(.*)$/;

/** Every fenced block of a markdown text, with its info string split into language and flags. */
export function examplesOf(file: string, markdown: string): Example[] {
  const blocks: Example[] = [];
  const lines = markdown.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const open = FENCE.exec(lines[i]!);
    if (!open) continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !lines[i]!.startsWith("```"); i++) body.push(lines[i]!);
    blocks.push({ file, line: start + 1, lang: open[1]!, flags: open[2]!.trim().split(/\s+/).filter(Boolean), code: body.join("\n") });
  }
  const runnable: Example[] = [];
  blocks.forEach((block, index) => {
    if (!block.flags.includes("runnable")) return;
    const next = blocks[index + 1];
    runnable.push(next?.flags.includes("output") ? { ...block, expected: next.code } : block);
  });
  return runnable;
}

export function runnableExamples(paths: string[]): Example[] {
  return paths.flatMap((path) => examplesOf(path, readFileSync(path, "utf8")));
}

/** Whether `actual` is what the doc shows, `…` matching any text (newlines included). */
export function matchesExpected(actual: string, expected: string): boolean {
  const pattern = expected
    .trim()
    .split("…")
    .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"))
    .join("[\\s\\S]*?");
  return new RegExp(`^${pattern}$`).test(actual.trim());
}

export interface Outcome {
  example: Example;
  output: string;
}

/**
 * Runs the examples in one bash session (`set -eo pipefail`: the first failing command stops it)
 * with `env` added; resolves with each example's output and the session's exit code.
 */
export async function runSession(examples: Example[], env: Record<string, string>, timeoutMs = 45_000): Promise<{ outcomes: Outcome[]; code: number | null; all: string }> {
  mkdirSync(WORK_DIR, { recursive: true });
  const dir = mkdtempSync(join(WORK_DIR, "pulse-docs-"));
  const script: string[] = ["set -eo pipefail", "exec 2>&1", `trap 'kill $(jobs -p) 2>/dev/null || true' EXIT`];
  examples.forEach((example, index) => {
    script.push(`printf '\\n@@example ${index}@@\\n'`);
    if (example.lang === "sh" || example.lang === "bash") {
      script.push(example.code);
    } else if (example.lang === "js" || example.lang === "mjs") {
      const file = join(dir, `example-${index}.mjs`);
      writeFileSync(file, example.code);
      if (example.flags.includes("background")) {
        const log = join(dir, `example-${index}.log`);
        script.push(`node ${file} > ${log} 2>&1 &`, `for _ in $(seq 1 100); do [ -s ${log} ] && break; sleep 0.1; done`, `head -n 1 ${log}`);
      } else {
        script.push(`node ${file}`);
      }
    } else {
      throw new Error(`${example.file}:${example.line}: cannot run a ${example.lang} example`);
    }
  });
  script.push(`printf '\\n@@end@@\\n'`);
  const scriptFile = join(dir, "session.sh");
  writeFileSync(scriptFile, script.join("\n") + "\n");

  const child = spawn("bash", [scriptFile], { cwd: dir, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let all = "";
  child.stdout.on("data", (d) => (all += d));
  child.stderr.on("data", (d) => (all += d));
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
  clearTimeout(timer);
  rmSync(dir, { recursive: true, force: true });

  const outcomes: Outcome[] = [];
  const parts = all.split(/@@example (\d+)@@\n?/);
  for (let i = 1; i < parts.length; i += 2) {
    const index = Number(parts[i]);
    outcomes.push({ example: examples[index]!, output: parts[i + 1]!.replace(/@@end@@\n?$/, "").trim() });
  }
  return { outcomes, code, all };
}
