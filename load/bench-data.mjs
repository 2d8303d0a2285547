#!/usr/bin/env node
/**
 * `npm run bench:data`: how Pulse's data paths grow from 100k to 1M rows, locally.
 *
 * For each size (BENCH_DATA_SIZES, default 100000,1000000) in a fresh throwaway D1 (--persist-to
 * under the OS temp dir; the dev database is never touched):
 * 1. applies the migrations and starts the bench Worker (load/bench-worker.ts: Pulse plus /__bench/
 *    routes, with Pulse's own wrangler.toml and so its bindings) with `wrangler dev` on a free
 *    127.0.0.1 port, without wrangler's devtools inspector proxy (load/wrangler-env.mjs);
 * 2. signs up, creates an org with 10 projects, and bulk-seeds N usage events (over 40 days, so
 *    some are past USAGE_EVENT_RETENTION_DAYS; with rooms and identities), N audit entries (over
 *    400 days, so some are past AUDIT_RETENTION_DAYS), and N participant sessions in N/10 room
 *    sessions (over 40 days) inside D1;
 * 3. measures (median of BENCH_DATA_REPS requests each):
 *      audit_rare_filter   GET audit-logs?action=<value on 1 row in 50,000>
 *      audit_rare_resource GET audit-logs?resource_id=<likewise>
 *      audit_deep_page     GET audit-logs?cursor=<99% of the way down>
 *      org_usage           GET /v1/orgs/{id}/usage (this month by day: rollups + the live window)
 *      sessions_list       GET /v1/projects/{id}/sessions, first page and 99% deep
 *    each with D1's own time and the plan of its statements (`/__bench/explain`);
 *      export_ndjson       the whole org's audit log as NDJSON (every row, timed end to end; the median
 *                          of BENCH_EXPORT_REPS, default 3, whole exports)
 *      rollup              the hourly cron with every hour of the 40 days waiting (full catch-up),
 *                          then the hourly cron with one hour waiting (steady state)
 *      cron_daily          the daily cron (retention deletes the backlog, rollup)
 *    and for every cron run the slowest single D1 call (a batch counts as one call);
 *      past_retention      rows past their retention rule, by table, before and after the daily run
 * 4. before the sizes, on a fresh database of its own: webhook fan-out, FANOUT_EVENTS LiveKit
 *    events to FANOUT_ENDPOINTS endpoints on a local receiver, through the real queue;
 *    deliveries/s, lost and duplicated.
 * Writes load/results/data-<timestamp>.json and prints the ratios against the targets
 * (time(1M)/time(100k) ≤ 12 for rollups and exports, ≤ 2 for audit pages and org usage; no cron
 * statement > 1 s; nothing past retention after the daily run; fan-out ≥ 300 deliveries/s with 0
 * lost and 0 duplicated).
 */
