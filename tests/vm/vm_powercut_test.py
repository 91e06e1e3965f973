#!/usr/bin/python3
"""Power cuts and the reboot command on the virtual boards (ctest label vm):
the agent publishing at 20 readings/s, QEMU killed with SIGKILL (the guest's
page cache is lost, the ext4 state disk keeps what reached it), the board
booted again on the same disk, and then the `reboot` command.

usage: vm_powercut_test.py BUILD_DIR amd64|arm64 [--policies always,interval|none] [--no-reboot]

One boot per fsync policy, one more to see the last cut recovered, and the
reboot command in that last boot (a second boot when it reboots the kernel):

  boot 1 (journal.fsync = POLICIES[0]), readings at 0.05 s; once N items of
          this boot reached the server: SIGKILL to QEMU
  boot 2 (POLICIES[1]) on the same state disk: ext4 replays its journal, the
          agent recovers its telemetry journal; checked: no corrupt record
          replayed, everything journaled before the kill is delivered (under
          `always`: every seq, none reported lost); then again N items and
          SIGKILL
  boot 3 (default policy): the same checks for the second cut; under
          `interval`: the WARN line names the range of seqs reserved and not
          in the journal, diagnostics power_cut_lost equals its count, and the
          items the server holds plus that range account for every seq (no
          silent gap); seqs are never reused (one boot id per seq)
  reboot  an owner runs `xiotctl run dev1 reboot confirm=true`; the agent comes
          back online by itself with a new boot id (with "reboot": "logind"
          the kernel reboots and QEMU restarts the guest: no -no-reboot)

The server side is a `xiotctl watch dev1 --json` that runs through the whole
test: every item the server accepted is notified to it (Prosody's PEP keeps
only the newest item), de-duplicated by item id.

Prints the time of each boot and phase. Exit 0 pass, 1 fail, 77 skipped.
"""
import importlib.machinery
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def load(name, path):
    loader = importlib.machinery.SourceFileLoader(name, path)
    spec = importlib.util.spec_from_loader(name, loader)
    mod = importlib.util.module_from_spec(spec)
    loader.exec_module(mod)
    return mod


base = load("xiot_vm_test", os.path.join(HERE, "vm_test.py"))
vm = base.vm
say, check, Fail, Server, Ctl = base.say, base.check, base.Fail, base.Server, base.Ctl

# The reboot mode the test configures (config key "reboot"):
REBOOT_MODE = "logind"  # the kernel reboots the board; "exec" re-executes only the agent
ITEMS_PER_BOOT = 60    # items of a boot that reach the server before the cut (3 s at 20/s)


def agent_config(policy):
    cfg = base.agent_config()
    cfg["telemetry"] = {"interval_s": 0.05, "sample_s": 0.05, "batch_window_s": 0}  # one item per reading
    cfg["journal"] = {"path": "/var/lib/xiot/journal"}
    if policy:
        cfg["journal"]["fsync"] = policy
    if REBOOT_MODE != "exec":
        cfg["reboot"] = REBOOT_MODE
    return cfg


def board_file(arch, work):
    """The board's own file without the i2c-stub chips (none are made here:
    the readings come from system metrics, and the relay on arm64)."""
    with open(os.path.join(ROOT, "boards", f"qemu-{arch}", "board.json")) as f:
        b = json.load(f)
    b["devices"] = [d for d in b["devices"] if d.get("bus") is None or not d["bus"].startswith("i2c")]
    b["buses"] = [x for x in b.get("buses", []) if x["type"] != "i2c"]
    path = os.path.join(work, f"qemu-{arch}-powercut.json")
    with open(path, "w") as f:
        json.dump(b, f, indent=1)
    return path


class Watch:
    """`xiotctl watch dev1 --json` in the background: the items the server accepted."""

    def __init__(self, ctl, work):
        self.path = os.path.join(work, "watch.jsonl")
        self.out = open(self.path, "w")
        self.proc = subprocess.Popen(ctl.base + ["watch", "dev1", "--json"], stdout=self.out,
                                     stderr=open(os.path.join(work, "watch.err"), "w"))
        self.pos = 0
        self.items = {}  # item id -> True

    def poll(self):
        with open(self.path) as f:
            f.seek(self.pos)
            data = f.read()
        cut = data.rfind("\n") + 1
        self.pos += len(data[:cut].encode())
        for line in data[:cut].splitlines():
            try:
                self.items[json.loads(line)["item"]] = True
            except (ValueError, KeyError):
                pass
        return self.items

    def seqs(self):
        """{seq: set(boot ids)} of everything seen."""
        out = {}
        for item in self.poll():
            boot, _, seq = item.rpartition("-")
            out.setdefault(int(seq), set()).add(boot)
        return out

    def count(self, boot):
        return sum(1 for i in self.poll() if i.startswith(boot + "-"))

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def diagnostics(ctl):
    return ctl.run_json("run", "dev1", "diagnostics")["values"]


