/**
 * Bench floor: a bare Hono Worker that makes one Durable Object RPC per request (an in-memory
 * counter, no storage) and answers JSON. Any request path and method is accepted, so the bench
 * sends it exactly the request it sends Pulse's token endpoint.
 */
import { DurableObject } from "cloudflare:workers";
import { Hono } from "hono";

interface Env {
  COUNTER: DurableObjectNamespace<Counter>;
}

export class Counter extends DurableObject<Env> {
  private count = 0;

  hit(): number {
    return ++this.count;
  }
}

const app = new Hono<{ Bindings: Env }>();
app.all("*", async (c) => {
  const count = await c.env.COUNTER.get(c.env.COUNTER.idFromName("floor")).hit();
  return c.json({ count }, 201);
});

export default app;
