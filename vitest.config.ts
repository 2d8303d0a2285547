import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    // Request logs are part of what tests check; show them only for failing tests.
    silent: "passed-only",
    // Test files spend much of their time waiting on workerd (D1, queues, timers) or a browser:
    // two at a time keep both cores of a two-core machine busy, where the default would run one.
    maxWorkers: 2,
    projects: [
      {
        // Everything but the browser tests runs inside workerd against real D1, Durable Objects and Queues.
        plugins: [
          cloudflareTest(async () => ({
            main: "./src/index.ts",
            wrangler: { configPath: "./wrangler.toml" },
            miniflare: {
              // The migrations are read here in Node and applied inside workerd by test/setup.ts.
              bindings: {
                TEST_MIGRATIONS: await readD1Migrations("./migrations"),
                // Fake LiveKit Twirp API (answered by test fetch stubs; never a real host).
                LIVEKIT_API_URL: "http://livekit.test",
                // Fake DNS-over-HTTPS resolver (test/support/fake-dns.ts; never a real one).
                DOH_URL: "https://dns.test/dns-query",
                // One console call per line, as deployed, so tests that read log lines see each one
                // as it is written; the held-lines tests turn holding on per request.
                LOG_BATCH_MS: "0",
              },
            },
          })),
        ],
        test: {
          name: "workers",
          // The pool inlines every dependency, so without pre-bundling each test file loads zod,
          // hono, drizzle, jose and LiveKit's packages module by module through Vite: about 40 % of
          // a file's set-up time. Bundled once per run, each is one module.
          deps: {
            optimizer: {
              ssr: {
                enabled: true,
                include: [
                  "hono", "hono/cookie", "hono/cors", "hono/http-exception", "hono/jsx", "hono/jsx/jsx-runtime",
                  "hono/method-not-allowed", "hono/route", "hono/utils/http-status",
                  "@hono/zod-openapi", "zod", "drizzle-orm", "drizzle-orm/d1", "drizzle-orm/sqlite-core",
                  "jose", "@livekit/protocol", "livekit-server-sdk", "standardwebhooks",
                ],
              },
            },
          },
          setupFiles: ["./test/setup.ts"],
          include: ["test/**/*.test.ts"],
          exclude: ["test/browser/**", "test/docs/**"],
          testTimeout: 30_000,
          hookTimeout: 30_000,
        },
      },
      {
        // The dashboard in real Chromium (@sparticuz/chromium) against a `wrangler dev` the test starts.
        test: {
          name: "browser",
          environment: "node",
          include: ["test/browser/**/*.test.ts"],
          testTimeout: 180_000,
          hookTimeout: 120_000,
        },
      },
      {
        // The docs' runnable examples and the OpenAPI document's clients, against a `wrangler dev` the test starts.
        test: {
          name: "docs",
          environment: "node",
          include: ["test/docs/**/*.test.ts"],
          testTimeout: 90_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
