// web/test/console.test.mjs - the web console in a real browser (Debian's
// chromium through playwright-core) against the project's Prosody and
// simulated devices: ctest web.console (label web). One server and one fleet
// are shared by the scenarios, which run in order:
//   5 devices in xiot-fleet-sim + 1 in a simulator of its own (stopped in a
//   scenario) + 1 xiot-agent on boards/sim (owner admin, operator ops, an
//   alert rule that always fires) = 7 devices in the operator's roster.
// Every wait has a deadline; a screenshot after each scenario goes to
// $XIOT_WEB_ARTIFACTS (default build/web-artifacts), its path printed.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { ROOT, launchBrowser, login, startFleet, waitFor } from "./fleet.mjs";

const ARTIFACTS = path.resolve(process.env.XIOT_WEB_ARTIFACTS || path.join(ROOT, "build", "web-artifacts"));
const WORK = path.resolve(process.env.XIOT_WEB_WORK || path.join(ARTIFACTS, "..", "web-test-run"));
const ROOM = "alarms@conference.localhost";
const SIM = 5;
const TOTAL = SIM + 2;
const T = 30000; // the deadline of each awaited condition (ms); a loaded CI machine is slow, not stuck

let fleet;
let browser;
let page;

async function shot(name) {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  const file = path.join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true }).catch((e) => console.log(`# screenshot ${file} failed: ${e}`));
  console.log(`# screenshot: ${file}`);
}

const attr = (sel, name) => page.locator(sel).first().getAttribute(name, { timeout: 1000 }).catch(() => null);
const summary = async () => {
  const s = page.getByTestId("fleet-summary");
  const out = {};
  for (const k of ["total", "healthy", "degraded", "dnd", "offline"]) out[k] = Number(await s.getAttribute(`data-${k}`, { timeout: 1000 }));
  return out;
};
const row = (jid) => page.locator(`[data-testid="device-row"][data-jid="${jid}"]`);

before(async () => {
  fs.rmSync(ARTIFACTS, { recursive: true, force: true });
  fleet = await startFleet({
    dir: WORK, simDevices: SIM, singles: 1, agent: true, interval: 1,
    agentConfig: (cfg) => {
      // An alert rule that fires at once (docs/web-console.md; the agent's `alerts` section).
      cfg.alerts = { room: ROOM, rules: [{ channel: "env0.temperature", above: -100, for_s: 0 }] };
    },
  });
  browser = await launchBrowser();
  page = browser.page;
  page.on("pageerror", (e) => console.log(`# page error: ${e.message}`));
  console.log(`# console ${fleet.env.web_url}, server ${fleet.serverDir}, logs ${fleet.logs}`);
});

after(async () => {
  if (browser) await browser.close();
  if (fleet) await fleet.stop();
});

test("a wrong password shows login-error", async () => {
  await login(page, fleet.env.web_url, fleet.ops.jid, fleet.ops.password + "-wrong");
  const err = page.getByTestId("login-error");
  await err.waitFor({ state: "visible", timeout: T });
  assert.notEqual((await err.textContent()).trim(), "", "login-error is empty");
  assert.equal(await page.getByTestId("session-jid").count(), 0, "a session header after a refused login");
  await shot("01-login-error");
});

test("ops logs in and sees every device healthy", async () => {
  await login(page, fleet.env.web_url, fleet.ops.jid, fleet.ops.password);
  await page.getByTestId("session-jid").waitFor({ timeout: T });
  assert.match(await page.getByTestId("session-jid").textContent(), /ops@localhost/);
  const s = await waitFor(`fleet-summary total=${TOTAL} healthy=${TOTAL}`, async () => {
    const v = await summary();
    return v.total === TOTAL && v.healthy === TOTAL ? v : null;
  }, 60000);
  assert.equal(s.offline, 0);
  for (const jid of fleet.devices) {
    await row(jid).waitFor({ timeout: T });
    assert.equal(await row(jid).getAttribute("data-health"), "healthy", `${jid} is not healthy`);
  }
  await shot("02-fleet-healthy");
});

test("search and filter narrow the list", async () => {
  await page.getByTestId("fleet-search").fill(fleet.agentJid.split("@")[0]);
  await waitFor("one row left after the search", async () => (await page.getByTestId("device-row").count()) === 1, T);
  assert.equal(await page.getByTestId("device-row").first().getAttribute("data-jid"), fleet.agentJid);
  assert.equal((await summary()).total, TOTAL, "the summary counts the whole roster, not the visible rows");
  await page.getByTestId("fleet-search").fill("");
  await page.getByTestId("fleet-filter").selectOption("offline");
  await waitFor("no rows under the offline filter", async () => (await page.getByTestId("device-row").count()) === 0, T);
  await page.getByTestId("fleet-filter").selectOption("all");
  await waitFor(`${TOTAL} rows again`, async () => (await page.getByTestId("device-row").count()) === TOTAL, T);
});

