import { join } from "node:path";

/**
 * The environment every server the benches start runs `wrangler` with.
 *
 * `wrangler dev` attaches its DevTools inspector proxy to the Worker and turns on the inspector's
 * Network domain, so every console call and every subrequest (each D1 query, each Durable Object
 * call, each outbound fetch, with its body) is reported to the proxy, which posts each report to
 * wrangler's Node process over a new local connection. That costs more CPU per subrequest than the
 * subrequest itself (see load/README.md); production has no such path. Wrangler skips the proxy
 * when it runs under a VS Code debug terminal, which it detects by VSCODE_INSPECTOR_OPTIONS; the
 * benches set it (for every server alike) unless BENCH_DEVTOOLS=on. Log lines then travel
 * workerd's stdout to wrangler, as `wrangler dev`'s structured logs.
 *
 * Wrangler also appends every line it handles, whatever `--log-level` shows, to a debug log file
 * (by default under the user's `~/.config/.wrangler/logs`: a bench run's request lines came to
 * hundreds of megabytes there). `WRANGLER_LOG_PATH` keeps that file in the bench's own directory,
 * removed or kept with the rest of the run's state.
 */
export const DEVTOOLS = process.env.BENCH_DEVTOOLS === "on";

/** `wrangler`'s environment for a bench whose state lives in `workDir`. */
export function wranglerEnv(workDir) {
  return {
    ...process.env,
    CI: "1",
    WRANGLER_SEND_METRICS: "false",
    WRANGLER_LOG_PATH: join(workDir, "wrangler-debug.log"),
    ...(DEVTOOLS ? {} : { VSCODE_INSPECTOR_OPTIONS: "pulse-bench" }),
  };
}
