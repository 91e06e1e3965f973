// web/test/fleet.mjs - the world the browser tests and tools/web-bench look at:
// the project's Prosody (tools/devserver, serving web/dist and the WebSocket),
// a fleet provisioned by tools/fleet (the operator ops has every device in its
// roster), xiot-fleet-sim processes and, optionally, one real xiot-agent on
// boards/sim (owner admin, operator ops), plus Debian's chromium driven by
// playwright-core (never a downloaded browser). docs/web-console.md.
import { spawn, execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { chromium } from "playwright-core";

export const ROOT = path.resolve(import.meta.dirname, "..", "..");
const DEVSERVER = path.join(ROOT, "tools", "devserver");
const FLEET = path.join(ROOT, "tools", "fleet");

export const CHROMIUM = process.env.XIOT_CHROMIUM || "/usr/bin/chromium";
export const CHROMIUM_FLAGS = [
  "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync",
];

/** A bounded wait for COND (an async function returning a truthy value). */
export async function waitFor(what, cond, timeoutMs = 20000, stepMs = 100) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      last = await cond();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (last: ${last})`);
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

function binDir() {
  const d = process.env.XIOT_BIN_DIR || path.join(ROOT, "build");
  return d;
}

function bin(name) {
  const envName = { "xiot-agent": "XIOT_AGENT", xiotctl: "XIOTCTL", "xiot-fleet-sim": "XIOT_FLEET_SIM" }[name];
  if (envName && process.env[envName]) return process.env[envName];
  for (const p of [path.join(binDir(), name), path.join(binDir(), "fleet", "sim", name), path.join(binDir(), "fleet", name),
                   path.join(binDir(), "agent", name)]) {
    if (fs.existsSync(p)) return p;
  }
  throw new Error(`${name} not found below ${binDir()} (build it, or set ${envName} / XIOT_BIN_DIR)`);
}

/**
 * Starts the server and the fleet. opts:
 *   dir          scratch directory (created; the server's DIR is dir/server)
 *   webRoot      the console's files (default web/dist)
 *   simDevices   devices in the first xiot-fleet-sim process (dev0001..)
 *   singles      devices each in a simulator of its own (they can be stopped one by one)
 *   agent        also one xiot-agent (the last device), edited by agentConfig(cfg)
 *   interval     telemetry interval (s)
 * Returns { env, ops, admin, devices: [jid], agentJid, stopDevice(jid), xiotctl(args), stop() }.
 */
export async function startFleet(opts) {
  const dir = opts.dir;
  fs.mkdirSync(dir, { recursive: true });
  const serverDir = path.join(dir, "server");
  const logs = path.join(dir, "logs");
  fs.mkdirSync(logs, { recursive: true });
  const procs = new Map(); // name -> ChildProcess
  const run = (cmd, args) => execFileSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  const simDevices = opts.simDevices ?? 0;
  const singles = opts.singles ?? 0;
  const total = simDevices + singles + (opts.agent ? 1 : 0);
  const interval = opts.interval ?? 2;

  try {
    run(DEVSERVER, ["stop", serverDir]);
  } catch { /* not running */ }
  fs.rmSync(serverDir, { recursive: true, force: true });
  run(DEVSERVER, ["start", serverDir, "--owner-pid", String(process.pid), "--log-level", process.env.XIOT_DEVSERVER_LOG_LEVEL || "warn",
                  "--web-root", opts.webRoot || process.env.XIOT_WEB_ROOT || path.join(ROOT, "web", "dist")]);
  run(FLEET, ["provision", "--server-dir", serverDir, "--count", String(total), "--operator", "ops",
              "--owner", "admin", "--interval", String(interval), "--agent-configs", path.join(dir, "agents")]);
  const env = JSON.parse(fs.readFileSync(path.join(serverDir, "env.json"), "utf8"));
  const fleetFile = path.join(serverDir, "fleet.json");
  const fleet = JSON.parse(fs.readFileSync(fleetFile, "utf8"));
  const devices = fleet.devices.map((d) => d.jid);

  const startProc = (name, cmd, args, cwd) => {
    const out = fs.openSync(path.join(logs, `${name}.log`), "a");
    const p = spawn(cmd, args, { stdio: ["ignore", out, out], cwd });
    fs.closeSync(out);
    procs.set(name, p);
    return p;
  };
  const sim = bin("xiot-fleet-sim");
  const simArgs = (first, count) => ["--fleet", fleetFile, "--first", String(first), "--count", String(count),
                                     "--interval", String(interval), "--ramp", "0", "--max-logins", "8", "--stats", "0"];
  if (simDevices > 0) startProc("sim", sim, simArgs(1, simDevices));
  const singleJids = [];
  for (let i = 0; i < singles; i++) {
    const jid = devices[simDevices + i];
    singleJids.push(jid);
    startProc(jid, sim, simArgs(simDevices + i + 1, 1));
  }
  let agentJid = null;
  let agentNote = "";
  const fail = async (e) => {
    for (const p of procs.values()) if (p.exitCode === null && p.signalCode === null) p.kill("SIGKILL");
    try { run(DEVSERVER, ["stop", serverDir]); } catch { /* already gone */ }
    throw e;
  };
  if (opts.agent) {
    agentJid = devices[total - 1];
    const name = agentJid.split("@")[0];
    const cfgPath = path.join(dir, "agents", `${name}.json`);
    const cfg = JSON.parse(fs.readFileSync(cfgPath, "utf8"));
    cfg.log = { level: "info" };
    if (opts.agentConfig) opts.agentConfig(cfg, env);
    fs.writeFileSync(cfgPath, JSON.stringify(cfg, null, 2), { mode: 0o600 });
    // An agent without the alerts engine (a tree before it) refuses the section:
    // it runs without it then, and the alarm scenario fails saying why.
    const check = (() => {
      try {
        run(bin("xiot-agent"), ["--config", cfgPath, "--check-config"]);
        return "";
      } catch (e) {
        return `${e.stderr || ""}`;
      }
    })();
    if (/alerts: unknown key/.test(check)) {
      agentNote = `this xiot-agent has no alerts section (${check.trim()}); it runs without the rule`;
      delete cfg.alerts;
      fs.writeFileSync(cfgPath, JSON.stringify(cfg, null, 2), { mode: 0o600 });
    }
    startProc(agentJid, bin("xiot-agent"), ["--config", cfgPath], path.join(dir, "agents"));
  }
  const opsCfg = path.join(dir, "ops.json");
  fs.writeFileSync(opsCfg, JSON.stringify({ jid: env.accounts.ops.jid, password: env.accounts.ops.password,
                                            host: env.host, port: env.port, ca_file: env.ca_file }), { mode: 0o600 });
  const alive = [...procs.entries()];
  // A process that dies at once (bad config, refused login) is reported here, not as a browser timeout.
  await new Promise((r) => setTimeout(r, 300));
  for (const [name, p] of alive) {
    if (p.exitCode !== null) {
      await fail(new Error(`${name} exited with ${p.exitCode}; its log: ${path.join(logs, name + ".log")}:\n` +
                      fs.readFileSync(path.join(logs, `${name}.log`), "utf8").slice(-2000)));
    }
  }

  const stopProc = async (name) => {
    const p = procs.get(name);
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    const gone = new Promise((r) => p.once("exit", r));
    p.kill("SIGTERM");
    const t = setTimeout(() => p.kill("SIGKILL"), 5000);
    await gone;
    clearTimeout(t);
  };
  return {
    env, dir, serverDir, devices, singles: singleJids, agentJid, agentNote, logs,
    ops: env.accounts.ops, admin: env.accounts.admin,
    stopDevice: (jid) => stopProc(jid),
    xiotctl: (args) => run(bin("xiotctl"), ["--config", opsCfg, ...args]),
    async stop() {
      for (const name of [...procs.keys()].reverse()) await stopProc(name);
      try { run(DEVSERVER, ["stop", serverDir]); } catch { /* already gone */ }
    },
  };
}

/** Debian's chromium with a fresh profile. Returns { context, page, close() }. */
export async function launchBrowser() {
  if (!fs.existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} not found: the web tests need Debian's chromium (tools/deps installs it)`);
  }
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), "xiot-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM, headless: true, args: CHROMIUM_FLAGS, viewport: { width: 1280, height: 860 },
  });
  const page = context.pages()[0] || await context.newPage();
  return {
    context, page,
    async close() {
      // Leave the console first: its pagehide handler ends the XMPP stream, so
      // the server drops the session instead of keeping it hibernating
      // (stream management) and feeding it every notification for minutes.
      for (const p of context.pages()) await p.goto("about:blank", { timeout: 5000 }).catch(() => {});
      await context.close().catch(() => {});
      fs.rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Logs in on the console's login form (DOM contract in docs/web-console.md). */
export async function login(page, url, jid, password) {
  await page.goto(url);
  await page.getByTestId("login-jid").fill(jid);
  await page.getByTestId("login-password").fill(password);
  await page.getByTestId("login-submit").click();
}
