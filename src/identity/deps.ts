/** What the account services need (a subset of the shared `Deps`; never a Hono context). */
import type { Deps } from "../deps";

export type AccountDeps = Pick<Deps, "db" | "config" | "logger" | "limiter" | "queue" | "background">;
