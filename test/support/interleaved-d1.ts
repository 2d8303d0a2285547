/**
 * A D1 binding on which another request's write lands at a chosen moment: `meanwhile` runs once,
 * just before the first batch holding a statement whose SQL matches `match` (a service's write,
 * after the reads it made). For races a single request cannot otherwise show.
 */
export function interleavedD1(real: D1Database, match: RegExp, meanwhile: () => Promise<unknown>): { db: D1Database; ran: () => boolean } {
  let ran = false;
  const sqlOf = new WeakMap<D1PreparedStatement, string>();
  const db = new Proxy(real, {
    get(target, prop) {
      if (prop === "prepare") {
        return (query: string) => {
          const statement = target.prepare(query);
          const bind = statement.bind.bind(statement);
          statement.bind = (...values: unknown[]) => {
            const bound = bind(...values);
            sqlOf.set(bound, query);
            return bound;
          };
          sqlOf.set(statement, query);
          return statement;
        };
      }
      if (prop === "batch") {
        return async (statements: D1PreparedStatement[]) => {
          if (!ran && statements.some((st) => match.test(sqlOf.get(st) ?? ""))) {
            ran = true;
            await meanwhile();
          }
          return target.batch(statements);
        };
      }
      const value = Reflect.get(target, prop, target) as unknown;
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return { db, ran: () => ran };
}
