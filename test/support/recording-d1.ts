/**
 * A D1 binding that records every statement it prepares, with its binds, so its plan can be asked
 * for with the same binds (`EXPLAIN QUERY PLAN`). No test-runner imports: the query-plan tests and
 * the data bench's Worker (load/bench-worker.ts) both use it.
 */
export interface RecordedStatement {
  sql: string;
  params: unknown[];
}

/** A D1 binding that forwards to `real` and appends every prepared statement (with its binds) to `log`. */
export function recordingD1(real: D1Database, log: RecordedStatement[]): D1Database {
  return new Proxy(real, {
    get(target, prop) {
      if (prop === "prepare") {
        return (query: string) => {
          const entry: RecordedStatement = { sql: query, params: [] };
          log.push(entry);
          const statement = target.prepare(query);
          const bind = statement.bind.bind(statement);
          statement.bind = (...values: unknown[]) => {
            entry.params = values;
            return bind(...values);
          };
          return statement;
        };
      }
      const value = Reflect.get(target, prop, target) as unknown;
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}
