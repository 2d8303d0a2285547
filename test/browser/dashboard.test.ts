/**
 * The dashboard in real Chromium against a real `wrangler dev`: a new user signs up, creates an
 * org, a project and an API key (copying its secret), mints a token in the playground, sends a test
 * webhook to a local receiver and sees it delivered in the log, invites a colleague who accepts in
 * a second browser, and sees the usage chart with the tokens minted. Every page is screenshotted
 * at 1280 and 390 px into SCREENSHOT_DIR, and any console error or CSP violation fails the test.
 */
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, Page } from "playwright-core";
import { launchBrowser, screenshots, startReceiver, startWorker, watchedContext, type Worker } from "./harness";

/** Where the screenshots go (ignored by git). */
export const SCREENSHOT_DIR = join(import.meta.dirname, "..", "..", "test-results", "screenshots");

const PASSWORD = "correct horse battery staple";
const unique = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;

let worker: Worker;
let browser: Browser;
let receiver: Awaited<ReturnType<typeof startReceiver>>;
const problems: string[] = [];

beforeAll(async () => {
  [worker, browser, receiver] = await Promise.all([startWorker(), launchBrowser(), startReceiver()]);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await receiver?.stop();
  await worker?.stop();
});

async function shoot(page: Page, name: string) {
  await screenshots(page, SCREENSHOT_DIR, name);
}

/** Follows a sidebar link (the page also links some sections from its content). */
async function nav(page: Page, name: string) {
  await Promise.all([page.waitForURL(() => true), page.locator(".sidebar").getByRole("link", { name, exact: true }).click()]);
  await page.waitForLoadState("load");
}

async function submit(page: Page, button: string) {
  await Promise.all([page.waitForLoadState("load"), page.getByRole("button", { name: button, exact: true }).first().click()]);
  await page.waitForLoadState("load");
}

/** The org's base path, from the sidebar of an org or project page. */
function orgUrlOf(page: Page): Promise<string> {
  return page
    .locator(".sidebar a", { hasText: "Settings" })
    .getAttribute("href")
    .then((href) => href!.replace(/\/settings$/, ""));
}

/** The newest link to `path` mailed to `email` (from the dev mailbox), as a URL. */
async function mailedLink(email: string, path: string): Promise<URL> {
  let link: string | undefined;
  await expect
    .poll(async () => {
      const res = await fetch(`${worker.url}/v1/dev/mailbox?to=${encodeURIComponent(email)}`);
      const { data } = (await res.json()) as { data: { text: string }[] };
      link = data.map((m) => new RegExp(`https?://\\S*${path}[?#]token=[^\\s]+`).exec(m.text)?.[0]).find(Boolean);
      return link;
    }, { timeout: 10_000 })
    .toBeTruthy();
  return new URL(link!);
}

/**
 * Confirms `email` the way a person would: reads the newest verification mail from the dev mailbox,
 * opens its link (on this test's worker, whatever PUBLIC_URL says) and presses the button. With
 * `fragment`, the link carries its token as `#token=` instead, which only the page's script sees.
 */
