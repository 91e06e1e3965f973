#!/usr/bin/python3
"""The package lifecycle on the virtual boards (ctest label vm; issue 11,
item 4): the xiot-agent and xiotctl .debs installed, configured, upgraded
while the server is down, removed and purged, on Debian 12 under QEMU
(tools/vm) with the root on a real ext4 disk.

usage: lifecycle_test.py BUILD_DIR amd64|arm64
       lifecycle_test.py --packages BUILD_DIR amd64|arm64   (the ctest fixture)

The packages: two builds of each, V1 and a newer V2, made by `tools/package
--arch ARCH --version V --out BUILD/vm-packages/ARCH/vN` (the fixture
vm.packages.ARCH), or taken from $XIOT_VM_PACKAGES/v1 and /v2 (directories
holding xiot-agent_*_ARCH.deb and xiotctl_*_ARCH.deb). They reach the guest
on a read-only media disk (/media/xiot) with the CA and the provisioning file.

One board (and one reboot):
  install    apt-get install ./xiot-agent_V1 ./xiotctl_V1 (offline: the image
             has every dependency): the unit is enabled, not started (no
             config: ConditionPathExists), no restart loop; user xiot exists
  setup      xiot-agent setup --from /media/xiot/provision.json: the config's
             owners and modes; systemctl start; the agent runs as xiot; the
             operator on the host (xiotctl, as the owner) reads the board
             (amd64: a BME280 on /dev/i2c-0; arm64: sets the PL061 relay) and
             the telemetry items arrive on the device's PEP node;
             systemd-analyze security (the score is printed)
  upgrade    the server stops; readings pile up in the journal; apt-get
             install ./xiot-agent_V2 (noninteractive, no --force-conf*): exit
             0, no conffile prompt, no .dpkg-* files, config unchanged
             (sha256), the new version runs; more readings while still
             offline; the server comes back: every reading taken before,
             during and after the upgrade is on the node (seqs 1..N
             contiguous across the runs, ids unique), the journal drained
  reboot     the owner's `reboot` command: the agent (user xiot) asks logind,
             the package's polkit rule allows it, the kernel reboots the
             board, the enabled unit brings the agent back (a new boot id)
  remove     apt-get remove: /etc/xiot and /var/lib/xiot (the journal) kept
  purge      apt-get purge: both gone, and the user xiot

Prints the time of each step. Exit 0 pass, 1 fail, 77 skipped (no qemu, no
tools/package and no $XIOT_VM_PACKAGES).
"""
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import vm_test  # noqa: E402  (tools/vm as a module, the server, xiotctl)

vm = vm_test.vm
say, check, Fail, Server = vm_test.say, vm_test.check, vm_test.Fail, vm_test.Server
PY = "/usr/bin/python3"
SKIP = 77
NODE = "urn:xiot:telemetry:0"
# Telemetry while the test runs (xiotctl configure): the node keeps at most 256
# items (Prosody's pep_max_items), and an upgrade under TCG on a loaded machine
# can take minutes: ~130 items in a 13-minute run at 3 s, so 5 s.
INTERVAL_S = 5
NODE_MAX = 256
APT = "DEBIAN_FRONTEND=noninteractive apt-get -y -o Dpkg::Use-Pty=0"


# ------------------------------------------------------------- the packages

def project_version():
    with open(os.path.join(ROOT, "CMakeLists.txt")) as f:
        m = re.search(r"project\(xiot VERSION (\d+)\.(\d+)\.(\d+)", f.read())
    return [int(x) for x in m.groups()]


def versions():
    """V1 = the project's version, V2 = its next patch release (valid for
    CMake's project(VERSION) and for dpkg alike, V2 > V1)."""
    major, minor, patch = project_version()
    return f"{major}.{minor}.{patch}", f"{major}.{minor}.{patch + 1}"


def package_dir(build, arch):
    env = os.environ.get("XIOT_VM_PACKAGES")
    return os.path.abspath(env) if env else os.path.join(build, "vm-packages", arch)


def tool_package():
    tool = os.path.join(ROOT, "tools", "package")
    return tool if os.path.exists(tool) else None


