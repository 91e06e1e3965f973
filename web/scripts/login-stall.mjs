// node web/scripts/login-stall.mjs [--trials 3] [--stall-ms 3000] [--at busy|restart|open|auth|bind]
// Reproduces a login against a server that is too busy to answer for a while:
// a devserver (one simulated device), Debian's chromium, and Prosody stopped
// (SIGSTOP) for --stall-ms. --at busy (default): from the click on, Prosody is
// stopped for --stall-ms and runs 300 ms, over and over, until the login
// ends (a server saturated by its fleet). Otherwise once, when the page sends
// that frame (the stream <open/> after SASL success = "restart", the first
// <open/> = "open", <auth/> = "auth", the bind IQ = "bind"; playwright
// reports frames late, so the stall may miss the moment).
// Prints each trial's outcome (session or the login-error text) and a count.
// A manual check (needs the devserver's binaries; XIOT_BIN_DIR as web/test), not the test suite.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { launchBrowser, startFleet } from "../test/fleet.mjs";

const arg = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const TRIALS = Number(arg("--trials", "3"));
const STALL_MS = Number(arg("--stall-ms", "3000"));
const AT = arg("--at", "busy");
const match = { restart: (s, n) => /<open /.test(s) && n.open++ === 1, open: (s, n) => /<open /.test(s) && n.open++ === 0,
                auth: (s) => /<auth /.test(s), bind: (s) => /urn:ietf:params:xml:ns:xmpp-bind/.test(s), busy: () => false }[AT];
if (!match) throw new Error(`--at must be busy, restart, open, auth or bind, got ${AT}`);

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "xiot-login-stall-"));
const fleet = await startFleet({ dir, simDevices: 1 });
const pid = fleet.env.nodes?.[0]?.pid ?? Number(fs.readFileSync(path.join(fleet.serverDir, "prosody.pid"), "utf8").trim());
if (!(pid > 1) || !/prosody|lua/.test(fs.readFileSync(`/proc/${pid}/cmdline`, "utf8"))) throw new Error(`no Prosody at pid ${pid}`);
let ok = 0;
try {
  for (let t = 1; t <= TRIALS; t++) {
    const b = await launchBrowser();
    try {
      const page = b.page;
      const n = { open: 0 };
      let stalled = false;
      page.on("websocket", (ws) => ws.on("framesent", (f) => {
        const s = String(f.payload);
        if (!stalled && match(s, n)) {
          stalled = true;
          process.kill(pid, "SIGSTOP");
          setTimeout(() => { try { process.kill(pid, "SIGCONT"); } catch { /* gone */ } }, STALL_MS);
        }
      }));
      await page.goto(fleet.env.web_url);
      await page.getByTestId("login-jid").fill(fleet.ops.jid);
      await page.getByTestId("login-password").fill(fleet.ops.password);
      const t0 = Date.now();
      let busy = AT === "busy";
      const cycle = async () => {
        while (busy) {
          process.kill(pid, "SIGSTOP");
          stalled = true;
          await new Promise((r) => setTimeout(r, STALL_MS));
          process.kill(pid, "SIGCONT");
          await new Promise((r) => setTimeout(r, 300));
        }
      };
      await page.getByTestId("login-submit").click();
      const cycling = cycle();
      const outcome = await page.waitForFunction(() => {
        if (document.querySelector('[data-testid="session-jid"]')) return "session";
        const e = document.querySelector('[data-testid="login-error"]');
        return e && !e.hidden ? `login-error: ${JSON.stringify(e.textContent)}` : null;
      }, null, { polling: 50, timeout: 120000 }).then((h) => h.jsonValue()).finally(() => { busy = false; });
      await cycling;
      if (outcome === "session") ok++;
      console.log(`login-stall: trial ${t}: stalled=${stalled} ${outcome} after ${Date.now() - t0} ms`);
    } finally {
      try { process.kill(pid, "SIGCONT"); } catch { /* gone */ }
      await b.close();
    }
  }
  console.log(`login-stall: ${ok} of ${TRIALS} logins succeeded with Prosody stopped ${STALL_MS} ms at ${AT}`);
} finally {
  await fleet.stop();
  fs.rmSync(dir, { recursive: true, force: true });
}