async function confirmEmail(page: Page, email: string, via: "query" | "fragment" = "query") {
  const url = await mailedLink(email, "/verify-email");
  const token = url.searchParams.get("token")!;
  await page.goto(`${worker.url}${url.pathname}${via === "query" ? url.search : `#token=${encodeURIComponent(token)}`}`);
  if (via === "fragment") expect(new URL(page.url()).hash).toBe(""); // moved into the form, out of the address bar
  await submit(page, "Confirm email");
  expect(new URL(page.url()).pathname).toBe("/account");
  expect(await page.locator(".flash-ok").textContent()).toContain("confirmed");
  await page.locator("#profile").getByText("verified", { exact: true }).waitFor();
}

describe("the dashboard in a real browser", () => {
  it("takes a new team from sign-up to a delivered webhook, a teammate and a usage chart", async () => {
    const owner = `ada+${unique}@example.com`;
    const context = await watchedContext(browser, problems);
    await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: worker.url });
    const page = await context.newPage();

    // Signed out, the dashboard sends you to the login page.
    await page.goto(`${worker.url}/`);
    expect(new URL(page.url()).pathname).toBe("/login");
    await shoot(page, "01-login");

    await page.getByRole("link", { name: "Create an account" }).click();
    await shoot(page, "02-signup");
    await page.getByLabel("Your name", { exact: true }).fill("Ada Lovelace");
    await page.getByLabel("Work email", { exact: true }).fill(owner);
    await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
    await submit(page, "Create account");

    // A new account starts by creating its organization; the emailed link confirms the address.
    expect(new URL(page.url()).pathname).toBe("/orgs/new");
    await confirmEmail(page, owner);
    await page.goto(`${worker.url}/orgs/new`);
    await shoot(page, "03-new-org");
    await page.getByLabel("Organization name", { exact: true }).fill("Analytical Engines");
    await submit(page, "Create organization");
    expect(page.url()).toMatch(/\/orgs\/org_/);
    expect(await page.locator("summary").textContent()).toContain("Analytical Engines");

    await page.getByLabel("Project name", { exact: true }).fill("Video app");
    await submit(page, "Create project");
    expect(page.url()).toMatch(/\/projects\/proj_/);
    const projectUrl = page.url();
    await shoot(page, "04-project");

    // An API key: its secret is shown once, and the copy button puts it on the clipboard.
    await nav(page, "API keys");
    await page.getByLabel("Name", { exact: true }).fill("backend");
    await submit(page, "Create key");
    const secret = (await page.locator("#secret-value").textContent()) ?? "";
    expect(secret).toMatch(/^pulse_/);
    await page.getByRole("button", { name: "Copy" }).click();
    await expect.poll(() => page.evaluate(() => navigator.clipboard.readText())).toBe(secret);
    await shoot(page, "05-keys-secret");
    await page.reload();
    expect(await page.content()).not.toContain(secret);
    await page.getByRole("cell", { name: "backend", exact: true }).waitFor();
    await shoot(page, "06-keys");

    // The key really authenticates against the API.
    const minted = await fetch(`${worker.url}/v1/tokens`, {
      method: "POST",
      headers: { Authorization: `Bearer ${secret}`, "Content-Type": "application/json" },
      body: JSON.stringify({ identity: "server-side", room: "standup" }),
    });
    expect(minted.status).toBe(201);

    // The token playground mints a token and shows its claims and the LiveKit URL.
    await nav(page, "Token playground");
    await page.getByLabel("Identity", { exact: true }).fill("alice");
    await page.getByLabel("Room", { exact: true }).fill("standup");
    await submit(page, "Mint token");
    const claims = JSON.parse((await page.locator("#claims").textContent()) ?? "{}");
    expect(claims.sub).toBe("alice");
    expect(claims.video.room).toMatch(/^proj_.+:standup$/);
    expect(claims.video.roomJoin).toBe(true);
    expect(await page.locator("#livekit-url").textContent()).toMatch(/^wss?:\/\//);
    await shoot(page, "07-playground");

    // A webhook endpoint on a local receiver: a test event shows up delivered in the log.
    await nav(page, "Webhooks");
    await page.getByLabel("Endpoint URL", { exact: true }).fill(receiver.url);
    await submit(page, "Add endpoint");
    expect(await page.locator("#secret-value").textContent()).toMatch(/^whsec_/);
    await submit(page, "Send test event");
    await expect.poll(() => receiver.received.length, { timeout: 20_000 }).toBeGreaterThan(0);
    expect(JSON.parse(receiver.received[0]!.body).type).toBe("webhook.test");
    expect(receiver.received[0]!.headers["webhook-signature"]).toMatch(/^v1,/);
    // The log refreshes itself: no reload needed to see the delivery.
    await expect.poll(() => page.locator("#delivery-log").textContent(), { timeout: 20_000 }).toContain("delivered");
    expect(await page.locator("#delivery-log").textContent()).toContain("HTTP 200");
    await shoot(page, "08-webhook");

    // Invite a teammate: the link is shown once.
    await nav(page, "Team");
    const teammate = `grace+${unique}@example.com`;
    await page.getByLabel("Email", { exact: true }).fill(teammate);
    await page.getByLabel("Role", { exact: true }).selectOption("admin");
    await submit(page, "Create invitation");
    const acceptUrl = (await page.locator("#secret-value").textContent()) ?? "";
    expect(acceptUrl).toContain("/invitations/accept#token=");
    await shoot(page, "09-team");

    // The teammate, signed out in another browser, signs up from the link and joins.
    const other = await watchedContext(browser, problems);
    const invitee = await other.newPage();
    await invitee.goto(acceptUrl);
    expect(invitee.url()).not.toContain("token=");
    await shoot(invitee, "10-accept-signed-out");
    await submit(invitee, "Create an account");
    await invitee.getByLabel("Your name", { exact: true }).fill("Grace Hopper");
    await invitee.getByLabel("Work email", { exact: true }).fill(teammate);
    await invitee.getByLabel("Password", { exact: true }).fill(PASSWORD);
    await submit(invitee, "Create account");
    expect(new URL(invitee.url()).pathname).toBe("/invitations/accept");
    // Joining an organization needs a confirmed email address.
    await confirmEmail(invitee, teammate, "fragment");
    await invitee.goto(acceptUrl);
    await shoot(invitee, "11-accept-signed-in");
    await submit(invitee, "Accept invitation");
    expect(invitee.url()).toMatch(/\/orgs\/org_/);
    expect(await invitee.locator(".flash-ok").textContent()).toContain("joined as admin");
    await nav(invitee, "Team");
    await invitee.getByRole("cell", { name: owner, exact: true }).waitFor();

    // The usage page draws the tokens minted above.
    await page.goto(`${projectUrl}/usage`);
    expect(await page.locator('[data-meter="tokens_issued"]').textContent()).toMatch(/^[1-9]/);
    const heights = await page.locator("#chart-tokens_issued rect.bar").evaluateAll((bars) => bars.map((b) => Number(b.getAttribute("height"))));
    expect(Math.max(...heights)).toBeGreaterThan(0);
    await shoot(page, "12-usage");

    for (const path of ["/settings", "/billing", "/audit"]) {
      const orgUrl = (await page.locator(".sidebar a", { hasText: "Settings" }).getAttribute("href"))!.replace(/\/settings$/, "");
      await page.goto(`${worker.url}${orgUrl}${path}`);
      await shoot(page, `13-org${path.replace("/", "-")}`);
    }
    await page.goto(`${worker.url}${await orgUrlOf(page)}/team`);
    await shoot(page, "13-org-team");

    // Rooms: none live yet (the dev LiveKit is not running), and the sessions history is empty.
    await page.goto(projectUrl);
    await nav(page, "Rooms");
    await page.getByText("No live rooms").waitFor();
    await shoot(page, "14-rooms");
    await Promise.all([page.waitForURL(/\/sessions$/), page.getByRole("link", { name: "Sessions history" }).click()]);
    await page.getByText("No sessions yet").waitFor();
    await shoot(page, "15-sessions");

    // A LiveKit key: the secret is shown once with a copy button.
    await nav(page, "LiveKit keys");
    await page.getByLabel("Label (optional)", { exact: true }).fill("media server");
    await submit(page, "Create LiveKit key");
    expect(await page.locator("#secret-value").textContent()).toMatch(/^[0-9A-Za-z]{43,}$/);
    await page.getByRole("cell", { name: "media server", exact: true }).waitFor();
    await shoot(page, "16-livekit-keys");

    for (const [link, name] of [["Egress", "17-egress"], ["Ingress", "18-ingress"], ["Overview", "04-project-overview"]] as const) {
      await nav(page, link);
      await shoot(page, name);
    }

    // The account page lists this browser's session.
    await page.goto(`${worker.url}/account`);
    await page.locator("#sessions").getByText("this session", { exact: true }).waitFor();
    await shoot(page, "19-account");

    // Forgot password → the mailed link → a new password; every session is signed out.
    const visitor = await watchedContext(browser, problems);
    const anon = await visitor.newPage();
    await anon.goto(`${worker.url}/login`);
    await Promise.all([anon.waitForURL(/\/forgot-password$/), anon.getByRole("link", { name: "Forgot your password?" }).click()]);
    await shoot(anon, "20-forgot-password");
    await anon.getByLabel("Email", { exact: true }).fill(owner);
    await submit(anon, "Email me a link");
    expect(new URL(anon.url()).pathname).toBe("/login");
    const resetLink = await mailedLink(owner, "/reset-password");
    await anon.goto(`${worker.url}${resetLink.pathname}${resetLink.search}`);
    await shoot(anon, "21-reset-password");
    await anon.getByLabel("New password", { exact: true }).fill(`${PASSWORD} renewed`);
    await submit(anon, "Set new password");
    expect(new URL(anon.url()).pathname).toBe("/login");
    expect(await anon.locator(".flash-ok").textContent()).toContain("signed out everywhere");
    await anon.getByLabel("Email", { exact: true }).fill(owner);
    await anon.getByLabel("Password", { exact: true }).fill(`${PASSWORD} renewed`);
    await submit(anon, "Sign in");
    expect(new URL(anon.url()).pathname).toMatch(/^\/orgs\/org_/);
    // The first browser was signed out by the reset.
    await page.goto(`${worker.url}/account`);
    expect(new URL(page.url()).pathname).toBe("/login");
    expect(problems).toEqual([]);
  }, 360_000);
});
