/**
 * Streaming export of a filtered audit range as NDJSON or CSV. Rows are read in keyset pages and
 * written as they arrive, so an export of any size never holds more than one page in memory.
 */
import type { Database } from "../db/client";
import { encodeCursor } from "../lib/pagination";
import { type AuditEntryJson, type AuditFilters, serializeAudit } from "./schemas";
import { fetchAuditPage } from "./service";

const PAGE = 500;

export const CSV_COLUMNS = [
  "id",
  "created_at",
  "org_id",
  "project_id",
  "actor_type",
  "actor_id",
  "action",
  "resource_type",
  "resource_id",
  "ip",
  "user_agent",
  "request_id",
  "metadata",
] as const;

/** RFC 4180 field: quoted when it holds a comma, quote or line break; cells that a spreadsheet would run as a formula are prefixed with `'`. */
export function csvField(value: unknown): string {
  let text = value === null || value === undefined ? "" : typeof value === "string" ? value : JSON.stringify(value);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

function csvRow(entry: AuditEntryJson): string {
  return CSV_COLUMNS.map((col) => csvField(entry[col])).join(",") + "\r\n";
}

export function exportAudit(db: Database, orgId: string, filters: AuditFilters, format: "ndjson" | "csv"): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  let cursor: string | undefined;
  let headerSent = format !== "csv";
  let done = false;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (!headerSent) {
        headerSent = true;
        controller.enqueue(encoder.encode(CSV_COLUMNS.join(",") + "\r\n"));
        return;
      }
      if (done) {
        controller.close();
        return;
      }
      const rows = await fetchAuditPage(db, orgId, filters, PAGE, cursor);
      if (rows.length < PAGE) done = true;
      const last = rows[rows.length - 1];
      if (last) cursor = encodeCursor({ t: last.createdAt, id: last.id });
      const chunk = rows.map((r) => {
        const entry = serializeAudit(r);
        return format === "csv" ? csvRow(entry) : JSON.stringify(entry) + "\n";
      });
      if (chunk.length > 0) controller.enqueue(encoder.encode(chunk.join("")));
      if (done) controller.close();
    },
  });
}
