import { defineConfig } from "drizzle-kit";

// `npm run db:generate` turns src/db/schema.ts into the next SQL file in migrations/,
// which wrangler (dev, deploy) and the test setup apply in order.
export default defineConfig({
  dialect: "sqlite",
  schema: "./src/db/schema.ts",
  out: "./migrations",
});
