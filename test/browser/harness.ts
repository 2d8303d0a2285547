/**
 * What the browser tests run against: a real `wrangler dev` (fresh `--persist-to` directory with
 * the local migrations applied, on a free port), Chromium from `@sparticuz/chromium` driven by
 * playwright-core, and a local webhook receiver. Every page is watched for console errors and
 * CSP violations; any one fails the test.
 */
import { mkdirSync } from "node:fs";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import chromium from "@sparticuz/chromium";
import { chromium as playwright, type Browser, type BrowserContext, type Page } from "playwright-core";

export { freePort, startWorker, type Worker } from "../support/wrangler-dev";

export interface Received {
  headers: IncomingMessage["headers"];
  body: string;
}

/** A tenant's webhook receiver on 127.0.0.1: answers 200 and keeps what it got. */
export async function startReceiver(): Promise<{ url: string; received: Received[]; stop(): Promise<void> }> {
  const received: Received[] = [];
  const server: Server = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk) => (body += chunk));
    req.on("end", () => {
      received.push({ headers: req.headers, body });
      res.writeHead(200, { "Content-Type": "text/plain" }).end("ok");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/hooks/pulse`, received, stop: () => new Promise((resolve) => server.close(() => resolve())) };
}

export async function launchBrowser(): Promise<Browser> {
  return playwright.launch({ executablePath: await chromium.executablePath(), args: chromium.args, headless: true });
}

/**
 * A browser context whose pages fail the test on any console error, uncaught exception or CSP
 * violation (Chromium reports those on the console and as `securitypolicyviolation` events).
 */
export async function watchedContext(browser: Browser, problems: string[]): Promise<BrowserContext> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  await context.addInitScript(() => {
    document.addEventListener("securitypolicyviolation", (e) => {
      console.error(`CSP violation: ${e.violatedDirective} blocked ${e.blockedURI}`);
    });
  });
  context.on("page", (page) => watchPage(page, problems));
  return context;
}

function watchPage(page: Page, problems: string[]) {
  page.on("console", (msg) => {
    if (msg.type() === "error") problems.push(`console error on ${page.url()}: ${msg.text()}`);
  });
  page.on("pageerror", (error) => problems.push(`uncaught exception on ${page.url()}: ${error.message}`));
  page.on("dialog", (dialog) => void dialog.accept());
}

/** Screenshots of the current page at 1280 and 390 px wide, full height. */
export async function screenshots(page: Page, dir: string, name: string) {
  mkdirSync(dir, { recursive: true });
  const size = page.viewportSize() ?? { width: 1280, height: 900 };
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.screenshot({ path: join(dir, `${name}-1280.png`), fullPage: true });
  await page.setViewportSize({ width: 390, height: 844 });
  await page.screenshot({ path: join(dir, `${name}-390.png`), fullPage: true });
  await page.setViewportSize(size);
}
