import { applyD1Migrations } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach } from "vitest";
import { setClock } from "../src/lib/clock";

/**
 * Deployed, D1 refuses a statement with more than 100 bound parameters; the local simulator binds
 * any number. Every statement's parameters are counted here (the Worker under test shares this
 * isolate, and every D1 statement is bound through this prototype), so a query that would fail
 * on D1 fails its test too.
 */
const D1_MAX_BOUND_PARAMETERS = 100;
const statement = Object.getPrototypeOf(env.DB.prepare("SELECT 1")) as { bind(...values: unknown[]): unknown; __pulseCounted?: true };
if (!statement.__pulseCounted) {
  const bind = statement.bind;
  statement.bind = function (this: unknown, ...values: unknown[]) {
    if (values.length > D1_MAX_BOUND_PARAMETERS) throw new Error(`too many SQL variables: ${values.length} bound parameters, D1 allows ${D1_MAX_BOUND_PARAMETERS}`);
    return bind.apply(this, values);
  };
  statement.__pulseCounted = true;
}

// Setup files run before each test file; applying is idempotent (already-applied ones are skipped).
await applyD1Migrations(env.DB, env.TEST_MIGRATIONS);

afterEach(() => {
  setClock(null);
});
