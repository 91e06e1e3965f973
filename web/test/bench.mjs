// web/test/bench.mjs - the console's page weight and first render at 500
// devices (run by tools/web-bench; never in CI). Prints figures, asserts nothing.
//   node web/test/bench.mjs [--devices 500] [--runs 3] [--window 20]
// 1. bytes on first load: every HTTP response of a cold load (fresh profile),
//    summed raw (decoded body) and as transferred (headers + body on the wire);
// 2. first render: from the click on login-submit until fleet-summary
//    data-total = N and the first device-row is in the DOM; then until all N
//    show their health (data-offline = 0 with every device online);
// 3. responsiveness while ~50 telemetry items/s arrive (N devices, interval N/50 s):
//    requestAnimationFrame gaps and long tasks (PerformanceObserver) over the window.
// Each figure: median of --runs (min-max), each run a fresh browser.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { launchBrowser, login, startFleet, waitFor } from "./fleet.mjs";

const arg = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const N = arg("--devices", 500);
const RUNS = arg("--runs", 3);
const WINDOW_S = arg("--window", 20);
const WAIT_MS = arg("--wait", 300) * 1000;
const INTERVAL = N / 50; // ~50 items/s over the fleet

const stat = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return { median: s[Math.floor(s.length / 2)], min: s[0], max: s[s.length - 1] };
};
const fmt = (xs, unit, digits = 0) => {
  const s = stat(xs);
  return `${s.median.toFixed(digits)} ${unit} (min ${s.min.toFixed(digits)}, max ${s.max.toFixed(digits)}; ${xs.length} runs)`;
};

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "xiot-web-bench-"));
console.log(`web-bench: ${N} devices (xiot-fleet-sim, interval ${INTERVAL} s = ~50 items/s), scratch ${dir}`);
const t0 = Date.now();
let ok = false;
const fleet = await startFleet({ dir, simDevices: N, interval: INTERVAL });
try {
  await waitFor(`all ${N} simulated devices online`, async () =>
    /all .* devices online/.test(fs.readFileSync(path.join(fleet.logs, "sim.log"), "utf8")), 900000, 500);
  console.log(`web-bench: fleet online after ${((Date.now() - t0) / 1000).toFixed(1)} s; console ${fleet.env.web_url}`);

  const raw = [], wire = [], requests = [], first = [], all = [], gapMax = [], gapP99 = [], longN = [], longMs = [];
  const failures = [];
  for (let run = 1; run <= RUNS; run++) {
    const b = await launchBrowser();
    try {
    const page = b.page;
    const pageLog = [];
    page.on("console", (m) => pageLog.push(`console.${m.type()}: ${m.text()}`));
    page.on("pageerror", (e) => pageLog.push(`pageerror: ${e.message}`));
    page.on("websocket", (ws) => {
      ws.on("close", () => pageLog.push(`websocket closed ${ws.url()}`));
      ws.on("socketerror", (e) => pageLog.push(`websocket error ${e}`));
    });
    const cdp = await b.context.newCDPSession(page);
    await cdp.send("Network.enable");
    await cdp.send("Network.setCacheDisabled", { cacheDisabled: true });
    let wireBytes = 0, n = 0;
    const rawBytes = new Map();
    cdp.on("Network.loadingFinished", (e) => { wireBytes += e.encodedDataLength; n++; });
    page.on("response", async (r) => {
      try { rawBytes.set(r.url(), (await r.body()).length); } catch { /* redirects, aborted */ }
    });
    await page.goto(fleet.env.web_url, { waitUntil: "networkidle", timeout: WAIT_MS });
    await page.getByTestId("login-jid").fill(fleet.ops.jid);
    await page.getByTestId("login-password").fill(fleet.ops.password);
    const summaryNow = () => page.evaluate(() => {
      const s = document.querySelector('[data-testid="fleet-summary"]');
      if (!s) return "no fleet-summary";
      return ["total", "healthy", "degraded", "dnd", "offline"].map((k) => `${k}=${s.getAttribute(`data-${k}`)}`).join(" ") +
        ` rows=${document.querySelectorAll('[data-testid="device-row"]').length}`;
    }).catch((e) => `${e}`);
    const explain = async (e) => {
      const file = path.join(dir, `timeout-run${run}.png`);
      await page.screenshot({ path: file }).catch(() => {});
      const err = await page.getByTestId("login-error").textContent({ timeout: 1000 }).catch(() => null);
      throw new Error(`${e.message}\npage state: ${await summaryNow()}; login-error: ${err}; screenshot ${file}\n` +
                      `page log (last 30):\n${pageLog.slice(-30).join("\n")}`);
    };
    const tClick = Date.now();
    await page.getByTestId("login-submit").click();
    await page.waitForFunction((n) => {
      const s = document.querySelector('[data-testid="fleet-summary"]');
      return s && Number(s.getAttribute("data-total")) === n && document.querySelector('[data-testid="device-row"]');
    }, N, { polling: 50, timeout: WAIT_MS }).catch(explain);
    const tFirst = Date.now();
    await page.waitForFunction((n) => {
      const s = document.querySelector('[data-testid="fleet-summary"]');
      return s && Number(s.getAttribute("data-offline")) === 0 &&
        Number(s.getAttribute("data-healthy")) + Number(s.getAttribute("data-degraded")) + Number(s.getAttribute("data-dnd")) === n;
    }, N, { polling: 50, timeout: WAIT_MS }).catch(explain);
    const tAll = Date.now();
    // The page's own HTTP load is over; the WebSocket's frames are not HTTP responses.
    raw.push([...rawBytes.values()].reduce((a, x) => a + x, 0));
    wire.push(wireBytes);
    requests.push(n);
    first.push(tFirst - tClick);
    all.push(tAll - tClick);
    const r = await page.evaluate((windowMs) => new Promise((resolve) => {
      const gaps = [];
      let last = performance.now();
      const long = [];
      const obs = new PerformanceObserver((l) => { for (const e of l.getEntries()) long.push(e.duration); });
      obs.observe({ type: "longtask", buffered: false });
      const end = last + windowMs;
      const frame = (t) => {
        gaps.push(t - last);
        last = t;
        if (t < end) requestAnimationFrame(frame);
        else {
          obs.disconnect();
          gaps.sort((a, b) => a - b);
          resolve({ max: gaps[gaps.length - 1], p99: gaps[Math.floor(gaps.length * 0.99)], long: long.length,
                    longMs: long.reduce((a, x) => a + x, 0), frames: gaps.length });
        }
      };
      requestAnimationFrame(frame);
    }), WINDOW_S * 1000);
    gapMax.push(r.max); gapP99.push(r.p99); longN.push(r.long); longMs.push(r.longMs);
    console.log(`web-bench: run ${run}: ${raw.at(-1)} B raw, ${wire.at(-1)} B transferred in ${n} responses; ` +
                `first render ${first.at(-1)} ms, all health ${all.at(-1)} ms; ${WINDOW_S} s at ~50 items/s: ` +
                `${r.frames} frames, rAF gap max ${r.max.toFixed(0)} ms p99 ${r.p99.toFixed(0)} ms, ` +
                `${r.long} long tasks (${r.longMs.toFixed(0)} ms)`);
    } catch (e) {
      // A failed run is reported and counted, not the end of the bench.
      failures.push(run);
      console.log(`web-bench: run ${run} FAILED: ${e.message}`);
    }
    await b.close();
  }
  console.log("");
  if (failures.length) console.log(`web-bench: ${failures.length} of ${RUNS} runs failed (runs ${failures.join(", ")}); figures over the others`);
  if (failures.length === RUNS) throw new Error("every run failed");
  console.log(`page weight, first load (cold cache), raw:         ${fmt(raw, "B")}`);
  console.log(`page weight, first load (cold cache), transferred: ${fmt(wire, "B")} in ${stat(requests).median} responses`);
  console.log(`first render with ${N} devices (login click -> data-total=${N} + rows): ${fmt(first, "ms")}`);
  console.log(`all ${N} devices show their health (login click -> offline=0):     ${fmt(all, "ms")}`);
  console.log(`responsiveness, ${WINDOW_S} s at ~50 items/s: rAF gap max ${fmt(gapMax, "ms")}, p99 ${fmt(gapP99, "ms")}, ` +
              `long tasks (>50 ms) ${fmt(longN, "")} totalling ${fmt(longMs, "ms")}`);
  ok = failures.length === 0; // a failed run keeps the scratch dir (screenshot, logs)
} finally {
  await fleet.stop();
  if (ok) fs.rmSync(dir, { recursive: true, force: true });
}