def build_packages(build, arch):
    """The fixture: V1 and V2 of both packages for ARCH via tools/package."""
    if os.environ.get("XIOT_VM_PACKAGES"):
        say(f"packages from $XIOT_VM_PACKAGES ({package_dir(build, arch)})")
        return 0
    tool = tool_package()
    if tool is None:
        print("SKIP: tools/package is not there (and $XIOT_VM_PACKAGES is not set)")
        return SKIP
    out = package_dir(build, arch)
    for tag, version in zip(("v1", "v2"), versions()):
        d = os.path.join(out, tag)
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
        t = time.monotonic()
        # A scratch copy per arch: the two fixtures may run at the same time.
        env = dict(os.environ, XIOT_PACKAGE_WORK=os.path.join(build, f"package-work-{arch}"))
        p = subprocess.run([tool, "--arch", arch, "--version", version, "--out", d],
                           capture_output=True, text=True, env=env)
        if p.returncode != 0:
            say(f"FAIL: tools/package --arch {arch} --version {version}: exit {p.returncode}\n"
                f"{p.stdout[-2000:]}\n{p.stderr[-3000:]}")
            return 1
        say(f"tools/package --arch {arch} --version {version}: {time.monotonic() - t:.1f} s: "
            f"{sorted(os.listdir(d))}")
    return 0


def find_debs(build, arch):
    """{"v1"|"v2": {"agent": path, "ctl": path, "version": str}}, or None."""
    res = {}
    for tag in ("v1", "v2"):
        d = os.path.join(package_dir(build, arch), tag)
        # Anywhere below vN (tools/package may sort its output by arch).
        agent = sorted(glob.glob(os.path.join(d, "**", f"xiot-agent_*_{arch}.deb"), recursive=True))
        ctl = sorted(glob.glob(os.path.join(d, "**", f"xiotctl_*_{arch}.deb"), recursive=True))
        if len(agent) != 1 or len(ctl) != 1:
            return None
        ver = subprocess.run(["dpkg-deb", "-f", agent[0], "Version"], capture_output=True,
                             text=True, check=True).stdout.strip()
        res[tag] = {"agent": agent[0], "ctl": ctl[0], "version": ver}
    v = subprocess.run(["dpkg", "--compare-versions", res["v2"]["version"], "gt", res["v1"]["version"]])
    check(v.returncode == 0, f"V2 {res['v2']['version']} is not newer than V1 {res['v1']['version']}")
    return res


# ------------------------------------------------------------- helpers

def provision_file(server, arch):
    """What `xiot-agent setup --from` reads (one file per device)."""
    return {"jid": "dev1@localhost", "server": f"{vm.GUEST_SERVER}:{vm.GUEST_PORT}",
            "ca": f"{vm.MEDIA_DIR}/ca.crt", "board": f"qemu-{arch}",
            "owners": ["admin@localhost"], "password": server.password("dev1")}


class Owner(vm_test.Ctl):
    """xiotctl as the device's owner (admin@localhost), the one setup names."""

    def __init__(self, build, server):
        super().__init__(build, server)
        self.base = [self.bin, "--jid", "admin@localhost", "--password", server.password("admin"),
                     "--host", "127.0.0.1", "--port", str(server.port), "--ca-file", server.ca]


def pep(server, action, *args):
    p = subprocess.run([PY, os.path.join(ROOT, "tests", "agent", "pep_node.py"),
                        "--jid", "dev1@localhost", "--password", server.password("dev1"),
                        "--host", "127.0.0.1", "--port", str(server.port), "--ca-file", server.ca,
                        action, NODE, *args], capture_output=True, text=True, timeout=60)
    check(p.returncode == 0, f"pep_node.py {action}: exit {p.returncode}: {p.stdout} {p.stderr[-500:]}")
    return json.loads(p.stdout.strip().splitlines()[-1])