import { spawn, spawnSync } from "node:child_process";
import { createServer as createHttpServer } from "node:http";
import { mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { freePort, median, sleep } from "./bench-support.mjs";
import { stopProcessGroup } from "./process-group.mjs";
import { wranglerEnv } from "./wrangler-env.mjs";
import { AccessToken } from "livekit-server-sdk";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
/** Pulse's own config (its bindings, queues and consumers), with the bench Worker as the script. */
const CONFIG = join(ROOT, "wrangler.toml");
const SCRIPT = join(ROOT, "load", "bench-worker.ts");
const WRANGLER = join(ROOT, "node_modules", ".bin", "wrangler");
/** `none`: the fan-out alone (results then go to the OS temp dir, not load/results/). */
const SIZES = process.env.BENCH_DATA_SIZES === "none" ? [] : (process.env.BENCH_DATA_SIZES ?? "100000,1000000").split(",").map(Number);
const REPS = Number(process.env.BENCH_DATA_REPS ?? 15);
const FANOUT_EVENTS = Number(process.env.FANOUT_EVENTS ?? 500);
/** Whole-org NDJSON exports per size (the median is reported). */
const EXPORT_REPS = Number(process.env.BENCH_EXPORT_REPS ?? 3);
const FANOUT_ENDPOINTS = Number(process.env.FANOUT_ENDPOINTS ?? 10);
const SEED_REQUEST_ROWS = 100_000;
const LK_KEY = "benchkey";
const LK_SECRET = "bench-livekit-secret-0123456789-0123456789";
const ADMIN = "bench-admin-token-0123456789";
/** Over .dev.vars (which wrangler dev reads for the rest, such as the encryption keyring). */
const VARS = {
  PULSE_ENV: "development",
  LIVEKIT_API_KEY: LK_KEY,
  LIVEKIT_API_SECRET: LK_SECRET,
  PULSE_ADMIN_TOKEN: ADMIN,
  WEBHOOK_ALLOW_PRIVATE_URLS: "true",
  RATE_LIMIT_IP_PER_MIN: "1000000",
  RATE_LIMIT_PROJECT_PER_MIN: "10000000",
  RATE_LIMIT_USER_PER_MIN: "1000000",
  RATE_LIMIT_WEBHOOK_TEST_PER_MIN: "100000",
  PASSWORD_PEPPER: "bench-password-pepper-0123456789-0123456789",
  EMAIL_PROVIDER: "log",
  PUBLIC_URL: "http://127.0.0.1",
  LOG_LEVEL: "warn",
};

const round = (x) => Number(x.toFixed(1));

async function startBenchWorker(persistTo, logFile) {
  const port = await freePort();
  const inspectorPort = await freePort();
  const args = ["dev", SCRIPT, "-c", CONFIG, "--ip", "127.0.0.1", "--port", String(port), "--inspector-port", String(inspectorPort), "--log-level", "warn",
    "--persist-to", persistTo, "--show-interactive-dev-session=false", "--test-scheduled"];
  for (const [k, v] of Object.entries(VARS)) args.push("--var", `${k}:${v}`);
  const out = openSync(logFile, "a");
  const child = spawn(WRANGLER, args, { cwd: ROOT, stdio: ["ignore", out, out], env: wranglerEnv(persistTo), detached: true });
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`wrangler dev exited (${child.exitCode}); see ${logFile}`);
    try {
      if ((await fetch(`${base}/health`)).ok) return { child, base };
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stopProcessGroup(child);
      throw new Error(`bench Worker did not answer /health within 120 s; see ${logFile}`);
    }
    await sleep(250);
  }
}

/**
 * After a long invocation (a daily cron run over a million rows) `wrangler dev` sometimes leaves a
 * request it accepted unanswered until undici's 300 s header timeout, while a new request is
 * answered at once. Read-only bench requests are therefore sent with a shorter timeout and sent
 * again when it passes.
 */
const READ_TIMEOUT_MS = 30_000;

/**
 * A read-only GET whose answer must start within READ_TIMEOUT_MS (sent again, up to 3 times, when
 * it does not). `sentAt` is when the answered attempt was sent, so timings leave out a lost one.
 */
async function getAnswered(url, headers) {
  for (let attempt = 1; ; attempt++) {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), READ_TIMEOUT_MS);
    const sentAt = performance.now();
    try {
      // Only the wait for the answer's headers is bounded: an export's body may stream for longer.
      const res = await fetch(url, { headers, signal: controller.signal });
      return Object.assign(res, { sentAt });
    } catch (error) {
      if (!controller.signal.aborted || attempt === 3) throw error;
      console.error(`GET ${new URL(url).pathname} got no answer within ${READ_TIMEOUT_MS / 1000} s; sending it again`);
    } finally {
      clearTimeout(timer);
    }
  }
}

async function api(base, method, path, { token, body, retry = false } = {}) {
  const headers = { "Content-Type": "application/json" };
  if (token) headers.Authorization = `Bearer ${token}`;
  const send = () =>
    method === "GET" ? getAnswered(`${base}${path}`, headers) : fetch(`${base}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  let res = await send();
  // Idempotent bench requests are repeated when wrangler dev restarted workerd under load.
  for (let i = 0; retry && res.status === 503 && i < 3; i++) res = await send();
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path} → ${res.status} ${text.slice(0, 300)}`);
  return text ? JSON.parse(text) : null;
}

async function timed(fn) {
  const started = performance.now();
  const value = await fn();
  return { ms: performance.now() - started, value };
}

/** Median time of REPS sequential GETs (after one warm-up), checking each answers 200. */
async function medianGet(url, token) {
  const times = [];
  for (let i = 0; i <= REPS; i++) {
    const { ms, value } = await timed(async () => {
      const res = await fetch(url, { headers: { Authorization: `Bearer ${token}` } });
      const text = await res.text();
      if (res.status !== 200) throw new Error(`GET ${url} → ${res.status} ${text.slice(0, 300)}`);
      return text.startsWith("{") ? JSON.parse(text) : {};
    });
    if (i > 0) times.push(ms);
    if (i === REPS) return { median_ms: round(median(times)), rows: value.data?.length };
  }
}

