#!/usr/bin/env node
/**
 * `npm run bench`: Pulse's token endpoint against its own /health floor, locally, loopback only.
 *
 * 1. Applies the D1 migrations into a throwaway --persist-to directory (never the dev database).
 * 2. Starts `wrangler dev` (workerd) on a free 127.0.0.1 port with the contract's default limits,
 *    signs up, creates an org, a project and an API key.
 * 3. Measures, each with the same connections and duration after a short warm-up:
 *      health            GET /health (no I/O: the floor)
 *      token_limited     POST /v1/tokens under the default project limit (most answers are 429s:
 *                        they still pay the key lookup and the limiter round trip)
 *    then restarts wrangler on the same state with RATE_LIMIT_PROJECT_PER_MIN at its maximum and
 *    measures health again and
 *      token_high_limit  POST /v1/tokens where every request is admitted and signed.
 * 4. Prints req/s, p50, p99 and the token/health ratios; writes load/results/<timestamp>.json.
 *
 * Env: BENCH_DURATION (s, default 10), BENCH_CONNECTIONS (default 10), BENCH_WARMUP (s, default 2).
 */
import autocannon from "autocannon";
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, mkdirSync, rmSync, writeFileSync, openSync } from "node:fs";
import { createServer } from "node:net";
import os from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const DURATION = Number(process.env.BENCH_DURATION ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 10);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 2);
const DEFAULT_PROJECT_LIMIT = 1000; // the contract's default
const HIGH_PROJECT_LIMIT = 10_000_000; // the largest value src/config.ts accepts
const WRANGLER = join(ROOT, "node_modules", ".bin", "wrangler");

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

async function startPulse(persistTo, projectLimit, logFile) {
  const port = await freePort();
  const inspectorPort = await freePort();
  const args = [
    "dev",
    "--ip", "127.0.0.1",
    "--port", String(port),
    "--inspector-port", String(inspectorPort),
    "--log-level", "warn",
    "--persist-to", persistTo,
    "--show-interactive-dev-session=false",
    "--var", `RATE_LIMIT_PROJECT_PER_MIN:${projectLimit}`,
  ];
  const out = openSync(logFile, "a");
  const child = spawn(WRANGLER, args, { cwd: ROOT, stdio: ["ignore", out, out], env: { ...process.env, CI: "1", WRANGLER_SEND_METRICS: "false" }, detached: true });
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 90_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`wrangler dev exited (${child.exitCode}); see ${logFile}`);
    try {
      const res = await fetch(`${base}/health`);
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      stopPulse(child);
      throw new Error(`Pulse did not answer /health within 90 s; see ${logFile}`);
    }
    await sleep(250);
  }
  return { child, base };
}

function stopPulse(child) {
  if (child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once("exit", () => resolve());
    try {
      process.kill(-child.pid, "SIGTERM"); // wrangler and the workerd it spawned (own process group)
    } catch {
      resolve();
    }
    setTimeout(() => {
      try {
        process.kill(-child.pid, "SIGKILL");
      } catch {
        // already gone
      }
    }, 5_000).unref();
  });
}

