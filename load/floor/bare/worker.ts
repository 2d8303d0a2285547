/** Bench floor: the cheapest Hono Worker answering what Pulse's /health answers. */
import { Hono } from "hono";

const app = new Hono();
app.get("/health", (c) => c.json({ status: "ok" }));

export default app;