async function cron(base, expression) {
  let res = await fetch(`${base}/__bench/cron?cron=${encodeURIComponent(expression)}`, { method: "POST" });
  // wrangler dev occasionally restarts workerd under heavy machine load; the jobs are idempotent.
  if (res.status === 503) res = await fetch(`${base}/__bench/cron?cron=${encodeURIComponent(expression)}`, { method: "POST" });
  if (!res.ok) throw new Error(`cron ${expression} → ${res.status} ${await res.text()}`);
  return res.json();
}

async function tenant(base, projects) {
  const signup = await api(base, "POST", "/v1/auth/signup", {
    body: { email: `bench-${Date.now()}-${Math.random().toString(36).slice(2)}@example.com`, password: "bench password, long enough", name: "Bench" },
  });
  const org = await api(base, "POST", "/v1/orgs", { token: signup.token, body: { name: "Bench org" } });
  const ids = [];
  for (let i = 0; i < projects; i++) ids.push((await api(base, "POST", `/v1/orgs/${org.id}/projects`, { token: signup.token, body: { name: `P${i}` } })).id);
  return { token: signup.token, orgId: org.id, projectIds: ids };
}

/** A migrated throwaway database under the OS temp dir and the bench Worker serving it. */
async function freshBenchWorker() {
  const persistTo = mkdtempSync(join(os.tmpdir(), "pulse-bench-data-"));
  const logFile = join(persistTo, "wrangler.log");
  const migrate = spawnSync(WRANGLER, ["d1", "migrations", "apply", "DB", "--local", "-c", CONFIG, "--persist-to", persistTo], { cwd: ROOT, env: wranglerEnv(persistTo), encoding: "utf8" });
  if (migrate.status !== 0) throw new Error(`migrations failed:\n${migrate.stdout}\n${migrate.stderr}`);
  return { persistTo, pulse: await startBenchWorker(persistTo, logFile) };
}

async function measureFanout() {
  const { persistTo, pulse } = await freshBenchWorker();
  try {
    const result = await fanout(pulse.base);
    rmSync(persistTo, { recursive: true, force: true });
    return result;
  } catch (error) {
    console.error(`fan-out failed: ${error.message}; wrangler's log is kept in ${persistTo}`);
    return { error: error.message };
  } finally {
    await stopProcessGroup(pulse.child);
  }
}