def wait_until(what, timeout, fn):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = fn()
        if last:
            return last
        time.sleep(0.5)
    raise Fail(f"{what}: not within {timeout} s (last: {last})")


def boot(board, server, agent, board_json, policy, fresh):
    t = time.monotonic()
    board.prepare(agent, agent_config(policy), board_json, server.ca, server.password("dev1"),
                  fresh_state=fresh)
    board.start(server.port)
    tb = board.wait_login(timeout=900)
    say(f"boot ({policy or 'default'} fsync): shell {tb:.1f} s after QEMU start")
    return t


def agent_log(board):
    return board.sh("cat /var/lib/xiot/agent.log", timeout=120)


def last_start(log):
    """The agent log from the newest start on (its first line names the board;
    the journal's recovery lines follow)."""
    k = log.rfind("INFO board:")
    return log[log.rfind("\n", 0, k) + 1:] if k >= 0 else log


def cut(board, watch, ctl, n):
    """Waits until N items of this boot reached the server, then SIGKILL."""
    boot_id = diagnostics(ctl)["boot_id"]
    n0, t = watch.count(boot_id), time.monotonic()
    wait_until(f"{n} items of boot {boot_id} on the server", 300, lambda: watch.count(boot_id) >= n)
    # At least one more second of live publishing, and its rate.
    time.sleep(1)
    n1, dt = watch.count(boot_id), time.monotonic() - t
    board.kill()
    say(f"QEMU killed (SIGKILL) with {watch.count(boot_id)} items of boot {boot_id} on the server "
        f"({(n1 - n0) / dt:.1f} items/s arriving just before)")
    return boot_id


def recovered(board, ctl, watch, policy, ranges):
    """After a cut under POLICY: the journal recovered, nothing corrupt
    replayed, what was journaled delivered, every seq accounted for."""
    t = time.monotonic()
    log = last_start(agent_log(board))
    lines = [l for l in log.splitlines() if "journal:" in l or "outbox:" in l]
    say("agent log after the cut:\n  " + "\n  ".join(lines[:8]))
    c = re.search(r"(\d+) corrupt records skipped", log)
    check(c is not None, "no journal recovery line in the agent log after the cut")
    check(c.group(1) == "0" and "never replayed" not in log, "a corrupt journal record was found after the cut")
    m = re.search(r"up to (\d+) readings lost \(seq (\d+)\.\.(\d+)", log)
    d = wait_until("the recovered items delivered (journal_depth 0)", 300,
                   lambda: (lambda d: d if d.get("journal_depth") == "0" else None)(diagnostics(ctl)))
    lost = int(d.get("power_cut_lost") or 0)
    say(f"diagnostics: power_cut_lost {lost}, journal_corrupt {d.get('journal_corrupt')}, "
        f"dropped_readings {d.get('dropped_readings')}, replayed {d.get('replayed')}")
    check(d.get("journal_corrupt") == "0", f"corrupt records: {d}")
    check(d.get("dropped_readings") == "0", f"readings dropped: {d}")
    if policy == "always":
        check(m is None and lost == 0, f"fsync always reported a loss: {m and m.group(0)}, {lost}")
    elif m is not None:
        n, a, b = int(m.group(1)), int(m.group(2)), int(m.group(3))
        check(n == b - a + 1 and lost == n, f"WARN says {n} (seq {a}..{b}), diagnostics {lost}")
        ranges.append((a, b))
    else:
        # The cut came right after a sync (nothing reserved beyond the journal).
        check(lost == 0, f"power_cut_lost {lost} without the WARN line")
    # Accounting: the server's items plus the reported ranges hold every seq
    # up to the highest one the server has; no seq under two boot ids.
    time.sleep(2)  # the newest items' notifications
    seqs = watch.seqs()
    top, low = max(seqs), min(seqs)  # low: the first item after the watch started
    in_range = lambda s: any(a <= s <= b for a, b in ranges)
    missing = [s for s in range(low, top + 1) if s not in seqs and not in_range(s)]
    reused = {s: b for s, b in seqs.items() if len(b) > 1}
    on_server_in_ranges = sum(1 for s in seqs if in_range(s))
    say(f"server holds {len(seqs)} seqs {low}..{top}; reported lost ranges {ranges} "
        f"({sum(b - a + 1 for a, b in ranges)} seqs, {on_server_in_ranges} of them reached the server "
        f"before the cut); missing {len(missing)}; {time.monotonic() - t:.1f} s")
    check(not missing, f"a silent gap: seqs {missing[:20]} neither on the server nor reported lost")
    check(not reused, f"seqs used by two boots: {dict(list(reused.items())[:5])}")
    return lost


