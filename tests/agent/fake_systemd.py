#!/usr/bin/python3
"""A stand-in for systemd's manager on a private D-Bus bus, for the tests of
the Debian-package installer (hal/linux/deb_installer.cpp).

    fake_systemd.py done|failed|deny

Owns org.freedesktop.systemd1 on the bus named by $DBUS_SESSION_BUS_ADDRESS
and serves on /org/freedesktop/systemd1 (org.freedesktop.systemd1.Manager):
Subscribe(), StartUnit(s name, s mode) -> o job and GetUnit(s name) -> o.
Prints "ready" once the name is owned, then one line per call ("Subscribe",
"StartUnit <name> <mode>"). After a StartUnit it emits JobRemoved(id, job,
name, result) 50 ms later, result "done" or "failed" (the mode); a unit's
org.freedesktop.systemd1.Service.Result is then "success" or "exit-code".
With "deny" StartUnit fails as polkit's refusal would (AccessDenied).
Runs until killed.
"""
import sys

import dbus
import dbus.mainloop.glib
import dbus.service
from gi.repository import GLib

MANAGER = "org.freedesktop.systemd1.Manager"
PATH = "/org/freedesktop/systemd1"


class AccessDenied(dbus.exceptions.DBusException):
    _dbus_error_name = "org.freedesktop.DBus.Error.AccessDenied"


def unit_path(name):
    out = ""
    for ch in name:
        out += ch if ch.isalnum() else "_%02x" % ord(ch)
    return PATH + "/unit/" + out


class Unit(dbus.service.Object):
    def __init__(self, bus, name, result):
        super().__init__(bus, unit_path(name))
        self.result = result

    @dbus.service.method("org.freedesktop.DBus.Properties", in_signature="ss", out_signature="v")
    def Get(self, interface, prop):
        if interface == "org.freedesktop.systemd1.Service" and prop == "Result":
            return dbus.String(self.result)
        raise dbus.exceptions.DBusException("no such property", name="org.freedesktop.DBus.Error.UnknownProperty")


class Manager(dbus.service.Object):
    def __init__(self, bus, mode):
        super().__init__(bus, PATH)
        self.bus = bus
        self.mode = mode
        self.jobs = 0
        self.units = {}

    @dbus.service.method(MANAGER, in_signature="", out_signature="")
    def Subscribe(self):
        print("Subscribe", flush=True)

    @dbus.service.method(MANAGER, in_signature="ss", out_signature="o")
    def StartUnit(self, name, mode):
        print(f"StartUnit {name} {mode}", flush=True)
        if self.mode == "deny":
            raise AccessDenied("Interactive authentication required (fake polkit said no)")
        self.jobs += 1
        job = dbus.ObjectPath(f"{PATH}/job/{self.jobs}")
        result = "done" if self.mode == "done" else "failed"
        if name not in self.units:
            self.units[name] = Unit(self.bus, name, "success" if result == "done" else "exit-code")
        jid = self.jobs
        GLib.timeout_add(50, lambda: self.JobRemoved(dbus.UInt32(jid), job, name, result) and False)
        return job

    @dbus.service.method(MANAGER, in_signature="s", out_signature="o")
    def GetUnit(self, name):
        if name not in self.units:
            raise dbus.exceptions.DBusException(f"Unit {name} not loaded.",
                                                name="org.freedesktop.systemd1.NoSuchUnit")
        return dbus.ObjectPath(unit_path(name))

    @dbus.service.signal(MANAGER, signature="uoss")
    def JobRemoved(self, jid, job, unit, result):
        print(f"JobRemoved {unit} {result}", flush=True)


def main():
    mode = sys.argv[1] if len(sys.argv) > 1 else "done"
    dbus.mainloop.glib.DBusGMainLoop(set_as_default=True)
    bus = dbus.SessionBus()
    name = dbus.service.BusName("org.freedesktop.systemd1", bus)
    manager = Manager(bus, mode)
    print("ready", flush=True)
    GLib.MainLoop().run()
    del name, manager


if __name__ == "__main__":
    main()