def node_seqs(server):
    """{boot id: [seq, ...]} of the items on the telemetry node; the ids."""
    ids = pep(server, "items")["items"]
    by_boot = {}
    for i in ids:
        boot, _, seq = i.rpartition("-")
        check(seq.isdigit(), f"item id {i!r} is not <boot-id>-<seq>")
        by_boot.setdefault(boot, []).append(int(seq))
    return by_boot, ids


def wait_until(what, fn, timeout, every=1.0):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = fn()
        if last:
            return last
        time.sleep(every)
    raise Fail(f"{what}: not within {timeout} s (last: {last!r})")


def unit_state(board):
    out = board.sh("systemctl show -p ActiveState -p SubState -p NRestarts -p ConditionResult "
                   "-p UnitFileState -p MainPID xiot-agent.service")
    return dict(l.split("=", 1) for l in out.strip().splitlines() if "=" in l)


def journal_bytes(board):
    out = board.sh("du -sb /var/lib/xiot/journal 2>/dev/null | cut -f1", check=False).strip()
    return int(out) if out.isdigit() else 0


def await_growth(board, times, timeout):
    """Until the journal has grown TIMES times (readings journalled, not acknowledged)."""
    first = last = journal_bytes(board)
    grew = 0
    deadline = time.monotonic() + timeout
    while grew < times and time.monotonic() < deadline:
        time.sleep(1)
        now = journal_bytes(board)
        grew, last = grew + (now > last), now
    check(grew >= times, f"the journal did not grow {times} times while the server was away "
                         f"({first} -> {last} bytes)")
    return first, last


def config_sums(board):
    return board.sh("cd /etc/xiot && sha256sum agent.json password ca.crt && "
                    "stat -c '%n %U:%G %a' /etc/xiot agent.json password ca.crt")


# ------------------------------------------------------------- the test

