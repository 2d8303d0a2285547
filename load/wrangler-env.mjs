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
 */
export const DEVTOOLS = process.env.BENCH_DEVTOOLS === "on";
export const WRANGLER_ENV = { ...process.env, CI: "1", WRANGLER_SEND_METRICS: "false", ...(DEVTOOLS ? {} : { VSCODE_INSPECTOR_OPTIONS: "pulse-bench" }) };
