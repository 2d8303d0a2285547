import { nowMs } from "./clock";
import { consoleSink, type LineSink } from "./logger";

/**
 * A sink that writes an isolate's info lines in as few `console` calls as the load allows
 * (`LOG_BATCH_MS`). Under `wrangler dev` every `console` call costs about 0.8 ms of CPU across
 * workerd and wrangler's Node process (which appends each call to its debug log file), more than
 * a whole request to a bare Worker; the cost is per call, not per byte. Deployed, each call is
 * one Workers Logs event, indexed as JSON and shown with its own invocation, so production keeps
 * one call per line (`LOG_BATCH_MS=0`, the default).
 *
 * When no window is open (idle), a line is written at once, in its own call, and opens a window
 * of `windowMs`: info lines written by any request of the isolate meanwhile are held and written
 * together when it closes, one JSON object per line of that call. Warnings, errors and debug lines
 * are never held: they first write what is held, so lines keep their order. The timer that closes
 * a window is kept alive by the `waitUntil` of the request that opened it, so a held line is not
 * lost when the requests that wrote it have finished.
 */
const MAX_HELD_LINES = 200;
export const MAX_LOG_BATCH_MS = 1000;

/** The open window: the lines it holds, and when it opened. */
interface Window {
  lines: string[];
  openedAt: number;
}

let open: Window | null = null;

/**
 * The window a `LOG_BATCH_MS` value asks for; unset, malformed or out of range → 0, one call per
 * line (config validation reports a bad value by name, see src/config.ts).
 */
export function logBatchMsOf(value: string | undefined): number {
  const ms = value === undefined || value === "" ? 0 : Number(value);
  return Number.isInteger(ms) && ms > 0 && ms <= MAX_LOG_BATCH_MS ? ms : 0;
}

/** Writes the window's held lines now, in one call; the window stays open. */
function release(window: Window): void {
  if (window.lines.length > 0) {
    consoleSink("info", window.lines.join("\n"));
    window.lines = [];
  }
}

function close(window: Window): void {
  release(window);
  if (open === window) open = null;
}

export function holdingSink(windowMs: number, keepAlive: (work: Promise<unknown>) => void): LineSink {
  return (level, line) => {
    if (level !== "info") {
      if (open) release(open);
      consoleSink(level, line);
      return;
    }
    if (open && nowMs() - open.openedAt < 2 * windowMs) {
      open.lines.push(line);
      if (open.lines.length >= MAX_HELD_LINES) release(open);
      return;
    }
    // A window still open at twice its length lost its timer (the request keeping it was cut
    // short): write what it holds rather than hold lines for ever.
    if (open) close(open);
    consoleSink(level, line);
    const window: Window = { lines: [], openedAt: nowMs() };
    open = window;
    keepAlive(
      new Promise<void>((resolve) =>
        setTimeout(() => {
          close(window);
          resolve();
        }, windowMs),
      ),
    );
  };
}
