import { applyD1Migrations } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach } from "vitest";
import { setClock } from "../src/lib/clock";

// Setup files run before each test file; applying is idempotent (already-applied ones are skipped).
await applyD1Migrations(env.DB, env.TEST_MIGRATIONS);

afterEach(() => {
  setClock(null);
});
