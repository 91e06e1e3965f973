#!/usr/bin/python3
"""The virtual-board tests (ctest label vm): Debian's real kernels under QEMU
(tools/vm), the agent inside, an operator (xiotctl) and a probe (slixmpp) on
the host, the project's Prosody (tools/devserver) as the only peer.

usage: vm_test.py BUILD_DIR amd64|arm64

Each case boots its board once (boots are the expensive part under TCG):
  amd64 = sensors, then watchdog (the sensors are read again after the reset);
  arm64 = relay, then power key.

  sensors         i2c-stub chips with register images made by the project's own
                  chip models (BME280 0x76, ADS1115 0x48 read by xiot's drivers
                  over /dev/i2c-0; BME280 0x77 bound to the kernel's bmp280, read
                  by linux,iio): `xiotctl run dev1 read --json` shows the physical
                  values the test set, within each chip's resolution
  watchdog        the server goes away, readings pile up in the journal, the
                  agent is stopped (SIGSTOP); the i6300esb resets the board; after
                  the reboot the agent is online again and delivers the readings
                  journalled before the hang (its log: "N items from earlier runs")
  relay           `xiotctl run dev1 set channel=relay0.state value=true` drives
                  PL061 line 0 through libgpiod: /sys/kernel/debug/gpio shows it
                  high, `read` reports true; and back to false
  power key       `system_powerdown` on QEMU's monitor: logind powers the board
                  off, the probe receives the agent's unavailable presence with
                  its reason, the agent's log says the journal was closed, QEMU
                  exits

Prints boot time (QEMU start to the console's shell), agent-online time and
the test's total time. Exit 0 pass, 1 fail, 77 skipped (ctest SKIP_RETURN_CODE:
no qemu, or no arm64 agent).
"""
import importlib.machinery
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
PY = "/usr/bin/python3"
SKIP = 77


def load_vm():
    loader = importlib.machinery.SourceFileLoader("xiot_vm", os.path.join(ROOT, "tools", "vm"))
    spec = importlib.util.spec_from_loader("xiot_vm", loader)
    mod = importlib.util.module_from_spec(spec)
    loader.exec_module(mod)
    return mod


vm = load_vm()
T0 = time.monotonic()


def say(msg):
    print(f"[{time.monotonic() - T0:7.1f} s] {msg}", flush=True)