def reboot(board, server, ctl):
    owner = Ctl.__new__(Ctl)
    owner.bin = ctl.bin
    owner.base = [ctl.bin, "--jid", "admin@localhost", "--password", server.password("admin"),
                  "--host", "127.0.0.1", "--port", str(server.port), "--ca-file", server.ca]
    owner.wait_online("dev1", 300)  # the owner's first watch subscribes: run needs dev1 in the roster
    before = diagnostics(ctl)["boot_id"]
    qemu_pid = board.proc.pid
    t = time.monotonic()
    board.buf = b""
    r = owner.run_json("run", "dev1", "reboot", "confirm=true", "reason=vm test")
    say(f"reboot answered: {r.get('status')} {r.get('note') or ''}".strip())
    if REBOOT_MODE == "logind":
        board.expect(rb"reboot: Restarting system", 300, "the kernel's reboot")
        say(f"kernel reboot {time.monotonic() - t:.1f} s after the command")
        board.wait_login(timeout=900)
        check(board.proc.poll() is None and board.proc.pid == qemu_pid, "QEMU exited instead of rebooting")
    def back():
        try:
            d = diagnostics(ctl)
        except Fail:
            return None
        return d if d.get("boot_id") not in (None, before) else None
    ctl.wait_online("dev1", 900)
    d = wait_until("the agent back with a new boot id", 900, back)
    say(f"reboot ({REBOOT_MODE}): agent online again with boot {d['boot_id']} (was {before}), uptime "
        f"{d.get('uptime_s')} s, {time.monotonic() - t:.1f} s after the command")
    log = agent_log(board)
    check("reboot requested by admin@localhost" in log, "the agent log does not show the reboot request")
    check("journal closed" in log, "the agent did not close its journal before the reboot")


def run(build, work, agent, arch, policies, do_reboot):
    server = Server(work)
    board = vm.Board(arch, os.path.join(work, "board"))
    watch = None
    ranges = []
    times = {}
    try:
        bj = board_file(arch, work)
        ctl = Ctl(build, server)
        prev = None
        for i, policy in enumerate(policies + [None]):
            t = boot(board, server, agent, bj, policy, fresh=(i == 0))
            ctl.wait_online("dev1", 900)
            say(f"agent online {time.monotonic() - t:.1f} s after QEMU start")
            if watch is None:
                watch = Watch(ctl, work)
            if prev is not None:
                recovered(board, ctl, watch, prev, ranges)
                times[f"cut under {prev}: boot to checked"] = time.monotonic() - t
            if policy is None:
                break
            cut(board, watch, ctl, ITEMS_PER_BOOT)
            prev = policy
        if do_reboot:
            t = time.monotonic()
            reboot(board, server, ctl)
            times["reboot"] = time.monotonic() - t
        for k, v in times.items():
            say(f"time: {k}: {v:.1f} s")
    finally:
        if watch:
            watch.stop()
        board.stop()
        server.stop()


def main():
    args = sys.argv[1:]
    if len(args) < 2 or args[1] not in vm.ARCHES:
        print(__doc__, file=sys.stderr)
        return 2
    build, arch = os.path.abspath(args[0]), args[1]
    policies = ["always", "interval"]
    do_reboot = "--no-reboot" not in args
    if "--policies" in args:
        v = args[args.index("--policies") + 1]
        policies = [] if v == "none" else v.split(",")
    if shutil.which(vm.ARCHES[arch]["qemu"]) is None:
        print(f"SKIP: {vm.ARCHES[arch]['qemu']} not installed (tools/deps)")
        return base.SKIP
    try:
        agent = base.board_agent(build, arch)
    except Fail as e:
        say(f"FAIL powercut {arch}: {e}")
        return 1
    if agent is None:
        return base.SKIP
    return base.run_on_board(f"powercut {arch}", arch, lambda work: run(build, work, agent, arch, policies, do_reboot)
                             or f" ({','.join(policies)}{', reboot' if do_reboot else ''})")


if __name__ == "__main__":
    sys.exit(main())