def lifecycle(build, work, arch, debs):
    v1, v2 = debs["v1"], debs["v2"]
    server = Server(work)
    board = vm.Board(arch, os.path.join(work, "board"))
    steps = {}
    try:
        t = time.monotonic()
        pep(server, "create", "--max-items", str(NODE_MAX))
        prov = os.path.join(work, "provision.json")
        with open(prov, "w") as f:
            json.dump(provision_file(server, arch), f, indent=1)
        media = {"ca.crt": server.ca, "provision.json": prov}
        for tag in ("v1", "v2"):
            for k in ("agent", "ctl"):
                media[os.path.basename(debs[tag][k])] = debs[tag][k]
        chips, new = {}, []
        if arch == "amd64":
            chips = {"0x76": vm_test.chip_image(build, "bosch,bme280", vm_test.BME_76)}
        board.prepare(stub_chips=chips, new_devices=new, state_mb=0, media=media)
        board.start(server.port)
        tb = board.wait_login(timeout=900)
        say(f"boot: {tb:.1f} s from QEMU start to the console's shell ({arch}, kernel "
            f"{board.manifest['kernel']}, root on ext4)")
        steps["boot"] = time.monotonic() - t

        # -- install V1: enabled, not started, no loop
        t = time.monotonic()
        m = vm.MEDIA_DIR
        out = board.sh(f"(cd {m} && {APT} install ./{os.path.basename(v1['agent'])} "
                       f"./{os.path.basename(v1['ctl'])}) 2>&1", timeout=900)
        say(f"apt-get install V1 ({v1['version']}): {time.monotonic() - t:.1f} s\n  "
            + "\n  ".join(out.strip().splitlines()[-4:]))
        steps["install"] = time.monotonic() - t
        st = unit_state(board)
        say(f"after install: {st}")
        check(st.get("UnitFileState") == "enabled", f"xiot-agent.service not enabled after install: {st}")
        check(st.get("ActiveState") == "inactive", f"xiot-agent.service not inactive without a config: {st}")
        check(board.sh("id -u xiot >/dev/null && echo yes", check=False).strip() == "yes",
              "no user xiot after install")
        # Not in a restart loop: nothing restarts it a while later either.
        board.sh("sleep 5")
        st2 = unit_state(board)
        check(st2.get("ActiveState") == "inactive" and st2.get("NRestarts") == st.get("NRestarts", "0"),
              f"the unconfigured agent is restarting: {st} -> {st2}")

        # -- setup, start, telemetry
        t = time.monotonic()
        out = board.sh(f"xiot-agent setup --from {m}/provision.json 2>&1", timeout=120)
        say(f"setup: {out.strip()[-400:]}")
        perms = board.sh("stat -c '%n %U:%G %a' /etc/xiot /etc/xiot/agent.json /etc/xiot/password "
                         "/etc/xiot/ca.crt")
        say("config: " + perms.strip().replace("\n", "; "))
        # docs/packaging decisions: /etc/xiot root:xiot 0750, agent.json root:xiot
        # 0640, password xiot:xiot 0600, ca.crt 0644 (its group is not fixed).
        want = {"/etc/xiot": r"root:xiot 750", "/etc/xiot/agent.json": r"root:xiot 640",
                "/etc/xiot/password": r"xiot:xiot 600", "/etc/xiot/ca.crt": r"root:\S+ 644"}
        for line in perms.strip().splitlines():
            name, own, mode = line.split()
            check(re.fullmatch(want.get(name, "-"), f"{own} {mode}") is not None,
                  f"{name}: {own} {mode}, want {want.get(name)}")
        board.sh("systemctl start xiot-agent", timeout=300)
        ctl = Owner(build, server)
        r = ctl.wait_online("dev1", 600)
        say(f"agent online {time.monotonic() - t:.1f} s after setup began; read: {json.dumps(r['values'])}")
        if arch == "amd64":  # /dev/i2c-0 opened by the non-root agent (the package's udev rule)
            vm_test.approx(r["values"].get("env0.temperature"), vm_test.BME_76["temperature_c"], 0.02,
                           "env0.temperature (BME280 0x76 over /dev/i2c-0, as user xiot)")
        else:  # the PL061's gpiochip opened and driven by the non-root agent
            ctl.run_json("run", "dev1", "set", "channel=relay0.state", "value=true")
            v = ctl.run_json("run", "dev1", "read")["values"].get("relay0.state")
            check(v is True, f"relay0.state after set true (as user xiot): {v!r}")
            say("relay0 set true through the gpiochip, as user xiot")
        ctl.run_json("run", "dev1", "configure", f"interval_s={INTERVAL_S}")
        user = board.sh("ps -o user= -p $(systemctl show -p MainPID --value xiot-agent.service)").split()
        check(user == ["xiot"], f"xiot-agent runs as {user}, want xiot")
        sec = board.sh("systemd-analyze security xiot-agent.service 2>&1 | tail -n 1", check=False).strip()
        say(f"agent runs as {user[0]}; systemd-analyze security: {sec}")
        # The footprint on the board (docs/packaging.md "Footprint"): the
        # agent's memory once online, the package's installed size.
        mem = board.sh("grep -E '^(Rss|Pss):' /proc/$(systemctl show -p MainPID --value "
                       "xiot-agent.service)/smaps_rollup | tr -s ' ' | tr '\\n' ' '; "
                       "dpkg-query -W -f=' Installed-Size ${Installed-Size} KiB' xiot-agent",
                       check=False).strip()
        say(f"footprint ({arch}, online, idle between readings): {mem}")
        by_boot = wait_until("telemetry items on the node", lambda: node_seqs(server)[0] or None, 120)
        say(f"telemetry arriving: {sum(len(s) for s in by_boot.values())} items")
        steps["setup"] = time.monotonic() - t

        # -- upgrade while the server is down
        t = time.monotonic()
        before = config_sums(board)
        pid1 = unit_state(board).get("MainPID")
        server.devserver("stop")
        a, b = await_growth(board, 2, 120)
        say(f"server stopped; journal {a} -> {b} bytes (before the upgrade)")
        tu = time.monotonic()
        out = board.sh(f"(cd {m} && {APT} install ./{os.path.basename(v2['agent'])} "
                       f"./{os.path.basename(v2['ctl'])}) 2>&1", timeout=900)
        say(f"apt-get install V2 ({v2['version']}): {time.monotonic() - tu:.1f} s\n  "
            + "\n  ".join(out.strip().splitlines()[-4:]))
        check("Configuration file" not in out and "*** " not in out, f"a conffile question: {out[-1500:]}")
        after = config_sums(board)
        check(after == before, f"the config changed in the upgrade:\n{before}\n->\n{after}")
        stray = board.sh("find /etc /lib/systemd /usr/share/xiot -name '*.dpkg-*' 2>/dev/null", check=False).strip()
        check(not stray, f"dpkg left files behind: {stray}")
        got = board.sh("dpkg-query -W -f '${Version}\\n' xiot-agent xiotctl").split()
        check(got == [v2["version"]] * 2, f"installed versions {got}, want {v2['version']}")
        st = wait_until("the agent running again after the upgrade",
                        lambda: (lambda s: s if s.get("ActiveState") == "active" and s.get("MainPID") not in
                                 ("0", pid1) else None)(unit_state(board)), 300)
        # How long the old agent took to stop (the unit's stop is part of the upgrade's time).
        stop = board.sh("journalctl -o short-monotonic --no-pager -u xiot-agent.service | "
                        "grep -E 'Stopping|Stopped|Deactivated|SIGKILL|timed out|Started|SIGTERM' | tail -n 6",
                        check=False).strip()
        say("the unit around the upgrade:\n  " + stop.replace("\n", "\n  "))
        check("SIGKILL" not in stop and "timed out" not in stop,
              "the old agent did not stop by itself on SIGTERM in the upgrade")
        ver = board.sh("xiot-agent --version").strip()
        say(f"after the upgrade: {st}; xiot-agent --version: {ver}")
        upstream = v2["version"].split(":")[-1].rsplit("-", 1)[0]
        check(upstream in ver, f"xiot-agent --version says {ver!r}, want {upstream}")
        a, b = await_growth(board, 2, 120)
        say(f"journal {a} -> {b} bytes (after the upgrade, still offline)")
        server.devserver("restart")
        r = ctl.wait_online("dev1", 600)
        d = {}

        def drained():
            nonlocal d
            d = ctl.run_json("run", "dev1", "diagnostics")["values"]
            return d.get("journal_depth") == "0"
        wait_until("the journal drained after the server came back", drained, 300, every=2)
        say(f"diagnostics: journal_depth {d.get('journal_depth')}, replayed {d.get('replayed')}, "
            f"dropped {d.get('dropped_readings')}, journal_corrupt {d.get('journal_corrupt')}")
        by_boot, ids = node_seqs(server)
        check(len(ids) < NODE_MAX, f"the node is full ({len(ids)} items): the oldest may have been "
                                   f"evicted; raise INTERVAL_S")
        seqs = sorted(s for v in by_boot.values() for s in v)
        check(len(ids) == len(set(ids)), f"duplicate item ids on the node: {len(ids)} items, "
                                         f"{len(set(ids))} distinct")
        check(len(by_boot) >= 2, f"items of {len(by_boot)} agent run(s), want the runs before and "
                                 f"after the upgrade: {sorted(by_boot)}")
        gaps = sorted(set(range(1, seqs[-1] + 1)) - set(seqs))
        check(seqs[0] == 1 and not gaps and len(seqs) == len(set(seqs)),
              f"readings lost or repeated: seqs {seqs[0]}..{seqs[-1]}, missing {gaps[:20]}, "
              f"{len(seqs)} items; runs {({k: (min(v), max(v), len(v)) for k, v in by_boot.items()})}")
        check(d.get("dropped_readings") in ("0", None), f"readings dropped: {d}")
        say(f"upgrade: all {len(seqs)} readings arrived (seqs 1..{seqs[-1]}, none missing, ids unique) "
            f"from {len(by_boot)} runs: " + ", ".join(f"{k}: {min(v)}..{max(v)}" for k, v in by_boot.items()))
        steps["upgrade"] = time.monotonic() - t

        # -- the reboot command: the packaged agent (user xiot, no capability)
        # asks logind, the package's polkit rule allows it, the kernel reboots
        # the board, and the enabled unit brings the agent back by itself.
        t = time.monotonic()
        boot_before = d.get("boot_id")
        board.buf = b""
        r = ctl.run_json("run", "dev1", "reboot", "confirm=true", "reason=lifecycle test")
        say(f"reboot answered: {r.get('status')} {r.get('note') or ''}".strip())
        board.expect(rb"reboot: Restarting system", 600, "the kernel's reboot (logind, as user xiot)")
        board.wait_login(timeout=900)

        def back():
            try:
                dd = ctl.run_json("run", "dev1", "diagnostics")["values"]
            except Fail:
                return None
            return dd if dd.get("boot_id") not in (None, boot_before) else None
        dd = wait_until("the agent back after the reboot (new boot id)", back, 900, every=3)
        user = board.sh("ps -o user= -p $(systemctl show -p MainPID --value xiot-agent.service)").split()
        check(user == ["xiot"], f"after the reboot xiot-agent runs as {user}, want xiot")
        say(f"reboot: the board rebooted through logind and the agent is back as {user[0]} "
            f"(boot {dd.get('boot_id')}), {time.monotonic() - t:.1f} s after the command")
        steps["reboot"] = time.monotonic() - t

        # -- remove keeps state and config; purge removes them and the user
        t = time.monotonic()
        board.sh(f"{APT} remove xiot-agent 2>&1 | tail -n 3", timeout=600)
        kept = board.sh("ls -d /etc/xiot/agent.json /var/lib/xiot/journal 2>&1; id -u xiot 2>&1", check=False)
        say(f"after remove: {kept.strip()}")
        check("No such file" not in kept and "no such user" not in kept,
              f"remove did not keep the config, the journal and the user: {kept}")
        check(board.sh("test -e /usr/bin/xiot-agent && echo yes || echo no").strip() == "no",
              "/usr/bin/xiot-agent still there after remove")
        board.sh(f"{APT} purge xiot-agent 2>&1 | tail -n 3", timeout=600)
        gone = board.sh("ls -d /etc/xiot /var/lib/xiot 2>&1; id xiot 2>&1; "
                        "dpkg-query -W -f '${Status}' xiot-agent 2>&1; echo", check=False)
        say(f"after purge: {gone.strip()}")
        check(gone.count("No such file") == 2, f"purge left /etc/xiot or /var/lib/xiot: {gone}")
        check("no such user" in gone, f"purge left the user xiot: {gone}")
        steps["remove+purge"] = time.monotonic() - t
        say("steps: " + ", ".join(f"{k} {v:.1f} s" for k, v in steps.items()))
    finally:
        board.stop()
        server.stop()


