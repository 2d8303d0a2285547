/**
 * Pulse as `npm run bench` runs it: the production Worker (src/index.ts) unchanged, plus two
 * bench-only hooks under `/__bench/` that set up state no public API creates quickly. This file is
 * passed to `wrangler dev` by load/bench.mjs only; it is never deployed and never part of the tests.
 *
 * - `POST /__bench/project-limit {project_id, per_minute}`: sets `projects.rate_limit_per_min`, as an
 *   operator does in D1 (there is no API for it).
 * - `POST /__bench/prefill {project_id, hits, span_ms}`: puts `hits` admitted hits, spread evenly over
 *   the last `span_ms`, into the project's limiter window, through the limiter's own `admit()`, and
 *   writes them to its storage before answering.
 * - `POST /__bench/pending-messages {project_id, endpoint_id, count}`: `count` pending, never-sent
 *   webhook messages of that endpoint (another tenant's backlog), in one INSERT … SELECT.
 * - `POST /__bench/usage-events {project_id, count, days}`: `count` raw participant-minute usage
 *   events spread over the last `days`, for the daily rollup to work through.
 * - `POST /__bench/rollup`: runs the daily cron's rollup job (`usage_rollup`: every hour with usage
 *   not yet rolled up) once; answers how long it took.
 * - `POST /__bench/inbound-lag {since}`: LiveKit events stored since `since` (ms): how many, how
 *   many are still unprocessed, and received → processed percentiles.
 */
import pulse, { RateLimiter as PulseRateLimiter } from "../src/index";
import type { Bindings } from "../src/env";
import { CRON_JOBS } from "../src/jobs/scheduled";
import { nowMs } from "../src/lib/clock";

export class RateLimiter extends PulseRateLimiter {
  prefill(hits: number, spanMs: number): number {
    const now = nowMs();
    const perMs = Math.floor(hits / spanMs);
    let extra = hits - perMs * spanMs;
    for (let i = spanMs - 1; i >= 0; i--) {
      const n = perMs + (extra > 0 ? 1 : 0);
      if (extra > 0) extra--;
      if (n > 0) this.admit(now - i, n);
    }
    // Written now (20,000 rows), not by the timer during the measured slice that follows.
    this.flush();
    return hits;
  }
}

interface BenchBindings extends Bindings {
  RATE_LIMITER: DurableObjectNamespace<RateLimiter>;
}

export default {
  ...pulse,
  async fetch(request: Request, env: BenchBindings, ctx: ExecutionContext): Promise<Response> {
    const path = new URL(request.url).pathname;
    if (path === "/__bench/project-limit") {
      const body = (await request.json()) as { project_id: string; per_minute: number };
      await env.DB.prepare("UPDATE projects SET rate_limit_per_min = ? WHERE id = ?").bind(body.per_minute, body.project_id).run();
      return Response.json({ ok: true });
    }
    if (path === "/__bench/prefill") {
      const body = (await request.json()) as { project_id: string; hits: number; span_ms: number };
      const stub = env.RATE_LIMITER.get(env.RATE_LIMITER.idFromName(`project:${body.project_id}`));
      return Response.json({ hits: await stub.prefill(body.hits, body.span_ms) });
    }
    if (path === "/__bench/pending-messages") {
      const body = (await request.json()) as { project_id: string; endpoint_id: string; count: number };
      const now = nowMs();
      await env.DB.prepare(
        `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?1)
         INSERT INTO webhook_messages (id, project_id, endpoint_id, event_type, payload, status, attempts, source_id, next_attempt_at, created_at)
         SELECT 'msg_backlog' || i, ?2, ?3, 'participant.joined', '{"type":"participant.joined"}', 'pending', 0, 'EV_backlog' || i, ?4, ?4 FROM n`,
      )
        .bind(body.count, body.project_id, body.endpoint_id, now)
        .run();
      const row = await env.DB.prepare("SELECT COUNT(*) AS n FROM webhook_messages WHERE project_id = ? AND status = 'pending'").bind(body.project_id).first<{ n: number }>();
      return Response.json({ pending: row?.n ?? 0 });
    }
    if (path === "/__bench/usage-events") {
      const body = (await request.json()) as { project_id: string; count: number; days: number };
      const now = nowMs();
      await env.DB.prepare(
        `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?1)
         INSERT INTO usage_events (id, project_id, org_id, meter, quantity, occurred_at, source_id, room, identity, created_at)
         SELECT 'use_bench' || i, p.id, p.org_id, 'participant_minutes', 1 + i % 30, ?3 - (i * 7919 % (?4 * 86400000)), 'bench-session-' || i, 'room-' || (i % 40), 'user-' || (i % 500), ?3
         FROM n, projects p WHERE p.id = ?2`,
      )
        .bind(body.count, body.project_id, now, body.days)
        .run();
      const row = await env.DB.prepare("SELECT COUNT(*) AS n FROM usage_events WHERE project_id = ?").bind(body.project_id).first<{ n: number }>();
      return Response.json({ usage_events: row?.n ?? 0 });
    }
    if (path === "/__bench/rollup") {
      const started = Date.now();
      const result = (await CRON_JOBS["17 3 * * *"]!.usage_rollup!(env, started)) as { hours?: number } | undefined;
      return Response.json({ ms: Date.now() - started, hours: result?.hours ?? null });
    }
    if (path === "/__bench/inbound-lag") {
      const body = (await request.json()) as { since: number };
      const { results } = await env.DB.prepare(
        "SELECT processed_at - received_at AS lag FROM livekit_events WHERE received_at >= ? AND processed_at IS NOT NULL ORDER BY lag",
      )
        .bind(body.since)
        .all<{ lag: number }>();
      const unprocessed = await env.DB.prepare("SELECT COUNT(*) AS n FROM livekit_events WHERE received_at >= ? AND processed_at IS NULL").bind(body.since).first<{ n: number }>();
      const at = (q: number) => (results.length === 0 ? null : results[Math.min(results.length - 1, Math.floor(q * results.length))]!.lag);
      return Response.json({ stored: results.length + (unprocessed?.n ?? 0), unprocessed: unprocessed?.n ?? 0, lag_ms: { p50: at(0.5), p99: at(0.99), max: at(1) } });
    }
    return pulse.fetch(request, env, ctx);
  },
} satisfies ExportedHandler<BenchBindings>;
