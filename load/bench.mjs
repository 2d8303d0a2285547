#!/usr/bin/env node
/**
 * `npm run bench`: Pulse's hot paths as ratios to their floors, measured in one run, loopback only.
 *
 * Servers (each started by the bench with `wrangler dev --log-level warn` on free ports; only one
 * is under load at a time):
 *   bare      load/floor/bare: a bare Hono Worker answering /health
 *   bare_do   load/floor/do:   a bare Hono Worker making one Durable Object call per request
 *   pulse     Pulse itself (src/index.ts through load/bench-entry.ts, which only adds /__bench/
 *             set-up hooks), on fresh migrated state in a throwaway --persist-to directory
 *
 * Scenarios are the SCENARIOS list below: each names its server, the request autocannon sends,
 * optionally a `prepare` step and an `after` step (inbound scenarios: wait for the queue consumer
 * to catch up and report its lag), and the floor scenario its throughput and p99 are divided by.
 * Every scenario gets the same connections and duration after a short warm-up. The request-path
 * scenarios (`interleave`: the floors, /health, the token paths) run in BENCH_ROUNDS rounds, each
 * a slice of the duration, one scenario after another, with every server they need up at once:
 * this machine's speed drifts by ±15 % from one 8-second run to the next, and a comparison of two
 * scenarios measured in alternating slices sees the same drift on both sides.
 *
 * Prints req/s, p50, p99 and the ratios; writes load/results/<timestamp>.json.
 * Env: BENCH_DURATION (s, default 8), BENCH_CONNECTIONS (default 20), BENCH_WARMUP (s, default 2),
 *      BENCH_ROUNDS (default 8: rounds the interleaved scenarios' duration is split into),
 *      BENCH_ONLY (comma-separated scenario names: run just those, plus the floors they need),
 *      BENCH_PULSE_VARS (space-separated NAME:VALUE pairs passed to Pulse's wrangler as --var),
 *      BENCH_DEVTOOLS=on (keep wrangler's devtools inspector proxy; see load/wrangler-env.mjs),
 *      BENCH_KEEP=1 (keep the state and wrangler log directory instead of deleting it).
 */
import autocannon from "autocannon";
import { spawn, spawnSync } from "node:child_process";
import { createHash, createHmac } from "node:crypto";
import { createServer as createHttpServer } from "node:http";
import { mkdtempSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync, openSync } from "node:fs";
import os from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { freePort, median, sleep } from "./bench-support.mjs";
import { stopProcessGroup } from "./process-group.mjs";
import { DEVTOOLS, wranglerEnv } from "./wrangler-env.mjs";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const DURATION = Number(process.env.BENCH_DURATION ?? 8);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 20);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 2);
const ROUNDS = Math.max(1, Math.floor(Number(process.env.BENCH_ROUNDS ?? 8)));
/** Warm-up (s) of an interleaved slice after the first round, when the server is already warm. */
const LATER_WARMUP = 0.5;
const ONLY = process.env.BENCH_ONLY ? new Set(process.env.BENCH_ONLY.split(",").map((s) => s.trim())) : null;
const WRANGLER = join(ROOT, "node_modules", ".bin", "wrangler");
const PULSE_VARS = (process.env.BENCH_PULSE_VARS ?? "").split(/\s+/).filter(Boolean);
const LOW_LIMIT = 1_000; // the contract's default project limit
const HIGH_LIMIT = 1_000_000;
/**
 * Projects at LOW_LIMIT that token_limit_1k_admitted spreads its requests over, so none reaches its
 * limit: ~1,000 req/s for three 4.7 s slices (warm-up included) inside one minute is ~14,000 per
 * minute, under 30 × 1,000.
 */
const LOW_LIMIT_PROJECTS = 30;
const PREFILL_HITS = 500_000;
/** Prefilled hits are spread over this much of the window, so all of them stay in it while measured. */
const PREFILL_SPAN_MS = 20_000;

/** Another tenant's never-sent webhook messages while inbound events are measured. */
const BACKLOG_MESSAGES = 100_000;
/** Raw usage events (over 35 days) the daily rollup has to roll up while inbound events are measured. */
const ROLLUP_USAGE_EVENTS = 100_000;
/** How long the bench waits after an inbound scenario for the consumer to catch up. */
const DRAIN_TIMEOUT_MS = 180_000;

