// node scripts/load.mjs URL JID PASSWORD [SECONDS]: logs in, waits until the
// fleet summary counts every roster contact with a firmware shown, then
// watches the page for SECONDS (default 20) while telemetry arrives: items
// per second received, frames, the longest frame gap and long tasks (>50 ms),
// DOM rows; scrolls the list meanwhile. Prints one JSON line.
//   --synthetic N: also feed N telemetry items/s (SenML XML, 4 readings) for
//   random devices dev0001..dev0500 into the page as if received, plus one
//   presence change per second (the page's debug hook; measures the page
//   alone, independent of how fast the server is).
import { chromium } from "playwright-core";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const argv = process.argv.slice(2);
const si = argv.indexOf("--synthetic");
const synthetic = si >= 0 ? Number(argv.splice(si, 2)[1]) : 0;
const [url, jid, password, secs = "20"] = argv;
const ctx = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), "console-load-")), {
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium", headless: true, viewport: { width: 1400, height: 900 },
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
const page = ctx.pages()[0] ?? await ctx.newPage();
page.on("pageerror", (e) => console.log(`[page error] ${e.message}`));
await page.addInitScript((syn) => {
  const w = window;
  if (syn) localStorage.setItem("xiot.console.debug", "1");
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
}, synthetic);
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
}, null, { timeout: synthetic ? 5000 : 60000 }).catch(() => {});
const tAll = Date.now() - t0;
const summary = await page.getByTestId("fleet-summary").evaluate((e) => ({ ...e.dataset }));
await page.waitForTimeout(3000);
const cdp = process.env.PROFILE ? await page.context().newCDPSession(page) : null;
if (cdp) { await cdp.send("Profiler.enable"); await cdp.send("Profiler.start"); }
const r = await page.evaluate(async ([ms, syn]) => {
  const w = window;
  const feeders = [];
  if (syn) {
    let seq = 0;
    const dev = () => `dev${String(1 + Math.floor(Math.random() * 500)).padStart(4, "0")}@localhost`;
    feeders.push(setInterval(() => {
      for (let k = 0; k < syn / 50; k++) {
        const d = dev();
        const t = (Date.now() / 1000).toFixed(3);
        w.__items++;
        w.xiotConsoleInject(`<message xmlns='jabber:client' from='${d}' to='ops@localhost'><event xmlns='http://jabber.org/protocol/pubsub#event'><items node='urn:xiot:telemetry:0'><item id='synth-${++seq}'><sensml xmlns='urn:ietf:params:xml:ns:senml'><senml bn='x:' bt='${t}' n='env0.temperature' u='Cel' v='${(20 + Math.random()).toFixed(2)}'/><senml n='env0.humidity' u='%RH' v='${(40 + Math.random()).toFixed(1)}'/><senml n='env0.pressure' u='Pa' v='101325'/><senml n='relay0.state' vb='false'/></sensml></item></items></event></message>`);
      }
    }, 20));
    const shows = ["", "away", "dnd", "unavailable"];
    feeders.push(setInterval(() => {
      const s = shows[Math.floor(Math.random() * shows.length)];
      w.xiotConsoleInject(s === "unavailable" ? `<presence xmlns='jabber:client' from='${dev()}/xiot' type='unavailable'/>`
        : `<presence xmlns='jabber:client' from='${dev()}/xiot'>${s ? `<show>${s}</show>` : ""}</presence>`);
    }, 1000));
  }
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
    setTimeout(() => { clearInterval(iv); feeders.forEach(clearInterval); }, ms);
  });
  const long = w.__lt.slice(lt0);
  return { items_per_s: +((w.__items - items0) / (ms / 1000)).toFixed(1), fps: +(frames / (ms / 1000)).toFixed(1), worst_frame_ms: +worst.toFixed(1),
    long_tasks: long.length, longest_task_ms: +(Math.max(0, ...long)).toFixed(1), rows_in_dom: document.querySelectorAll("[data-testid=device-row]").length,
    dom_nodes: document.getElementsByTagName("*").length };
}, [Number(secs) * 1000, synthetic]);
if (cdp) {
  const { profile } = await cdp.send("Profiler.stop");
  const self = new Map();
  const dt = profile.timeDeltas; const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  profile.samples.forEach((id, i) => { const n = byId.get(id); const k = `${n.callFrame.functionName || "(anon)"} ${n.callFrame.url.split("/").pop()}:${n.callFrame.lineNumber}:${n.callFrame.columnNumber}`; self.set(k, (self.get(k) ?? 0) + (dt[i] ?? 0)); });
  console.log([...self].sort((a, b) => b[1] - a[1]).slice(0, 15).map(([k, v]) => `${(v / 1000).toFixed(0)} ms  ${k}`).join("\n"));
}
console.log(JSON.stringify({ synthetic, login_ms: tLogin, all_online_ms: tAll, summary, ...r }));
await page.screenshot({ path: "/tmp/console-load.png" });
await ctx.close();
