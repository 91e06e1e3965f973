// node scripts/smoke.mjs URL JID PASSWORD [OUTDIR]: a quick look at the
// console in Debian's chromium (playwright-core, no browser download): logs
// in, waits for the fleet, opens the first device, runs diagnostics, saves
// screenshots and prints what it saw. Not a test suite (web/test/ is).
import { chromium } from "playwright-core";
import { mkdtempSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const [url, jid, password, out = "/tmp/console-smoke"] = process.argv.slice(2);
if (!url || !jid || !password) {
  console.error("usage: node scripts/smoke.mjs URL JID PASSWORD [OUTDIR]");
  process.exit(2);
}
mkdirSync(out, { recursive: true });
const browser = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), "console-smoke-")), {
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  headless: true,
  viewport: { width: 1400, height: 900 },
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
const page = browser.pages()[0] ?? await browser.newPage();
page.on("console", (m) => { if (m.type() === "error" || m.type() === "warning") console.log(`[page ${m.type()}] ${m.text()}`); });
page.on("pageerror", (e) => console.log(`[page error] ${e.message}`));
const t0 = Date.now();
await page.goto(url);
await page.getByTestId("login-jid").fill(jid);
await page.getByTestId("login-password").fill(password);
await page.getByTestId("login-submit").click();
await page.getByTestId("session-jid").waitFor({ timeout: 15000 });
await page.locator("[data-testid=device-row]").first().waitFor({ timeout: 15000 });
await page.waitForFunction(() => document.querySelector("[data-testid=device-row] [data-testid=device-firmware]")?.textContent !== "–", null, { timeout: 15000 }).catch(() => {});
const s = page.getByTestId("fleet-summary");
console.log(`fleet after ${Date.now() - t0} ms:`, JSON.stringify(await s.evaluate((e) => ({ ...e.dataset }))),
  "rows in DOM:", await page.locator("[data-testid=device-row]").count());
await page.screenshot({ path: join(out, "fleet.png") });
const first = page.locator("[data-testid=device-row]").first();
console.log("first row:", await first.getAttribute("data-jid"), await first.getAttribute("data-health"), "|",
  await first.getByTestId("device-last").textContent(), "|", await first.getByTestId("device-age").textContent());
await first.click();
await page.getByTestId("device-view").waitFor();
await page.locator("[data-testid=command-button]").first().waitFor({ timeout: 15000 }).catch(() => {});
await page.waitForTimeout(2500);
console.log("charts:", await page.locator("[data-testid=channel-chart]").evaluateAll((es) => es.map((e) => `${e.dataset.channel}=${e.dataset.points}`).join(" ")));
console.log("toggles:", await page.locator("[data-testid=actuator-toggle]").evaluateAll((es) => es.map((e) => `${e.dataset.channel}=${e.dataset.value}`).join(" ")));
console.log("commands:", await page.locator("[data-testid=command-button]").evaluateAll((es) => es.map((e) => e.dataset.node).join(" ")));
await page.screenshot({ path: join(out, "device.png"), fullPage: true });
const diag = page.locator("[data-testid=command-button][data-node=diagnostics]");
if (await diag.count()) {
  await diag.click();
  await page.getByTestId("command-result").waitFor({ timeout: 10000 });
  console.log("diagnostics:", (await page.getByTestId("command-result").textContent()).slice(0, 200));
}
const set = page.locator("[data-testid=command-button][data-node=set]");
if (await set.count()) {
  await set.click();
  await page.getByTestId("command-form").waitFor({ timeout: 10000 });
  console.log("set form stage", await page.getByTestId("command-form").getAttribute("data-stage"),
    "buttons:", await page.locator("[data-testid^=form-]").evaluateAll((es) => es.map((e) => e.dataset.testid).join(" ")));
  await page.screenshot({ path: join(out, "set-form.png"), fullPage: true });
}
console.log("alarms:", await page.locator("[data-testid=alarm-item]").count(), await page.getByTestId("alarm-status").textContent());
await browser.close();