/** The development LiveKit credentials Pulse verifies webhooks with (`.dev.vars`, which wrangler dev reads). */
const DEV_VARS = readFileSync(join(ROOT, ".dev.vars"), "utf8");
function devVar(name) {
  const value = DEV_VARS.match(new RegExp(`^${name}=(.*)$`, "m"))?.[1]?.trim().replace(/^"(.*)"$/, "$1");
  if (!value) throw new Error(`.dev.vars has no ${name}`);
  return value;
}
const LIVEKIT_KEY = devVar("LIVEKIT_API_KEY");
const LIVEKIT_SECRET = devVar("LIVEKIT_API_SECRET");

const TOKEN_BODY = JSON.stringify({ identity: "bench-user", room: "bench-room", name: "Bench User", grants: { can_publish: true } });

const tokenRequest = (base, secret) => ({
  url: `${base}/v1/tokens`,
  method: "POST",
  headers: { "Content-Type": "application/json", Authorization: `Bearer ${secret}` },
  body: TOKEN_BODY,
});

/** The token request, each one with the next of `secrets` in turn. */
function tokenRequests(base, secrets) {
  let n = 0;
  const { headers, ...rest } = tokenRequest(base, secrets[0]);
  return { ...rest, requests: [{ setupRequest: (req) => ({ ...req, headers: { ...headers, Authorization: `Bearer ${secrets[n++ % secrets.length]}` } }) }] };
}

/**
 * A webhook signed as LiveKit signs it: HS256 JWT with the API secret, `iss` = API key, a 5-minute
 * lifetime, and `sha256` = padded base64 SHA-256 of the exact body, sent bare in `Authorization`.
 */
function livekitJwt(body) {
  const now = Math.floor(Date.now() / 1000);
  const part = (json) => Buffer.from(JSON.stringify(json)).toString("base64url");
  const unsigned = `${part({ alg: "HS256", typ: "JWT" })}.${part({ iss: LIVEKIT_KEY, nbf: now, iat: now, exp: now + 300, sha256: createHash("sha256").update(body).digest("base64") })}`;
  return `${unsigned}.${createHmac("sha256", LIVEKIT_SECRET).update(unsigned).digest("base64url")}`;
}

/**
 * LiveKit's events for one project, each request a new one: per participant a join, a track
 * publication and a leave (20 connections send them, so some leaves overtake their joins, as on a
 * real network), spread over 50 rooms. Every event fans out to the project's webhook endpoint.
 */
function inboundRequest(base, projectId, tag) {
  let n = 0;
  const joinedAt = new Map();
  return {
    url: `${base}/v1/livekit/webhook`,
    method: "POST",
    requests: [
      {
        setupRequest: (req) => {
          const i = n++;
          const p = Math.floor(i / 3);
          const now = Math.floor(Date.now() / 1000);
          if (!joinedAt.has(p)) joinedAt.set(p, now);
          const kind = ["participant_joined", "track_published", "participant_left"][i % 3];
          const participant = { sid: `PA_${tag}_${p}`, identity: `user-${p}`, name: `User ${p}`, state: "ACTIVE", joinedAt: String(joinedAt.get(p)) };
          if (kind === "participant_left") joinedAt.delete(p);
          const body = JSON.stringify({
            event: kind,
            id: `EV_${tag}_${i}`,
            createdAt: String(now),
            room: { sid: `RM_${tag}_${p % 50}`, name: `${projectId}:bench-room-${p % 50}` },
            participant,
            ...(kind === "track_published" ? { track: { sid: `TR_${tag}_${p}`, type: "AUDIO", source: "MICROPHONE" } } : {}),
          });
          return { ...req, headers: { "Content-Type": "application/webhook+json", "User-Agent": "LiveKit", Authorization: livekitJwt(body) }, body };
        },
      },
    ],
  };
}

/**
 * After an inbound scenario: waits for the consumer to process everything stored since `since`, and
 * reports how long that took after the load stopped and each event's received → processed lag.
 */
async function inboundLag({ base }, since) {
  const stopped = Date.now();
  for (;;) {
    const lag = await post(base, "/__bench/inbound-lag", { since });
    if (lag.unprocessed === 0 || Date.now() - stopped > DRAIN_TIMEOUT_MS) return { consumer: { ...lag, drained_ms_after_load: Date.now() - stopped } };
    await sleep(500);
  }
}

/**
 * The daily cron's rollup job, one invocation after another for `seconds`, as separate requests the
 * way the cron invokes it (a loop inside one request would be one endless invocation, which no cron
 * makes and which the local runtime stalls other requests behind).
 */