async function api(base, method, path, { token, body } = {}) {
  const headers = { "Content-Type": "application/json" };
  if (token) headers.Authorization = `Bearer ${token}`;
  const res = await fetch(`${base}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const json = await res.json();
  if (!res.ok) throw new Error(`${method} ${path} → ${res.status} ${JSON.stringify(json)}`);
  return json;
}

async function createTenant(base) {
  const signup = await api(base, "POST", "/v1/auth/signup", {
    body: { email: `bench-${Date.now()}@example.com`, password: "bench password, long enough", name: "Bench" },
  });
  const org = await api(base, "POST", "/v1/orgs", { token: signup.token, body: { name: "Bench org" } });
  const project = await api(base, "POST", `/v1/orgs/${org.id}/projects`, { token: signup.token, body: { name: "Bench project" } });
  const key = await api(base, "POST", `/v1/projects/${project.id}/keys`, { token: signup.token, body: { name: "bench", scopes: ["tokens:write"] } });
  return { project, secret: key.secret };
}

const TOKEN_BODY = JSON.stringify({ identity: "bench-user", room: "bench-room", name: "Bench User", grants: { can_publish: true } });

function runCannon(opts) {
  return new Promise((resolve, reject) => {
    autocannon({ connections: CONNECTIONS, pipelining: 1, ...opts }, (err, result) => (err ? reject(err) : resolve(result)));
  });
}

async function measure(name, request) {
  if (WARMUP > 0) await runCannon({ ...request, duration: WARMUP });
  const r = await runCannon({ ...request, duration: DURATION });
  const statuses = Object.fromEntries(Object.entries(r.statusCodeStats ?? {}).map(([code, s]) => [code, s.count]));
  const summary = {
    name,
    requests_per_sec: Math.round(r.requests.average),
    latency_ms: { p50: r.latency.p50, p90: r.latency.p90, p99: r.latency.p99, max: r.latency.max, mean: Number(r.latency.average.toFixed(2)) },
    total: r.requests.total,
    statuses,
    errors: r.errors,
    timeouts: r.timeouts,
  };
  console.log(
    `${name.padEnd(18)} ${String(summary.requests_per_sec).padStart(7)} req/s   p50 ${String(summary.latency_ms.p50).padStart(4)} ms   p99 ${String(summary.latency_ms.p99).padStart(4)} ms   statuses ${JSON.stringify(statuses)}${r.errors ? `   errors ${r.errors}` : ""}`,
  );
  return summary;
}

const ratio = (a, b) => (b > 0 ? Number((a / b).toFixed(3)) : null);

async function main() {
  const persistTo = mkdtempSync(join(os.tmpdir(), "pulse-bench-"));
  const logFile = join(persistTo, "wrangler.log");
  const startedAt = new Date();
  const loadBefore = os.loadavg();
  console.log(`Pulse bench: ${CONNECTIONS} connections, ${DURATION} s per scenario (+${WARMUP} s warm-up), state in ${persistTo}`);

  const migrate = spawnSync(WRANGLER, ["d1", "migrations", "apply", "DB", "--local", "--persist-to", persistTo], {
    cwd: ROOT,
    env: { ...process.env, CI: "1", WRANGLER_SEND_METRICS: "false" },
    encoding: "utf8",
  });
  if (migrate.status !== 0) throw new Error(`migrations failed:\n${migrate.stdout}\n${migrate.stderr}`);

  let pulse = await startPulse(persistTo, DEFAULT_PROJECT_LIMIT, logFile);
  const scenarios = {};
  let tenant;
  try {
    tenant = await createTenant(pulse.base);
    const tokenRequest = (base) => ({
      url: `${base}/v1/tokens`,
      method: "POST",
      headers: { "Content-Type": "application/json", Authorization: `Bearer ${tenant.secret}` },
      body: TOKEN_BODY,
    });
    // Sanity: the token call works before it is measured.
    const probe = await fetch(`${pulse.base}/v1/tokens`, tokenRequest(pulse.base));
    if (probe.status !== 201) throw new Error(`token probe answered ${probe.status}: ${await probe.text()}`);

    scenarios.health = await measure("health", { url: `${pulse.base}/health` });
    scenarios.token_limited = await measure("token_limited", tokenRequest(pulse.base));
    await stopPulse(pulse.child);

    pulse = await startPulse(persistTo, HIGH_PROJECT_LIMIT, logFile);
    scenarios.health_2 = await measure("health (restart)", { url: `${pulse.base}/health` });
    scenarios.token_high_limit = await measure("token_high_limit", tokenRequest(pulse.base));
  } finally {
    await stopPulse(pulse.child);
  }

  const floor = scenarios.health_2;
  const ratios = {
    token_limited_vs_health: {
      throughput: ratio(scenarios.token_limited.requests_per_sec, scenarios.health.requests_per_sec),
      p99: ratio(scenarios.token_limited.latency_ms.p99, scenarios.health.latency_ms.p99),
    },
    token_high_limit_vs_health: {
      throughput: ratio(scenarios.token_high_limit.requests_per_sec, floor.requests_per_sec),
      p99: ratio(scenarios.token_high_limit.latency_ms.p99, floor.latency_ms.p99),
    },
  };
  const target = {
    rule: "token throughput >= 0.5 x health and token p99 < 3 x health p99 (same run, same connections)",
    token_limited_met: ratios.token_limited_vs_health.throughput >= 0.5 && ratios.token_limited_vs_health.p99 < 3,
    token_high_limit_met: ratios.token_high_limit_vs_health.throughput >= 0.5 && ratios.token_high_limit_vs_health.p99 < 3,
  };
  console.log("\nratios (token / health of the same wrangler process):");
  for (const [name, r] of Object.entries(ratios)) console.log(`  ${name.padEnd(28)} throughput ${r.throughput}   p99 ${r.p99}`);
  console.log(`target met: limited ${target.token_limited_met}, high limit ${target.token_high_limit_met}`);

  const result = {
    started_at: startedAt.toISOString(),
    finished_at: new Date().toISOString(),
    settings: { connections: CONNECTIONS, duration_s: DURATION, warmup_s: WARMUP, default_project_limit_per_min: DEFAULT_PROJECT_LIMIT, high_project_limit_per_min: HIGH_PROJECT_LIMIT },
    machine: { cpus: os.cpus().length, cpu_model: os.cpus()[0]?.model, loadavg_before: loadBefore, loadavg_after: os.loadavg(), node: process.version, platform: `${os.platform()} ${os.release()}` },
    scenarios,
    ratios,
    target,
  };
  const resultsDir = join(ROOT, "load", "results");
  mkdirSync(resultsDir, { recursive: true });
  const file = join(resultsDir, `${startedAt.toISOString().replace(/[:.]/g, "-")}.json`);
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  console.log(`\nwritten ${file}`);
  rmSync(persistTo, { recursive: true, force: true });
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