test("a stopped device turns offline and the summary follows", async () => {
  const victim = fleet.singles[0];
  await fleet.stopDevice(victim);
  await waitFor(`${victim} data-health=offline`, async () => (await row(victim).getAttribute("data-health")) === "offline", T);
  const s = await waitFor("summary offline=1", async () => {
    const v = await summary();
    return v.offline === 1 ? v : null;
  }, T);
  assert.equal(s.healthy, TOTAL - 1);
  assert.equal(s.total, TOTAL);
  await shot("03-device-offline");
});

test("the agent's device view: a chart that grows", async () => {
  await row(fleet.agentJid).click();
  const view = page.getByTestId("device-view");
  await view.waitFor({ timeout: T });
  assert.equal(await view.getAttribute("data-jid"), fleet.agentJid);
  assert.match(page.url(), new RegExp(`#/device/${fleet.agentJid.replace(".", "\\.")}`));
  await page.getByTestId("device-description").waitFor({ timeout: T });
  const chart = page.locator('[data-testid="channel-chart"][data-channel="env0.temperature"]');
  await chart.waitFor({ timeout: T });
  const first = Number(await chart.getAttribute("data-points"));
  await waitFor("env0.temperature data-points to grow by 2", async () =>
    Number(await chart.getAttribute("data-points")) >= first + 2, T);
  await shot("04-device-chart");
});

test("toggling relay0.state flips it on the device", async () => {
  const toggle = page.locator('[data-testid="actuator-toggle"][data-channel="relay0.state"]');
  await toggle.waitFor({ timeout: T });
  const before = await toggle.getAttribute("data-value");
  assert.ok(before === "true" || before === "false", `data-value is ${before}`);
  const want = before === "true" ? "false" : "true";
  await toggle.click();
  await waitFor(`actuator-toggle data-value=${want}`, async () => (await toggle.getAttribute("data-value")) === want, T);
  // The device itself says so (xiotctl, as the operator).
  const out = JSON.parse(fleet.xiotctl(["run", fleet.agentJid, "read", "channel=relay0.state", "--json", "--timeout", "20"]));
  const field = (out.form?.fields || []).find((f) => f.var === "relay0.state");
  const got = out.values && "relay0.state" in out.values ? out.values["relay0.state"] : field?.values?.[0];
  const truthy = { true: true, 1: true, on: true, false: false, 0: false, off: false }[String(got)];
  assert.equal(truthy, want === "true", `xiotctl read says relay0.state = ${got}: ${JSON.stringify(out)}`);
  await shot("05-relay-toggled");
});

test("diagnostics through the generic command form", async () => {
  const button = page.locator('[data-testid="command-button"][data-node="diagnostics"]');
  await button.waitFor({ timeout: T });
  await button.click();
  const result = page.getByTestId("command-result");
  // Single-stage commands may complete at once; otherwise walk the form.
  await waitFor("command-result (or a form to complete)", async () => {
    if (await result.count()) return true;
    for (const b of ["form-complete", "form-execute", "form-next"]) {
      const el = page.getByTestId(b);
      if ((await el.count()) && (await el.first().isEnabled())) {
        await el.first().click();
        return false;
      }
    }
    return false;
  }, T, 250);
  await result.waitFor({ timeout: T });
  assert.equal(await page.getByTestId("command-error").count(), 0, "command-error shown");
  const fields = await result.locator("[data-var]").count();
  const text = (await result.textContent()).trim();
  assert.ok(fields > 0 || text.length > 0, "command-result shows no fields");
  await shot("06-diagnostics");
});

test("an alarm from the device arrives in the alarm panel", async () => {
  const item = page.locator(`[data-testid="alarm-panel"] [data-testid="alarm-item"][data-device="${fleet.agentJid}"]` +
                            '[data-channel="env0.temperature"][data-state="alarm"]');
  await item.first().waitFor({ timeout: 45000 }).catch((e) => {
    const why = [fleet.agentNote, fleet.env.muc_service ? "" : "this devserver has no MUC service (no muc_service in env.json)"];
    throw new Error([e.message, ...why.filter(Boolean).map((w) => `(${w})`)].join("\n"));
  });
  await shot("07-alarm");
});

test("back to the fleet view", async () => {
  await page.getByTestId("device-back").click();
  await page.getByTestId("fleet-list").waitFor({ timeout: T });
  assert.equal((await summary()).total, TOTAL);
  await shot("08-fleet-back");
});