async function rollupBackToBack(base, seconds) {
  const deadline = Date.now() + seconds * 1000;
  let runs = 0;
  let longestMs = 0;
  let rolledUp = 0;
  while (Date.now() < deadline) {
    const run = await post(base, "/__bench/rollup", {});
    runs++;
    longestMs = Math.max(longestMs, run.ms);
    rolledUp += run.hours ?? 0;
  }
  return { runs, longest_ms: longestMs, hours_rolled_up: rolledUp };
}

/** A local receiver for the tenants' webhook deliveries: answers every POST 204. */
async function startReceiver() {
  const port = await freePort();
  let received = 0;
  const server = createHttpServer((req, res) => {
    req.resume();
    req.on("end", () => {
      received++;
      res.writeHead(204).end();
    });
  });
  await new Promise((resolve) => server.listen(port, "127.0.0.1", resolve));
  server.unref();
  return { url: `http://127.0.0.1:${port}/hook`, received: () => received };
}

/** How each server is started, and what it needs once it answers. */
const SERVERS = {
  bare: { config: "load/floor/bare/wrangler.toml" },
  bare_do: { config: "load/floor/do/wrangler.toml" },
  pulse: { config: "wrangler.toml", script: "load/bench-entry.ts", migrate: true, setup: setupPulse, vars: PULSE_VARS },
  // The rollup scenario gets a fresh Pulse of its own: after the backlog scenario's 100,000 pending
  // messages the local runtime restarted the Worker mid-scenario (nothing in its log said why).
  pulse_rollup: { config: "wrangler.toml", script: "load/bench-entry.ts", migrate: true, setup: setupPulse, vars: PULSE_VARS },
};

/**
 * The scenarios, run in this order: first the `interleave` ones, a slice of each per round, then
 * the others grouped by server. To add one (for example inbound LiveKit events), append an entry:
 * `server`, `request(ctx, round)` returning autocannon options (url, method, headers, body, or
 * `requests` for a sequence), optional `prepare(ctx, round)` run just before it (each slice) is
 * measured, `interleave` for a request path that leaves the server as it found it, and `floor`:
 * the scenario it is reported against. `ctx` holds `base` (the server's URL) and whatever the
 * server's `setup` returned (for Pulse: `tenants`).
 */
