// node scripts/flows.mjs URL JID PASSWORD DEVICE [OUTDIR]: walks the
// interactive flows on one device (toggle, multi-stage set with prev/next,
// a refused value, search/filter, alarms) and prints what it saw.
import { chromium } from "playwright-core";
import { mkdtempSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const [url, jid, password, device, out = "/tmp/console-flows"] = process.argv.slice(2);
mkdirSync(out, { recursive: true });
const ctx = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), "console-flows-")), {
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium", headless: true, viewport: { width: 1400, height: 900 },
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
const page = ctx.pages()[0] ?? await ctx.newPage();
page.on("pageerror", (e) => console.log(`[page error] ${e.message}`));
page.on("console", (m) => { if (m.type() === "error") console.log(`[console] ${m.text()}`); });
const T = (id) => page.getByTestId(id);
await page.goto(url);
// wrong password first
await T("login-jid").fill(jid);
await T("login-password").fill("wrong");
await T("login-submit").click();
await T("login-error").waitFor();
console.log("wrong password:", await T("login-error").textContent());
await T("login-password").fill(password);
await T("login-submit").click();
await T("session-jid").waitFor();
await page.locator("[data-testid=device-row]").first().waitFor();
await T("fleet-search").fill(device.split("@")[0]);
await page.waitForTimeout(200);
console.log("search rows:", await page.locator("[data-testid=device-row]").count());
await T("fleet-filter").selectOption("offline");
await page.waitForTimeout(200);
console.log("offline rows:", await page.locator("[data-testid=device-row]").count(), await page.locator("[data-testid=device-row]").evaluateAll((es) => es.map((e) => e.dataset.jid + "/" + e.dataset.health + "/" + e.style.transform).join(" ")));
await T("fleet-filter").selectOption("all");
await T("fleet-search").fill("");
const { execFileSync } = await import("node:child_process");
if (process.env.ENV_JSON) {
  execFileSync("/usr/bin/python3", [new URL("./send-alarm.py", import.meta.url).pathname, process.env.ENV_JSON, "viewer", "alarms@conference.localhost", device, "env0.temperature", "alarm", "31.2"], { stdio: "ignore" });
  execFileSync("/usr/bin/python3", [new URL("./send-alarm.py", import.meta.url).pathname, process.env.ENV_JSON, "viewer", "alarms@conference.localhost", device, "env0.temperature", "clear", "29.1"], { stdio: "ignore" });
  await page.locator("[data-testid=alarm-item]").nth(1).waitFor({ timeout: 10000 });
  await page.screenshot({ path: join(out, "alarms.png") });
}
console.log("alarms:", await page.locator("[data-testid=alarm-item]").evaluateAll((es) => es.map((e) => `${e.dataset.device} ${e.dataset.channel} ${e.dataset.state}`).join("; ")));
await page.goto(url + `#/device/${device}`);
await T("device-view").waitFor();
const toggle = page.locator("[data-testid=actuator-toggle]").first();
await toggle.waitFor();
const before = await toggle.getAttribute("data-value");
await toggle.click();
await page.waitForFunction((b) => document.querySelector("[data-testid=actuator-toggle]")?.getAttribute("data-value") !== b, before, { timeout: 10000 });
console.log("toggle:", before, "->", await toggle.getAttribute("data-value"));
await page.locator("[data-testid=command-button][data-node=set]").click();
const form = T("command-form");
await form.waitFor();
await form.locator("[data-var=channel] select").selectOption("relay0.state");
await T("form-next").click();
await page.waitForFunction(() => document.querySelector("[data-testid=command-form]")?.getAttribute("data-stage") === "2");
console.log("stage 2:", (await form.textContent()).slice(0, 120), "| buttons:", await page.locator("[data-testid^=form-]").evaluateAll((es) => es.map((e) => e.dataset.testid).join(" ")));
await page.screenshot({ path: join(out, "set-stage2.png"), fullPage: true });
await T("form-prev").click();
await page.waitForFunction(() => document.querySelector("[data-testid=command-form]")?.getAttribute("data-stage") === "1");
console.log("back to stage 1, channel:", await form.locator("[data-var=channel] select").inputValue());
await form.locator("[data-var=value] input").fill("maybe");
await T("form-complete").click();
await T("command-error").waitFor();
console.log("error:", await T("command-error").textContent(), "| field marked:", await page.locator(".field.invalid").getAttribute("data-var"));
await page.screenshot({ path: join(out, "set-error.png"), fullPage: true });
await form.locator("[data-var=value] input").fill("on");
await T("form-complete").click();
await T("command-result").waitFor();
console.log("result:", await T("command-result").textContent());
await T("form-cancel").count().then((n) => console.log("cancel buttons left:", n));
const chart = page.locator("[data-testid=channel-chart]").first();
const p0 = Number(await chart.getAttribute("data-points"));
await page.waitForFunction((p) => Number(document.querySelector("[data-testid=channel-chart]")?.getAttribute("data-points")) > p, p0, { timeout: 15000 });
console.log("chart points:", p0, "->", await chart.getAttribute("data-points"));
await ctx.close();