def main():
    args = sys.argv[1:]
    fixture = bool(args) and args[0] == "--packages"
    if fixture:
        args = args[1:]
    if len(args) != 2 or args[1] not in vm.ARCHES:
        print(__doc__, file=sys.stderr)
        return 2
    build, arch = os.path.abspath(args[0]), args[1]
    if fixture:
        return build_packages(build, arch)
    qemu = vm.ARCHES[arch]["qemu"]
    if shutil.which(qemu) is None:
        print(f"SKIP: {qemu} not installed (tools/deps installs qemu-system-x86 / qemu-system-arm)")
        return SKIP
    try:
        debs = find_debs(build, arch)
        if debs is None:
            if tool_package() is None and not os.environ.get("XIOT_VM_PACKAGES"):
                print("SKIP: no packages: tools/package is not there and $XIOT_VM_PACKAGES is not set")
                return SKIP
            raise Fail(f"no xiot-agent/xiotctl .debs for {arch} in {package_dir(build, arch)}/v1 and /v2 "
                       f"(the fixture vm.packages.{arch} makes them)")
        say(f"packages: V1 {debs['v1']['version']}, V2 {debs['v2']['version']}")
    except (Fail, vm.Failure) as e:
        say(f"FAIL lifecycle {arch}: {e}")
        return 1
    return vm_test.run_on_board(f"lifecycle {arch}", arch, lambda work: lifecycle(build, work, arch, debs))


if __name__ == "__main__":
    sys.exit(main())