const SCENARIOS = [
  { name: "bare_health", server: "bare", interleave: true, request: ({ base }) => ({ url: `${base}/health` }) },
  // The same request the token scenarios send, answered after one Durable Object call.
  { name: "bare_do", server: "bare_do", interleave: true, request: ({ base }) => tokenRequest(base, "pulse_floor_key") },
  { name: "health", server: "pulse", interleave: true, floor: "bare_health", target: 0.85, request: ({ base }) => ({ url: `${base}/health` }) },
  {
    name: "token_limit_1k",
    server: "pulse",
    interleave: true,
    floor: "bare_do",
    note: `POST /v1/tokens, project limit ${LOW_LIMIT}/min: after the first ${LOW_LIMIT} the answers are 429s`,
    request: ({ base, tenants }) => tokenRequest(base, tenants.low.secret),
  },
  {
    name: "token_limit_1k_admitted",
    server: "pulse",
    interleave: true,
    floor: "bare_do",
    note: `POST /v1/tokens spread over ${LOW_LIMIT_PROJECTS} projects with limit ${LOW_LIMIT}/min each, so every request is admitted, signed and metered: the same work as token_limit_1m at a limit 1,000 times lower`,
    allAdmitted: true,
    request: ({ base, tenants }) => tokenRequests(base, tenants.lowSpread.map((t) => t.secret)),
  },
  {
    name: "token_limit_1m_spread",
    server: "pulse",
    interleave: true,
    floor: "bare_do",
    note: `POST /v1/tokens spread over ${LOW_LIMIT_PROJECTS} projects with limit ${HIGH_LIMIT}/min each, one key after another: token_limit_1k_admitted at a limit 1,000 times higher (same keys, limiters and meters per request)`,
    allAdmitted: true,
    request: ({ base, tenants }) => tokenRequests(base, tenants.highSpread.map((t) => t.secret)),
  },
  {
    name: "token_limit_1m",
    server: "pulse",
    interleave: true,
    floor: "bare_do",
    target: 0.8,
    note: `POST /v1/tokens, project limit ${HIGH_LIMIT}/min, empty window: every request admitted, signed and metered`,
    request: ({ base, tenants }) => tokenRequest(base, tenants.high.secret),
  },
  {
    name: "token_limit_1m_prefilled",
    server: "pulse",
    interleave: true,
    floor: "bare_do",
    note: `as token_limit_1m, with ${PREFILL_HITS} hits already in the window (another project, same limit; a fresh one each round, prefilled just before it)`,
    prepare: async ({ base, tenants }, round) => {
      const res = await post(base, "/__bench/prefill", { project_id: tenants.prefilled[round].projectId, hits: PREFILL_HITS, span_ms: PREFILL_SPAN_MS });
      if (res.hits !== PREFILL_HITS) throw new Error(`prefill answered ${JSON.stringify(res)}`);
    },
    request: ({ base, tenants }, round) => tokenRequest(base, tenants.prefilled[round].secret),
  },
  // The inbound scenarios' floor: /health on the same Pulse, alone, right before them, in the
  // state they start from (after the token phase).
  {
    name: "health_alone",
    server: "pulse",
    note: "GET /health on Pulse, measured once, alone, just before the inbound scenarios",
    request: ({ base }) => ({ url: `${base}/health` }),
  },
  {
    name: "inbound",
    server: "pulse",
    floor: "health_alone",
    note: "POST /v1/livekit/webhook, signed like LiveKit, each a new event (join, track, leave) fanned out to one endpoint",
    request: ({ base, tenants }) => inboundRequest(base, tenants.inbound.projectId, "a"),
    after: inboundLag,
  },
  {
    name: "inbound_backlog",
    server: "pulse",
    floor: "health_alone",
    note: `as inbound, with another tenant's ${BACKLOG_MESSAGES} pending webhook messages`,
    prepare: async ({ base, tenants }) => {
      const res = await post(base, "/__bench/pending-messages", { project_id: tenants.backlog.projectId, endpoint_id: tenants.backlog.endpointId, count: BACKLOG_MESSAGES });
      if (res.pending < BACKLOG_MESSAGES) throw new Error(`backlog answered ${JSON.stringify(res)}`);
    },
    request: ({ base, tenants }) => inboundRequest(base, tenants.inbound.projectId, "b"),
    after: inboundLag,
  },
  {
    name: "inbound_rollup",
    server: "pulse_rollup",
    floor: "health_alone",
    note: `as inbound, while the daily cron's rollup job runs back to back (one invocation after another), starting with ${ROLLUP_USAGE_EVENTS} raw usage events of another tenant (35 days) to roll up`,
    prepare: async (ctx) => {
      const res = await post(ctx.base, "/__bench/usage-events", { project_id: ctx.tenants.backlog.projectId, count: ROLLUP_USAGE_EVENTS, days: 35 });
      if (res.usage_events < ROLLUP_USAGE_EVENTS) throw new Error(`usage seeding answered ${JSON.stringify(res)}`);
      // Caught here: an unhandled rejection would end the bench with its servers still running.
      ctx.rollup = rollupBackToBack(ctx.base, WARMUP + DURATION).catch((error) => ({ error: error.message }));
    },
    request: ({ base, tenants }) => inboundRequest(base, tenants.inbound.projectId, "c"),
    after: async (ctx, since) => ({ ...(await inboundLag(ctx, since)), rollup: await ctx.rollup }),
  },
];

/** Ratios the issue's targets are judged by: scenario a against scenario b. */
const COMPARISONS = [
  { name: "health_vs_bare", a: "health", b: "bare_health", min: 0.85 },
  { name: "token_vs_bare_do", a: "token_limit_1m", b: "bare_do", min: 0.8 },
  // Like for like: both scenarios admit, sign and meter every request over as many projects
  // (keys, limiters), only the limit differs (token_limit_1k, mostly 429s that skip
  // signing, does less per request and is reported beside them).
  { name: "token_1m_vs_1k_limit", a: "token_limit_1m_spread", b: "token_limit_1k_admitted", min: 0.9, max: 1.1 },
  { name: "token_prefilled_vs_empty_window", a: "token_limit_1m_prefilled", b: "token_limit_1m", min: 0.9, max: 1.1 },
  { name: "inbound_vs_health", a: "inbound", b: "health_alone", min: 0.5 },
  { name: "inbound_p99_vs_health_p99", a: "inbound", b: "health_alone", metric: "p99", max: 3 },
  { name: "inbound_backlog_vs_inbound", a: "inbound_backlog", b: "inbound", min: 0.9, max: 1.1 },
  { name: "inbound_backlog_p99_vs_health_p99", a: "inbound_backlog", b: "health_alone", metric: "p99", max: 3 },
  { name: "inbound_rollup_p99_ms", a: "inbound_rollup", metric: "p99_ms", max: 2000 },
];

