/**
 * Structured JSON logs, one object per line. Callers pass fields, never request bodies or secrets:
 * the logger has no way to see them unless someone puts them in `fields`, and reviews look for that.
 *
 * Each level goes to its console method (`console.info` for info, so Workers Logs and Tail see the
 * level the line names), through a sink: `consoleSink` writes each line in its own call, the
 * request logger's may hold info lines to write them together (`held-lines.ts`). Lines below the logger's level (`LOG_LEVEL`: debug < info < warn < error,
 * default info) cost one comparison. A logger's own fields (the request id) are serialized once, when it is made, not on
 * every line.
 */
export type LogLevel = "debug" | "info" | "warn" | "error";

export const LOG_LEVELS: readonly LogLevel[] = ["debug", "info", "warn", "error"];
const RANK: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
  /** True when lines of `level` are written: check it before building costly fields. */
  enabled(level: LogLevel): boolean;
  child(fields: Record<string, unknown>): Logger;
}

/** Where a logger's finished lines go: one JSON object per line, never a partial one. */
export type LineSink = (level: LogLevel, line: string) => void;

/** Each line in its own call of the console method its level names. */
export const consoleSink: LineSink = (level, line) => {
  if (level === "error") console.error(line);
  else if (level === "warn") console.warn(line);
  else if (level === "debug") console.debug(line);
  else console.info(line);
};

/**
 * The level named by a `LOG_LEVEL` value; unset or unknown → `info` (config validation reports an
 * unknown value by name, see src/config.ts).
 */
export function logLevelOf(value: string | undefined): LogLevel {
  return value !== undefined && Object.hasOwn(RANK, value) ? (value as LogLevel) : "info";
}

/** `{"a":1,"b":2}` → `,"a":1,"b":2`: fields ready to append inside a line's object. */
function inner(fields: Record<string, unknown>): string {
  const json = JSON.stringify(fields);
  return json.length > 2 ? `,${json.slice(1, -1)}` : "";
}

/** Methods are own properties, so `{ ...logger, error: … }` (tests replacing one level) still works. */
class JsonLogger implements Logger {
  private readonly baseJson: string;

  constructor(
    private readonly base: Record<string, unknown>,
    private readonly min: number,
    private readonly sink: LineSink,
  ) {
    this.baseJson = inner(base);
  }

  private write(level: LogLevel, message: string, fields: Record<string, unknown> | undefined) {
    // Same keys and order as {level, message, time, ...base, ...fields}; a field repeating a base
    // key appears twice, and JSON readers keep the later one, as a spread would.
    this.sink(level, `{"level":"${level}","message":${JSON.stringify(message)},"time":"${new Date().toISOString()}"${this.baseJson}${fields ? inner(fields) : ""}}`);
  }

  debug = (message: string, fields?: Record<string, unknown>) => {
    if (this.min <= RANK.debug) this.write("debug", message, fields);
  };
  info = (message: string, fields?: Record<string, unknown>) => {
    if (this.min <= RANK.info) this.write("info", message, fields);
  };
  warn = (message: string, fields?: Record<string, unknown>) => {
    if (this.min <= RANK.warn) this.write("warn", message, fields);
  };
  error = (message: string, fields?: Record<string, unknown>) => {
    this.write("error", message, fields);
  };
  enabled = (level: LogLevel) => RANK[level] >= this.min;
  child = (fields: Record<string, unknown>): Logger => new JsonLogger({ ...this.base, ...fields }, this.min, this.sink);
}

export function createLogger(base: Record<string, unknown> = {}, level: LogLevel = "info", sink: LineSink = consoleSink): Logger {
  return new JsonLogger(base, RANK[level], sink);
}

/** Error details safe to log: the name and message, never a request body. */
export function describeError(error: unknown): Record<string, unknown> {
  const query = failedQuery(error);
  if (query) {
    // The D1 cause says what went wrong; the wrapper's message and stack would add the parameters.
    const cause = query.cause;
    if (cause instanceof Error) return { error_name: "DrizzleQueryError", cause_name: cause.name, error_message: cause.message, stack: cause.stack };
    return { error_name: "DrizzleQueryError", error_message: cause === undefined ? "Failed query" : String(cause) };
  }
  if (error instanceof Error) return { error_name: error.name, error_message: error.message, stack: error.stack };
  return { error_message: String(error) };
}

/** An error's message fit for a log line (a failed query's D1 cause, never its parameters). */
export function errorMessage(error: unknown): string {
  return String(describeError(error).error_message);
}

/**
 * Drizzle's DrizzleQueryError: its message is `Failed query: <sql>\nparams: <values>`, and the
 * values are what people typed or what Pulse hashed (emails, token hashes, webhook URLs).
 */
function failedQuery(error: unknown): (Error & { cause?: unknown }) | null {
  if (!(error instanceof Error)) return null;
  const e = error as Error & { params?: unknown; query?: unknown };
  return typeof e.query === "string" && Array.isArray(e.params) ? error : null;
}
