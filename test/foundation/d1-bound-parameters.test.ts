/**
 * D1 refuses a statement with more than 100 bound parameters; the local simulator does not, so
 * test/setup.ts counts them for every statement. This checks the count is in force, so the rest of
 * the suite would catch a query that fails deployed.
 */
import { env } from "cloudflare:workers";
import { expect, it } from "vitest";

const select = (n: number) => env.DB.prepare(`SELECT ${Array.from({ length: n }, () => "?").join(", ")}`);
const values = (n: number) => Array.from({ length: n }, (_, i) => i);

it("holds every statement to D1's 100 bound parameters", async () => {
  expect(await select(100).bind(...values(100)).raw()).toEqual([values(100)]);
  expect(() => select(101).bind(...values(101))).toThrow(/too many SQL variables: 101/);
});