async function startServer(name, persistTo, logFile) {
  const spec = SERVERS[name];
  const config = join(ROOT, spec.config);
  if (spec.migrate) {
    const migrate = spawnSync(WRANGLER, ["d1", "migrations", "apply", "DB", "--local", "--config", config, "--persist-to", persistTo], {
      cwd: ROOT,
      env: wranglerEnv(persistTo),
      encoding: "utf8",
    });
    if (migrate.status !== 0) throw new Error(`migrations failed:\n${migrate.stdout}\n${migrate.stderr}`);
  }
  const port = await freePort();
  const inspectorPort = await freePort();
  const args = [
    "dev",
    ...(spec.script ? [join(ROOT, spec.script)] : []),
    "--config", config,
    "--ip", "127.0.0.1",
    "--port", String(port),
    "--inspector-port", String(inspectorPort),
    "--log-level", "warn",
    "--persist-to", persistTo,
    "--show-interactive-dev-session=false",
    ...(spec.vars ?? []).flatMap((v) => ["--var", v]),
  ];
  const out = openSync(logFile, "a");
  const child = spawn(WRANGLER, args, { cwd: ROOT, stdio: ["ignore", out, out], env: wranglerEnv(persistTo), detached: true });
  const base = `http://127.0.0.1:${port}`;
  const probe = name === "bare_do" ? "/" : "/health";
  const deadline = Date.now() + 90_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`wrangler dev (${name}) exited (${child.exitCode}); see ${logFile}`);
    try {
      const res = await fetch(`${base}${probe}`);
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stopProcessGroup(child);
      throw new Error(`${name} did not answer within 90 s; see ${logFile}`);
    }
    await sleep(250);
  }
  return { child, base };
}

async function post(base, path, body, token) {
  const headers = { "Content-Type": "application/json" };
  if (token) headers.Authorization = `Bearer ${token}`;
  const res = await fetch(`${base}${path}`, { method: "POST", headers, body: JSON.stringify(body) });
  const text = await res.text();
  if (!res.ok) throw new Error(`POST ${path} → ${res.status} ${text.slice(0, 500)}`);
  return JSON.parse(text);
}

/** One user and org; one project (with a tokens:write key) per limit the scenarios need. */
async function setupPulse(base) {
  const signup = await post(base, "/v1/auth/signup", { email: `bench-${Date.now()}@example.com`, password: "bench password, long enough", name: "Bench" });
  const org = await post(base, "/v1/orgs", { name: "Bench org" }, signup.token);
  const tenants = {};
  // Inbound events: one project receiving them (its endpoint gets every event), one whose backlog and usage are in the way.
  const receiver = await startReceiver();
  for (const name of ["inbound", "backlog"]) {
    const project = await post(base, `/v1/orgs/${org.id}/projects`, { name: `Bench ${name}` }, signup.token);
    const endpoint = await post(base, `/v1/projects/${project.id}/webhooks`, { url: receiver.url }, signup.token);
    tenants[name] = { projectId: project.id, endpointId: endpoint.id };
  }
  const tokenProject = async (name, limit) => {
    const project = await post(base, `/v1/orgs/${org.id}/projects`, { name: `Bench ${name}` }, signup.token);
    const key = await post(base, `/v1/projects/${project.id}/keys`, { name: "bench", scopes: ["tokens:write"] }, signup.token);
    // Before the key's first use, so no isolate has cached the project's limit yet.
    await post(base, "/__bench/project-limit", { project_id: project.id, per_minute: limit });
    return { projectId: project.id, secret: key.secret, limit };
  };
  for (const [name, limit] of [["low", LOW_LIMIT], ["high", HIGH_LIMIT]]) tenants[name] = await tokenProject(name, limit);
  // One per round: a window prefilled in an earlier round still holds its hits for a minute.
  tenants.prefilled = [];
  for (let i = 0; i < ROUNDS; i++) tenants.prefilled.push(await tokenProject(`prefilled ${i}`, HIGH_LIMIT));
  tenants.lowSpread = [];
  tenants.highSpread = [];
  for (let i = 0; i < LOW_LIMIT_PROJECTS; i++) {
    tenants.lowSpread.push(await tokenProject(`low ${i}`, LOW_LIMIT));
    tenants.highSpread.push(await tokenProject(`high ${i}`, HIGH_LIMIT));
  }
  // Sanity: a token call works before anything is measured (on the high-limit project).
  const probe = await fetch(tokenRequest(base, tenants.high.secret).url, tokenRequest(base, tenants.high.secret));
  if (probe.status !== 201) throw new Error(`token probe answered ${probe.status}: ${await probe.text()}`);
  const limit = probe.headers.get("RateLimit-Policy");
  if (!limit?.includes(`q=${HIGH_LIMIT}`)) throw new Error(`the high-limit project answered RateLimit-Policy ${limit}`);
  return { tenants };
}