async function measureSize(size) {
  const { persistTo, pulse } = await freshBenchWorker();
  const result = { rows: size };
  try {
    const t = await tenant(pulse.base, 10);
    // One request per 100k rows (a request must answer within undici's 300 s header timeout).
    const seedOne = async (table, span_days, rows = size) => {
      let ms = 0;
      for (let offset = 0; offset < rows; offset += SEED_REQUEST_ROWS) {
        const count = Math.min(SEED_REQUEST_ROWS, rows - offset);
        // Room sessions go to the first project only, so its list holds all of them.
        const project_ids = table === "room_sessions" ? t.projectIds.slice(0, 1) : t.projectIds;
        const r = await api(pulse.base, "POST", "/__bench/seed", { retry: true, body: { table, org_id: t.orgId, project_ids, count, offset, total: rows, span_days } });
        ms += r.ms;
      }
      return { table, count: rows, ms };
    };
    result.seed = {
      usage_events: await seedOne("usage_events", 40),
      audit_logs: await seedOne("audit_logs", 400),
      participant_sessions: await seedOne("participant_sessions", 40),
      room_sessions: await seedOne("room_sessions", 40, size / 10),
    };
    console.log(`[${size}] seeded: ${Object.values(result.seed).map((s) => `${s.table} ${s.count} in ${s.ms} ms`).join(", ")}`);

    // Rollup first (every hour of the 40 days is waiting), as the hourly cron does after a backfill.
    result.rollup_catch_up = await cron(pulse.base, "7 * * * *");
    await api(pulse.base, "POST", "/__bench/analyze", { retry: true });
    // The floor on this machine right now (no D1): what every request below pays anyway.
    result.health = await medianGet(`${pulse.base}/health`, t.token);
    const audit = `${pulse.base}/v1/orgs/${t.orgId}/audit-logs`;
    result.audit_rare_filter = await medianGet(`${audit}?action=thing.rare&limit=50`, t.token);
    result.audit_rare_resource = await medianGet(`${audit}?resource_id=res_rare&limit=50`, t.token);
    const { cursor } = await api(pulse.base, "GET", `/__bench/cursor?org_id=${t.orgId}&depth=${Math.floor(size * 0.99)}`);
    result.audit_deep_page = await medianGet(`${audit}?cursor=${cursor}&limit=50`, t.token);
    result.org_usage = await medianGet(`${pulse.base}/v1/orgs/${t.orgId}/usage?granularity=day`, t.token);
    const sessions = `${pulse.base}/v1/projects/${t.projectIds[0]}/sessions`;
    result.sessions_list = await medianGet(`${sessions}?limit=50`, t.token);
    const deepSessions = await api(pulse.base, "GET", `/__bench/cursor?table=room_sessions&project_id=${t.projectIds[0]}&depth=${Math.floor((size / 10) * 0.99)}`);
    result.sessions_deep_page = await medianGet(`${sessions}?limit=50&cursor=${deepSessions.cursor}`, t.token);
    // D1's own time and the plan of each statement of those requests (one run each).
    const explain = async (url) => api(pulse.base, "GET", `/__bench/explain?path=${encodeURIComponent(url.slice(pulse.base.length))}`, { token: t.token });
    result.explain = {};
    for (const [name, url] of Object.entries({
      audit_rare_filter: `${audit}?action=thing.rare&limit=50`,
      audit_rare_resource: `${audit}?resource_id=res_rare&limit=50`,
      audit_deep_page: `${audit}?cursor=${cursor}&limit=50`,
      org_usage: `${pulse.base}/v1/orgs/${t.orgId}/usage?granularity=day`,
      sessions_list: `${sessions}?limit=50`,
      sessions_deep_page: `${sessions}?limit=50&cursor=${deepSessions.cursor}`,
    })) {
      result.explain[name] = await explain(url);
    }

    // The whole export, EXPORT_REPS times (one run of it is the noisiest figure here): the median.
    const exports = [];
    for (let i = 0; i < EXPORT_REPS; i++) {
      const res = await getAnswered(`${audit}/export?format=ndjson`, { Authorization: `Bearer ${t.token}` });
      if (res.status !== 200) throw new Error(`export → ${res.status}`);
      let lines = 0;
      const decoder = new TextDecoder();
      for await (const chunk of res.body) lines += (decoder.decode(chunk, { stream: true }).match(/\n/g) ?? []).length;
      exports.push({ ms: performance.now() - res.sentAt, value: lines });
    }
    const exportMs = median(exports.map((e) => e.ms));
    const rows = exports[0].value;
    if (exports.some((e) => e.value !== rows)) throw new Error(`exports returned different row counts: ${exports.map((e) => e.value)}`);
    result.export_ndjson = { ms: round(exportMs), runs_ms: exports.map((e) => round(e.ms)), rows, rows_per_sec: Math.round(rows / (exportMs / 1000)) };

    // Steady state: one hour waiting (a fresh event in the current hour), then the daily run.
    await api(pulse.base, "POST", "/__bench/seed", { retry: true, body: { table: "usage_events", label: "late", org_id: t.orgId, project_ids: t.projectIds, count: 1000, span_days: 0.04 } });
    result.rollup_one_hour = await cron(pulse.base, "7 * * * *");
    // Retention's backlog, counted by each rule's own cutoff, before and after one daily run.
    result.past_retention_before_daily = (await api(pulse.base, "GET", "/__bench/past-retention")).tables;
    result.cron_daily = await cron(pulse.base, "17 3 * * *");
    // By the run's own cutoffs: seeded rows keep crossing the current ones (~17 usage events a minute at 1M).
    result.past_retention_after_daily = (await api(pulse.base, "GET", `/__bench/past-retention?now=${result.cron_daily.scheduled_time}`)).tables;
    result.cron_5min = await cron(pulse.base, "*/5 * * * *");
    result.left_after_daily = {
      usage_events: (await api(pulse.base, "GET", "/__bench/count?table=usage_events")).rows,
      audit_logs: (await api(pulse.base, "GET", "/__bench/count?table=audit_logs")).rows,
    };
    const crons = [result.rollup_catch_up, result.rollup_one_hour, result.cron_daily, result.cron_5min];
    result.slowest_cron_call = crons.map((c) => c.slowest[0]).filter(Boolean).sort((a, b) => b.ms - a.ms)[0] ?? null;
    console.log(
      `[${size}] rollup catch-up ${result.rollup_catch_up.total_ms} ms, one hour ${result.rollup_one_hour.total_ms} ms, daily ${result.cron_daily.total_ms} ms; ` +
        `slowest cron call ${result.slowest_cron_call?.ms} ms (${result.slowest_cron_call?.kind}); audit rare ${result.audit_rare_filter.median_ms} ms, ` +
        `resource ${result.audit_rare_resource.median_ms} ms, deep ${result.audit_deep_page.median_ms} ms, org usage ${result.org_usage.median_ms} ms, ` +
        `sessions ${result.sessions_list.median_ms} ms (deep ${result.sessions_deep_page.median_ms} ms), ` +
        `export ${result.export_ndjson.rows} rows in ${result.export_ndjson.ms} ms`,
    );
  } catch (error) {
    console.error(`[${size}] failed; wrangler's log and the database are kept in ${persistTo}`);
    await stopProcessGroup(pulse.child);
    throw error;
  }
  await stopProcessGroup(pulse.child);
  rmSync(persistTo, { recursive: true, force: true });
  return result;
}

