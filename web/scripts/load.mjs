// node scripts/load.mjs URL JID PASSWORD [SECONDS]: logs in, waits until the
// fleet summary counts every roster contact with a firmware shown, then
// watches the page for SECONDS (default 20) while telemetry arrives: items
// per second received, frames, the longest frame gap and long tasks (>50 ms),
// DOM rows; scrolls the list meanwhile. Prints one JSON line.
import { chromium } from "playwright-core";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const [url, jid, password, secs = "20"] = process.argv.slice(2);
const ctx = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), "console-load-")), {
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium", headless: true, viewport: { width: 1400, height: 900 },
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
const page = ctx.pages()[0] ?? await ctx.newPage();
page.on("pageerror", (e) => console.log(`[page error] ${e.message}`));
await page.addInitScript(() => {
  const w = window;
  w.__lt = [];
  new PerformanceObserver((l) => { for (const e of l.getEntries()) w.__lt.push(e.duration); }).observe({ type: "longtask", buffered: true });
  // count pubsub event messages arriving on the WebSocket
  w.__items = 0;
  const orig = WebSocket.prototype.addEventListener;
  WebSocket.prototype.addEventListener = function (t, fn, o) {
    if (t === "message") {
      const f = fn;
      fn = function (ev) { if (typeof ev.data === "string") { const m = ev.data.match(/<item /g); if (m) w.__items += m.length; } return f.call(this, ev); };
    }
    return orig.call(this, t, fn, o);
  };
});
const t0 = Date.now();
await page.goto(url);
await page.getByTestId("login-jid").fill(jid);
await page.getByTestId("login-password").fill(password);
await page.getByTestId("login-submit").click();
await page.getByTestId("session-jid").waitFor();
const tLogin = Date.now() - t0;
await page.waitForFunction(() => {
  const s = document.querySelector("[data-testid=fleet-summary]");
  return s && Number(s.getAttribute("data-total")) > 0 && Number(s.getAttribute("data-offline")) === 0;
}, null, { timeout: 60000 }).catch(() => {});
const tAll = Date.now() - t0;
const summary = await page.getByTestId("fleet-summary").evaluate((e) => ({ ...e.dataset }));
await page.waitForTimeout(3000);
const r = await page.evaluate(async (ms) => {
  const w = window;
  const list = document.querySelector("[data-testid=fleet-list]");
  const items0 = w.__items;
  const lt0 = w.__lt.length;
  let frames = 0, worst = 0, last = performance.now();
  const start = last;
  await new Promise((done) => {
    const f = (t) => { frames++; worst = Math.max(worst, t - last); last = t; if (t - start < ms) requestAnimationFrame(f); else done(); };
    requestAnimationFrame(f);
    let dir = 1;
    const iv = setInterval(() => { list.scrollTop += dir * 700; if (list.scrollTop + list.clientHeight >= list.scrollHeight - 2 || list.scrollTop <= 0) dir = -dir; }, 100);
    setTimeout(() => clearInterval(iv), ms);
  });
  const long = w.__lt.slice(lt0);
  return { items_per_s: +((w.__items - items0) / (ms / 1000)).toFixed(1), fps: +(frames / (ms / 1000)).toFixed(1), worst_frame_ms: +worst.toFixed(1),
    long_tasks: long.length, longest_task_ms: +(Math.max(0, ...long)).toFixed(1), rows_in_dom: document.querySelectorAll("[data-testid=device-row]").length,
    dom_nodes: document.getElementsByTagName("*").length };
}, Number(secs) * 1000);
console.log(JSON.stringify({ login_ms: tLogin, all_online_ms: tAll, summary, ...r }));
await page.screenshot({ path: "/tmp/console-load.png" });
await ctx.close();
