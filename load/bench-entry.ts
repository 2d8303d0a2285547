/**
 * Pulse as `npm run bench` runs it: the production Worker (src/index.ts) unchanged, plus two
 * bench-only hooks under `/__bench/` that set up state no public API creates quickly. This file is
 * passed to `wrangler dev` by load/bench.mjs only; it is never deployed and never part of the tests.
 *
 * - `POST /__bench/project-limit {project_id, per_minute}`: sets `projects.rate_limit_per_min`, as an
 *   operator does in D1 (there is no API for it).
 * - `POST /__bench/prefill {project_id, hits, span_ms}`: puts `hits` admitted hits, spread evenly over
 *   the last `span_ms`, into the project's limiter window, through the limiter's own `admit()`.
 */
import pulse, { RateLimiter as PulseRateLimiter } from "../src/index";
import type { Bindings } from "../src/env";
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
    return pulse.fetch(request, env, ctx);
  },
} satisfies ExportedHandler<BenchBindings>;