async function sha256Base64(text) {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)));
  return Buffer.from(digest).toString("base64");
}

/** FANOUT_EVENTS participant_joined events × FANOUT_ENDPOINTS endpoints through the real queue. */
async function fanout(base) {
  const received = new Map();
  let first = 0;
  let last = 0;
  const server = createHttpServer((req, res) => {
    req.resume();
    req.on("end", () => {
      const id = req.headers["webhook-id"];
      const key = `${req.url} ${id}`;
      received.set(key, (received.get(key) ?? 0) + 1);
      const now = performance.now();
      if (!first) first = now;
      last = now;
      res.writeHead(200).end("ok");
    });
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  const port = server.address().port;
  try {
    const t = await tenant(base, 1);
    const projectId = t.projectIds[0];
    for (let e = 0; e < FANOUT_ENDPOINTS; e++) {
      await api(base, "POST", `/v1/projects/${projectId}/webhooks`, { token: t.token, body: { url: `http://127.0.0.1:${port}/hook/${e}`, events: ["participant.joined"] } });
    }
    const started = performance.now();
    const resent = [];
    const send = async (i) => {
      const body = JSON.stringify({
        event: "participant_joined",
        id: `EV_bench_${i}_${Math.random().toString(36).slice(2, 8)}`,
        createdAt: String(Math.floor(Date.now() / 1000)),
        room: { sid: "RM_bench", name: `${projectId}:bench` },
        participant: { sid: `PA_bench_${i}`, identity: `user-${i}`, joinedAt: String(Math.floor(Date.now() / 1000)) },
      });
      const token = new AccessToken(LK_KEY, LK_SECRET, { ttl: "5m" });
      token.sha256 = await sha256Base64(body);
      const headers = { "Content-Type": "application/webhook+json", Authorization: await token.toJwt() };
      // LiveKit retries a failed webhook (an error status or a broken connection); so does the
      // bench (Pulse deduplicates by event id).
      for (let attempt = 1; ; attempt++) {
        let failure;
        try {
          const res = await fetch(`${base}/v1/livekit/webhook`, { method: "POST", headers, body });
          if (res.status === 200) return;
          const text = await res.text();
          if (res.status < 500) throw new Error(`LiveKit webhook → ${res.status} ${text.slice(0, 200)}`);
          failure = `${res.status} ${text.slice(0, 200)}`;
        } catch (error) {
          if (error.message.startsWith("LiveKit webhook")) throw error;
          failure = `${error.message} (${error.cause?.code ?? error.cause?.message ?? "no cause"})`;
        }
        resent.push(failure);
        if (attempt === 3) throw new Error(`LiveKit webhook failed 3 times: ${failure}`);
        await sleep(500);
      }
    };
    for (let i = 0; i < FANOUT_EVENTS; i += 20) await Promise.all(Array.from({ length: Math.min(20, FANOUT_EVENTS - i) }, (_, k) => send(i + k)));
    const sentMs = performance.now() - started;
    const expected = FANOUT_EVENTS * FANOUT_ENDPOINTS;
    const deadline = Date.now() + 180_000;
    while (received.size < expected && Date.now() < deadline) await sleep(100);
    await sleep(3_000); // let any duplicate arrive
    const total = [...received.values()].reduce((a, b) => a + b, 0);
    const out = {
      events: FANOUT_EVENTS,
      endpoints: FANOUT_ENDPOINTS,
      expected,
      delivered_unique: received.size,
      lost: expected - received.size,
      duplicated: total - received.size,
      events_sent_ms: round(sentMs),
      events_resent: resent.length,
      resend_reasons: [...new Set(resent)].slice(0, 5),
      end_to_end_ms: round(last - started),
      deliveries_per_sec_end_to_end: Math.round(received.size / ((last - started) / 1000)),
      deliveries_per_sec_consumer: Math.round(received.size / ((last - first) / 1000)),
    };
    console.log(`fan-out: ${out.delivered_unique}/${expected} delivered, ${out.lost} lost, ${out.duplicated} duplicated, ${out.deliveries_per_sec_end_to_end} deliveries/s end to end (${out.deliveries_per_sec_consumer}/s from first to last delivery)`);
    return out;
  } finally {
    server.close();
  }
}

const ratio = (a, b) => (a != null && b > 0 ? Number((a / b).toFixed(2)) : null);

async function main() {
  const startedAt = new Date();
  const loadBefore = os.loadavg();
  const runs = [];
  mkdirSync(join(ROOT, "load", "results"), { recursive: true });
  const partial = join(os.tmpdir(), `pulse-bench-data-partial-${process.pid}.json`);
  // Fan-out first, on a fresh database of its own: the deliveries/s of the queue and the consumer,
  // not of a database just loaded with a million rows.
  const fanoutResult = FANOUT_EVENTS > 0 ? await measureFanout() : null;
  for (const size of SIZES) {
    runs.push(await measureSize(size));
    writeFileSync(partial, JSON.stringify({ fanout: fanoutResult, runs }, null, 2)); // kept if a later size fails
  }
  const [small, large] = runs;
  const targets = large
    ? {
        rollup_catch_up: { ratio: ratio(large.rollup_catch_up.total_ms, small.rollup_catch_up.total_ms), max: 12 },
        export_ndjson: { ratio: ratio(large.export_ndjson.ms, small.export_ndjson.ms), max: 12 },
        audit_rare_filter: { ratio: ratio(large.audit_rare_filter.median_ms, small.audit_rare_filter.median_ms), max: 2 },
        audit_rare_resource: { ratio: ratio(large.audit_rare_resource.median_ms, small.audit_rare_resource.median_ms), max: 2 },
        audit_deep_page: { ratio: ratio(large.audit_deep_page.median_ms, small.audit_deep_page.median_ms), max: 2 },
        org_usage: { ratio: ratio(large.org_usage.median_ms, small.org_usage.median_ms), max: 2 },
        sessions_list: { ratio: ratio(large.sessions_list.median_ms, small.sessions_list.median_ms), max: 2 },
        sessions_deep_page: { ratio: ratio(large.sessions_deep_page.median_ms, small.sessions_deep_page.median_ms), max: 2 },
        slowest_cron_call_ms: { value: large.slowest_cron_call?.ms ?? null, max: 1000 },
        rows_past_retention_after_daily: { value: Object.values(large.past_retention_after_daily).reduce((a, b) => a + b, 0), max: 0 },
        fanout_deliveries_per_sec: { value: fanoutResult?.deliveries_per_sec_end_to_end ?? null, min: 300 },
        fanout_lost_or_duplicated: { value: fanoutResult ? fanoutResult.lost + fanoutResult.duplicated : null, max: 0 },
      }
    : null;
  if (targets) {
    for (const [name, t] of Object.entries(targets)) {
      const v = t.ratio ?? t.value;
      const met = v !== null && (t.max !== undefined ? v <= t.max : v >= t.min);
      console.log(`${name.padEnd(32)} ${String(v).padStart(8)}  (target ${t.max !== undefined ? `≤ ${t.max}` : `≥ ${t.min}`})  ${met ? "ok" : "MISSED"}`);
    }
  }
  const out = {
    kind: "data",
    started_at: startedAt.toISOString(),
    finished_at: new Date().toISOString(),
    machine: { cpus: os.cpus().length, loadavg_before: loadBefore, loadavg_after: os.loadavg() },
    reps: REPS,
    fanout: fanoutResult,
    runs,
    targets,
  };
  const file = join(SIZES.length > 0 ? join(ROOT, "load", "results") : os.tmpdir(), `data-${startedAt.toISOString().replace(/[:.]/g, "-")}.json`);
  writeFileSync(file, JSON.stringify(out, null, 2) + "\n");
  console.log(`results: ${file}`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