class Fail(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise Fail(msg)


class Server:
    def __init__(self, work):
        self.dir = os.path.join(work, "server")
        subprocess.run([PY, os.path.join(ROOT, "tools", "devserver"), "start", self.dir,
                        "--owner-pid", str(os.getpid())], check=True, stdout=subprocess.DEVNULL)
        with open(os.path.join(self.dir, "env.json")) as f:
            self.env = json.load(f)
        self.port = self.env["port"]
        self.ca = self.env["ca_file"]

    def password(self, user):
        return self.env["accounts"][user]["password"]

    def devserver(self, *args):
        subprocess.run([PY, os.path.join(ROOT, "tools", "devserver"), *args, self.dir],
                       check=True, stdout=subprocess.DEVNULL)

    def stop(self):
        subprocess.run([PY, os.path.join(ROOT, "tools", "devserver"), "stop", self.dir],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


class Ctl:
    """xiotctl as ops@localhost."""

    def __init__(self, build, server):
        self.bin = os.path.join(build, "xiotctl")
        check(os.path.exists(self.bin), f"{self.bin}: not built (cmake --build {build} --target xiotctl)")
        self.base = [self.bin, "--jid", "ops@localhost", "--password", server.password("ops"),
                     "--host", "127.0.0.1", "--port", str(server.port), "--ca-file", server.ca]

    def __call__(self, *args, timeout=30):
        p = subprocess.run(self.base + list(args), capture_output=True, text=True, timeout=timeout + 15)
        return p.returncode, p.stdout, p.stderr

    def run_json(self, *args, timeout=30):
        rc, out, err = self(*args, "--json", "--timeout", str(timeout), timeout=timeout)
        check(rc == 0, f"xiotctl {' '.join(args)}: exit {rc}: {err.strip()} {out.strip()}")
        return json.loads(out)

    def wait_online(self, device, timeout):
        """Until DEVICE answers `read` (the operator subscribes on the way)."""
        deadline = time.monotonic() + timeout
        last = ""
        while time.monotonic() < deadline:
            self("watch", device, "--count", "1", "--timeout", "10", timeout=10)
            rc, out, err = self("run", device, "read", "--json", "--timeout", "10", timeout=10)
            if rc == 0:
                return json.loads(out)
            last = err.strip() or out.strip()
            time.sleep(1)
        raise Fail(f"{device} not online within {timeout} s: {last}")


def agent_config(interval_s=2):
    return {
        "xmpp": {"jid": "dev1@localhost", "resource": "xiot", "ping_interval_s": 10,
                 "reconnect_base_s": 0.5, "reconnect_cap_s": 3},
        "telemetry": {"interval_s": interval_s},
        "acl": {"owners": ["admin@localhost"], "operators": ["ops@localhost"],
                "viewers": ["viewer@localhost"]},
        "journal": {"path": "/var/lib/xiot/journal", "fsync": "always"},
        "log": {"level": "info"},
    }


def chip_image(build, compatible, sim, *opts):
    tool = os.path.join(build, "tools", "chipimage", "xiot-chipimage")
    check(os.path.exists(tool), f"{tool} not built (cmake --build {build} --target xiot-chipimage)")
    p = subprocess.run([tool, *opts, compatible, json.dumps(sim)], capture_output=True, text=True)
    check(p.returncode == 0, f"xiot-chipimage {compatible}: {p.stderr.strip()}")
    return p.stdout


def boot(board, server, agent, board_json, **kw):
    board.prepare(agent, agent_config(), board_json, server.ca, server.password("dev1"), **kw)
    board.start(server.port)
    t = board.wait_login(timeout=600)
    say(f"boot: {t:.1f} s from QEMU start to the console's shell ({board.arch}, "
        f"kernel {board.manifest['kernel']})")
    return t


def approx(got, want, tol, what):
    check(got is not None, f"{what}: no value")
    v = float(got)
    check(abs(v - want) <= tol, f"{what}: got {v}, want {want} ± {tol}")
    say(f"  {what} = {v} (set {want}, ± {tol})")


# ------------------------------------------------------------------ amd64

BME_76 = {"temperature_c": 21.5, "humidity_pct": 40.0, "pressure_pa": 98000}
BME_77 = {"temperature_c": 30.25, "humidity_pct": 65.0, "pressure_pa": 101000}
ADS_48 = {"ain0_v": 1.25}


def amd64(build, work, agent):
    """One boot: the sensors, then the watchdog reset (and the sensors again)."""
    server = Server(work)
    board = vm.Board("amd64", os.path.join(work, "board"))
    try:
        chips = {"0x76": chip_image(build, "bosch,bme280", BME_76),
                 "0x48": chip_image(build, "ti,ads1115", ADS_48),
                 "0x77": chip_image(build, "bosch,bme280", BME_77)}
        boot(board, server, agent, os.path.join(ROOT, "boards", "qemu-amd64", "board.json"),
             stub_chips=chips, new_devices=["bme280 0x77"])
        ctl = Ctl(build, server)
        t = time.monotonic()
        r = ctl.wait_online("dev1", 600)
        say(f"agent online and answering: {time.monotonic() - t:.1f} s after the shell")
        say("guest: " + board.sh("cat /sys/bus/iio/devices/iio:device0/name; i2cdetect -y -q 0 | tail -n 2; "
                                 "grep 'left out' /var/lib/xiot/agent.log", check=False).strip())
        t = time.monotonic()
        check_sensors(r["values"])
        say(f"sensors: {time.monotonic() - t:.1f} s")
        t = time.monotonic()
        watchdog(board, server, ctl)
        say(f"watchdog: {time.monotonic() - t:.1f} s")
    finally:
        board.stop()
        server.stop()


def check_sensors(v):
    say("read: " + json.dumps(v))
    approx(v.get("env0.temperature"), BME_76["temperature_c"], 0.02, "env0.temperature (BME280 0x76, xiot driver)")
    approx(v.get("env0.humidity"), BME_76["humidity_pct"], 0.2, "env0.humidity")
    approx(v.get("env0.pressure"), BME_76["pressure_pa"], 2, "env0.pressure")
    approx(v.get("adc0.ain0"), ADS_48["ain0_v"], 0.0001, "adc0.ain0 (ADS1115 0x48)")
    approx(v.get("env1.temperature"), BME_77["temperature_c"], 0.02,
           "env1.temperature (BME280 0x77, kernel bmp280 + linux,iio)")
    approx(v.get("env1.pressure"), BME_77["pressure_pa"], 2, "env1.pressure")
    approx(v.get("env1.humidity"), BME_77["humidity_pct"], 0.2, "env1.humidity")


def watchdog(board, server, ctl):
    say(board.sh("cat /sys/class/watchdog/watchdog0/identity /sys/class/watchdog/watchdog0/timeout "
                 "/sys/class/watchdog/watchdog0/state", check=False).strip())
    # The server goes away: readings pile up in the journal, unacknowledged.
    server.devserver("stop")
    size = lambda: int(board.sh("cat /var/lib/xiot/journal/* | wc -c").strip() or 0)
    first = size()
    grew, last = 0, first
    deadline = time.monotonic() + 90
    while grew < 3 and time.monotonic() < deadline:
        time.sleep(1)
        now = size()
        grew, last = grew + (now > last), now
    check(grew >= 3, f"the journal did not grow while the server was away ({first} -> {last} bytes)")
    say(f"journal grew {first} -> {last} bytes while the server was away (readings not acknowledged)")
    pid = board.sh("pidof xiot-agent").strip()
    check(pid.isdigit(), f"pidof xiot-agent: {pid!r}")
    server.devserver("restart")
    t = time.monotonic()
    board.sh(f"kill -STOP {pid}; echo stopped", check=False)
    say(f"agent {pid} stopped (SIGSTOP); waiting for the i6300esb to reset the board")
    board.buf = b""
    board.expect(rb"\(automatic login\)", 900, "the board's reset and reboot")
    say(f"board reset and booted again {time.monotonic() - t:.1f} s after SIGSTOP")
    board.wait_login(timeout=600, again=True)
    r = ctl.wait_online("dev1", 600)
    say(f"agent back online {time.monotonic() - t:.1f} s after SIGSTOP")
    log = board.sh("cat /var/lib/xiot/agent.log")
    lines = [l for l in log.splitlines() if "earlier runs" in l or "journal" in l.lower()
             or ("INFO agent: xiot-agent" in l and " boot " in l)]
    say("agent log (starts, journal):\n  " + "\n  ".join(lines[-10:]))
    starts = sum(1 for l in log.splitlines() if "INFO agent: xiot-agent" in l and " boot " in l)
    check(starts >= 2, f"agent.log shows {starts} agent start(s); want the one before and after the reset")
    m = re.search(r"(\d+) items from earlier runs are published first", log)
    check(m is not None, "no 'items from earlier runs' in the agent log after the reset: the journal did not survive")
    old = int(m.group(1))
    # Those readings are delivered: the journal empties and counts them as replayed.
    deadline = time.monotonic() + 120
    d = {}
    while time.monotonic() < deadline:
        d = ctl.run_json("run", "dev1", "diagnostics")["values"]
        if d.get("journal_depth") == "0" and int(d.get("replayed") or 0) >= old:
            break
        time.sleep(1)
    say(f"diagnostics after the reset: journal_depth {d.get('journal_depth')}, replayed {d.get('replayed')}, "
        f"journal_corrupt {d.get('journal_corrupt')}, dropped {d.get('dropped_readings')}")
    check(d.get("journal_depth") == "0" and int(d.get("replayed") or 0) >= old,
          f"the {old} readings journalled before the hang were not delivered: {d}")
    check(d.get("journal_corrupt") in ("0", None), f"journal records lost as corrupt: {d}")
    check_sensors(r["values"])


# ------------------------------------------------------------------ arm64

def arm64_agent(build):
    tool = os.path.join(ROOT, "tools", "cross-build")
    env_path = os.environ.get("XIOT_ARM64_AGENT")
    if env_path:
        return env_path
    if os.path.exists(tool):
        p = subprocess.run([tool, "arm64"], capture_output=True, text=True)
        if p.returncode == 0 and p.stdout.strip():
            return p.stdout.strip().splitlines()[-1]
        raise Fail(f"tools/cross-build arm64: exit {p.returncode}: {p.stderr.strip()[-500:]}")
    return None


def arm64(build, work, agent):
    """One boot: the relay, then the power button."""
    server = Server(work)
    board = vm.Board("arm64", os.path.join(work, "board"))
    probe = None
    try:
        boot(board, server, agent, os.path.join(ROOT, "boards", "qemu-arm64", "board.json"))
        ctl = Ctl(build, server)
        t = time.monotonic()
        r = ctl.wait_online("dev1", 600)
        say(f"agent online and answering: {time.monotonic() - t:.1f} s after the shell")
        t = time.monotonic()
        check(r["values"].get("relay0.state") is False, f"relay0.state before set: {r['values']}")
        for want in (True, False):
            ctl.run_json("run", "dev1", "set", "channel=relay0.state", f"value={str(want).lower()}")
            gpio = board.sh("mount -t debugfs none /sys/kernel/debug 2>/dev/null; cat /sys/kernel/debug/gpio")
            line = [l for l in gpio.splitlines() if "xiot" in l]
            say(f"relay0 set {want}: debugfs {line}")
            check(line and (" hi" in line[0]) == want and " out " in line[0],
                  f"gpio debugfs after set {want}: {gpio}")
            r = ctl.run_json("run", "dev1", "read")
            check(r["values"].get("relay0.state") is want, f"read after set {want}: {r['values']}")
        say(f"relay: {time.monotonic() - t:.1f} s")
        probe = subprocess.Popen(
            [PY, os.path.join(ROOT, "tests", "integration", "probe", "xmpp_probe.py"),
             "--jid", "viewer@localhost", "--password", server.password("viewer"),
             "--port", str(server.port), "--ca-file", server.ca, "--timeout", "600",
             "presence", "dev1@localhost", "--subscribe", "--want", "unavailable"],
            stdout=subprocess.PIPE, text=True)
        # The probe has seen the agent online before the button is pressed.
        first = probe.stdout.readline()
        check(first.startswith("{"), f"probe: {first!r}")
        say(f"probe sees: {first.strip()}")
        t = time.monotonic()
        board.monitor("system_powerdown")
        say("system_powerdown sent")
        rc = board.wait_exit(600)
        check(rc is not None, "QEMU still running 600 s after system_powerdown")
        say(f"QEMU exited ({rc}) {time.monotonic() - t:.1f} s after system_powerdown")
        out, _ = probe.communicate(timeout=60)
        docs = [json.loads(l) for l in out.splitlines() if l.startswith("{")]
        unav = [d for d in docs if d.get("type") == "unavailable" and "/" in d.get("from", "")]
        say(f"probe: {unav[-1] if unav else docs}")
        check(probe.returncode == 0 and unav, f"no unavailable presence from dev1's session: {docs}")
        check("SIGTERM" in (unav[-1].get("status") or ""), f"unavailable without the reason: {unav[-1]}")
        # The agent's log on the state disk (ext4 image, read on the host with debugfs).
        p = subprocess.run(["debugfs", "-R", "cat /agent.log", os.path.join(board.run, "state.img")],
                           capture_output=True, text=True)
        tail = [l for l in p.stdout.splitlines() if "going offline" in l or "journal" in l or "this run" in l]
        say("agent log at shutdown:\n  " + "\n  ".join(tail[-5:]))
        check(any("journal closed" in l for l in tail), "the agent's log does not say the journal was closed")
        with open(os.path.join(board.run, "console.log"), errors="replace") as f:
            con = f.read()
        check("Power key pressed" in con or "reboot: Power down" in con,
              "console shows no power-key shutdown")
    finally:
        if probe and probe.poll() is None:
            probe.kill()
        board.stop()
        server.stop()


CASES = {"amd64": amd64, "arm64": arm64}


def board_agent(build, arch):
    """The agent binary the board runs (copied-binary mode): BUILD/xiot-agent,
    or the arm64 one from tools/cross-build; None (and SKIP printed) when
    there is no way to get the arm64 one. Fail when it is not built."""
    if arch == "amd64":
        agent = os.path.join(build, "xiot-agent")
    else:
        agent = arm64_agent(build)
        if agent is None:
            print("SKIP: no arm64 agent: tools/cross-build is missing and XIOT_ARM64_AGENT is not set")
            return None
    check(os.path.exists(agent), f"{agent}: not built")
    return agent


def run_on_board(label, arch, body):
    """The image of ARCH (built or found in the cache), BODY(work) in a
    scratch directory, PASS or FAIL printed; returns the exit code."""
    try:
        t = time.monotonic()
        image = vm.build_image(arch)
        say(f"image {image} ready in {time.monotonic() - t:.1f} s")
        work = tempfile.mkdtemp(prefix=f"xiot-vm-{label.replace(' ', '-')}.")
        extra = body(work) or ""
        say(f"PASS {label}{extra}: {time.monotonic() - T0:.1f} s in all")
        shutil.rmtree(work, ignore_errors=True)
        return 0
    except (Fail, vm.Failure) as e:
        say(f"FAIL {label}: {e}")
        return 1


def main():
    if len(sys.argv) != 3 or sys.argv[2] not in CASES:
        print(__doc__, file=sys.stderr)
        return 2
    build, case = os.path.abspath(sys.argv[1]), sys.argv[2]
    arch = case
    qemu = vm.ARCHES[arch]["qemu"]
    if shutil.which(qemu) is None:
        print(f"SKIP: {qemu} not installed (tools/deps installs qemu-system-x86 / qemu-system-arm)")
        return SKIP
    try:
        agent = board_agent(build, arch)
    except Fail as e:
        say(f"FAIL {case}: {e}")
        return 1
    if agent is None:
        return SKIP
    return run_on_board(case, arch, lambda work: CASES[case](build, work, agent))


if __name__ == "__main__":
    sys.exit(main())