function runCannon(opts) {
  return new Promise((resolve, reject) => {
    autocannon({ connections: CONNECTIONS, pipelining: 1, ...opts }, (err, result) => (err ? reject(err) : resolve(result)));
  });
}

/** One measured run of `request` (after a warm-up): autocannon's result and the server's CPU meanwhile. */
async function measureSlice(request, pgid, duration, warmup = WARMUP) {
  if (warmup > 0) await runCannon({ ...request, duration: warmup });
  const cpuBefore = groupCpuSeconds(pgid);
  const r = await runCannon({ ...request, duration });
  return { r, cpuBefore, cpuAfter: groupCpuSeconds(pgid) };
}

/**
 * A scenario's figures from its slices (one, or one per round): throughput is all requests over
 * all measured seconds, CPU all CPU over all requests, latency percentiles the median of the
 * slices' (max: the highest), statuses summed.
 */
function summarize(name, slices) {
  const total = slices.reduce((n, s) => n + s.r.requests.total, 0);
  const seconds = slices.reduce((n, s) => n + s.r.duration, 0);
  const cpuBefore = slices.every((s) => s.cpuBefore) ? sumRoles(slices.map((s) => s.cpuBefore)) : null;
  const cpuAfter = slices.every((s) => s.cpuAfter) ? sumRoles(slices.map((s) => s.cpuAfter)) : null;
  const cpu = cpuMsPerRequest(cpuBefore, cpuAfter, total);
  const statuses = {};
  for (const s of slices) for (const [code, stat] of Object.entries(s.r.statusCodeStats ?? {})) statuses[code] = (statuses[code] ?? 0) + stat.count;
  const lat = (key) => median(slices.map((s) => s.r.latency[key]));
  const summary = {
    name,
    requests_per_sec: Math.round(total / seconds),
    latency_ms: { p50: lat("p50"), p90: lat("p90"), p99: lat("p99"), max: Math.max(...slices.map((s) => s.r.latency.max)), mean: Number((slices.reduce((n, s) => n + s.r.latency.average * s.r.requests.total, 0) / Math.max(1, total)).toFixed(2)) },
    total,
    server_cpu_ms_per_request: cpu,
    statuses,
    errors: slices.reduce((n, s) => n + s.r.errors, 0),
    timeouts: slices.reduce((n, s) => n + s.r.timeouts, 0),
    ...(slices.length > 1 ? { rounds_requests_per_sec: slices.map((s) => Math.round(s.r.requests.total / s.r.duration)) } : {}),
  };
  console.log(
    `${name.padEnd(26)} ${String(summary.requests_per_sec).padStart(7)} req/s   p50 ${String(summary.latency_ms.p50).padStart(4)} ms   p99 ${String(summary.latency_ms.p99).padStart(4)} ms   cpu ${cpu ? `${String(cpu.total).padStart(6)} ms/req (${Object.entries(cpu).filter(([k]) => k !== "total").map(([k, v]) => `${k} ${v}`).join(", ")})` : "n/a"}   statuses ${JSON.stringify(statuses)}${summary.errors ? `   errors ${summary.errors}` : ""}${summary.rounds_requests_per_sec ? `   rounds ${summary.rounds_requests_per_sec.join("/")}` : ""}`,
  );
  return summary;
}

/** CPU readings added up role by role (slices' before and after readings each summed). */
function sumRoles(readings) {
  const out = {};
  for (const reading of readings) for (const [role, v] of Object.entries(reading)) out[role] = (out[role] ?? 0) + v;
  return out;
}

/**
 * CPU seconds used so far by the processes of a server's process group, from /proc (Linux only;
 * null elsewhere), by role: `wrangler` (node: wrangler and its log handling), `proxy` (the workerd
 * that owns the public port and forwards to the Worker) and `worker` (the workerd running the
 * Worker and its Durable Objects). Divided by the requests served, it is a cost per request that
 * other load on a shared machine disturbs far less than throughput.
 */
const CLOCK_TICKS = 100;
function groupCpuSeconds(pgid) {
  const byRole = { wrangler: 0, proxy: 0, worker: 0, other: 0 };
  let entries;
  try {
    entries = readdirSync("/proc");
  } catch {
    return null;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    let stat;
    let cmdline;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      cmdline = readFileSync(`/proc/${entry}/cmdline`, "utf8");
    } catch {
      continue; // exited meanwhile
    }
    // Fields after the parenthesised command name: state ppid pgrp ... utime(14) stime(15).
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (Number(fields[2]) !== pgid) continue;
    const role = !cmdline.includes("workerd")
      ? cmdline.includes("wrangler") ? "wrangler" : "other"
      : cmdline.includes("entry=127.0.0.1:0") ? "worker" : "proxy";
    byRole[role] += (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  }
  return byRole;
}

function cpuMsPerRequest(before, after, requests) {
  if (!before || !after || requests === 0) return null;
  const out = {};
  let total = 0;
  for (const role of Object.keys(after)) {
    const ms = ((after[role] - before[role]) * 1000) / requests;
    total += ms;
    if (ms > 0) out[role] = Number(ms.toFixed(3));
  }
  return { total: Number(total.toFixed(3)), ...out };
}

const ratio = (a, b) => (a != null && b > 0 ? Number((a / b).toFixed(3)) : null);

function selectedScenarios() {
  if (!ONLY) return SCENARIOS;
  const wanted = new Set(ONLY);
  for (const s of SCENARIOS) if (wanted.has(s.name) && s.floor) wanted.add(s.floor);
  return SCENARIOS.filter((s) => wanted.has(s.name));
}

async function main() {
  const workDir = mkdtempSync(join(os.tmpdir(), "pulse-bench-"));
  const logFile = join(workDir, "wrangler.log");
  const startedAt = new Date();
  const loadBefore = os.loadavg();
  const scenarios = selectedScenarios();
  console.log(`Pulse bench: ${CONNECTIONS} connections, ${DURATION} s per scenario (+${WARMUP} s warm-up; request paths in ${ROUNDS} interleaved rounds), state and logs in ${workDir}`);

  const results = {};
  const running = new Map(); // server name → { child, ctx }
  const up = async (server) => {
    if (!running.has(server)) {
      const { child, base } = await startServer(server, join(workDir, server), logFile);
      try {
        running.set(server, { child, ctx: { base, ...(SERVERS[server].setup ? await SERVERS[server].setup(base) : {}) } });
      } catch (error) {
        await stopProcessGroup(child);
        throw error;
      }
    }
    return running.get(server);
  };
  const down = async (server) => {
    const entry = running.get(server);
    running.delete(server);
    if (entry) await stopProcessGroup(entry.child);
  };
  // A failed scenario is recorded (and misses its targets); the others still run and are written.
  const failed = (scenario, error) => {
    console.error(`${scenario.name} failed: ${error.message}`);
    results[scenario.name] = { server: scenario.server, note: scenario.note, error: error.message, total: 0, requests_per_sec: 0, latency_ms: {} };
  };
  try {
    // The request paths: every server they need up at once (idle but one), slices in turn.
    const interleaved = scenarios.filter((s) => s.interleave);
    for (const scenario of interleaved) await up(scenario.server);
    const slices = new Map(interleaved.map((s) => [s.name, []]));
    for (let round = 0; round < ROUNDS; round++) {
      // Every other round in reverse, so no scenario always runs right after the same one (what a
      // slice leaves behind, such as a burst of 429s, lands on different neighbours).
      for (const scenario of round % 2 === 0 ? interleaved : [...interleaved].reverse()) {
        if (results[scenario.name]?.error) continue;
        const { child, ctx } = running.get(scenario.server);
        try {
          if (scenario.prepare) await scenario.prepare(ctx, round);
          // The first round warms every server up; later slices only need their connections open again.
          const warmup = round === 0 ? WARMUP : Math.min(WARMUP, LATER_WARMUP);
          slices.get(scenario.name).push(await measureSlice(scenario.request(ctx, round), child.pid, DURATION / ROUNDS, warmup));
        } catch (error) {
          failed(scenario, error);
        }
      }
    }
    for (const scenario of interleaved) {
      if (results[scenario.name]?.error) continue;
      const summary = summarize(scenario.name, slices.get(scenario.name));
      // A scenario meant to admit everything that met its limit measured something else.
      const refused = Object.keys(summary.statuses).filter((code) => code !== "201");
      if (scenario.allAdmitted && refused.length > 0) failed(scenario, new Error(`answers other than 201: ${JSON.stringify(summary.statuses)}`));
      else results[scenario.name] = { server: scenario.server, note: scenario.note, ...summary };
    }
    // The rest (inbound events, which change the server's state for what follows): one run each,
    // server by server, each server alone.
    for (const server of Object.keys(SERVERS)) {
      const mine = scenarios.filter((s) => !s.interleave && s.server === server);
      if (mine.length === 0) continue;
      for (const other of [...running.keys()]) if (other !== server) await down(other);
      const { child, ctx } = await up(server);
      for (const scenario of mine) {
        try {
          if (scenario.prepare) await scenario.prepare(ctx, 0);
          const since = Date.now();
          results[scenario.name] = { server, note: scenario.note, ...summarize(scenario.name, [await measureSlice(scenario.request(ctx, 0), child.pid, DURATION)]) };
          if (scenario.after) {
            Object.assign(results[scenario.name], await scenario.after(ctx, since));
            console.log(`${"".padEnd(26)} ${JSON.stringify(Object.fromEntries(Object.entries(results[scenario.name]).filter(([k]) => k === "consumer" || k === "rollup")))}`);
          }
        } catch (error) {
          failed(scenario, error);
        }
      }
    }
  } finally {
    for (const server of [...running.keys()]) await down(server);
  }

  const ratios = {};
  for (const s of scenarios) {
    if (!s.floor || !results[s.floor]) continue;
    ratios[`${s.name}_vs_${s.floor}`] = {
      throughput: ratio(results[s.name].requests_per_sec, results[s.floor].requests_per_sec),
      p99: ratio(results[s.name].latency_ms.p99, results[s.floor].latency_ms.p99),
      cpu_per_request: ratio(results[s.name].server_cpu_ms_per_request?.total, results[s.floor].server_cpu_ms_per_request?.total),
    };
  }
  const targets = {};
  for (const c of COMPARISONS) {
    const metric = c.metric ?? "throughput";
    if (!results[c.a] || (metric !== "p99_ms" && !results[c.b])) continue;
    // A scenario that got no answers at all has no p99: it fails its target rather than "meeting" it with 0.
    const answered = results[c.a].total > 0;
    const value = !answered
      ? null
      : metric === "throughput"
        ? ratio(results[c.a].requests_per_sec, results[c.b].requests_per_sec)
        : metric === "p99"
          ? ratio(results[c.a].latency_ms.p99, results[c.b].latency_ms.p99)
          : results[c.a].latency_ms.p99;
    const met = value != null && (c.min === undefined || value >= c.min) && (c.max === undefined || value <= c.max);
    targets[c.name] = { metric, value, ...(c.min !== undefined ? { min: c.min } : {}), ...(c.max !== undefined ? { max: c.max } : {}), met };
  }
  console.log("\nratios to the floor (throughput, p99, server CPU per request):");
  for (const [name, r] of Object.entries(ratios)) console.log(`  ${name.padEnd(40)} ${String(r.throughput).padEnd(6)} ${String(r.p99).padEnd(6)} ${r.cpu_per_request}`);
  console.log("targets:");
  for (const [name, t] of Object.entries(targets)) {
    const band = t.min !== undefined && t.max !== undefined ? `${t.min}..${t.max}` : t.min !== undefined ? `>= ${t.min}` : `<= ${t.max}`;
    console.log(`  ${name.padEnd(40)} ${String(t.value).padEnd(6)} (${t.metric} ${band}) ${t.met ? "met" : "NOT met"}`);
  }

  const result = {
    started_at: startedAt.toISOString(),
    finished_at: new Date().toISOString(),
    settings: { backlog_messages: BACKLOG_MESSAGES, rollup_usage_events: ROLLUP_USAGE_EVENTS, pulse_vars: PULSE_VARS, devtools_console_forwarding: DEVTOOLS, connections: CONNECTIONS, duration_s: DURATION, warmup_s: WARMUP, rounds: ROUNDS, low_limit_per_min: LOW_LIMIT, low_limit_projects: LOW_LIMIT_PROJECTS, high_limit_per_min: HIGH_LIMIT, prefill_hits: PREFILL_HITS, prefill_span_ms: PREFILL_SPAN_MS },
    machine: { cpus: os.cpus().length, cpu_model: os.cpus()[0]?.model, loadavg_before: loadBefore, loadavg_after: os.loadavg(), node: process.version, platform: `${os.platform()} ${os.release()}` },
    scenarios: results,
    ratios,
    targets,
  };
  // Partial runs (BENCH_ONLY) are for exploring: their results go to the OS temp dir, not load/results.
  const resultsDir = ONLY ? os.tmpdir() : join(ROOT, "load", "results");
  mkdirSync(resultsDir, { recursive: true });
  const file = join(resultsDir, `${ONLY ? "pulse-bench-partial-" : ""}${startedAt.toISOString().replace(/[:.]/g, "-")}.json`);
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  console.log(`\nwritten ${file}`);
  if (!process.env.BENCH_KEEP) rmSync(workDir, { recursive: true, force: true });
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
