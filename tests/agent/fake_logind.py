#!/usr/bin/python3
"""A stand-in for systemd-logind on a private D-Bus bus, for the tests of
the agent's "reboot": "logind" backend (hal/linux/logind_restart.cpp).

    fake_logind.py accept|deny

Owns org.freedesktop.login1 on the bus named by $DBUS_SESSION_BUS_ADDRESS
(the test's own dbus-daemon) and serves org.freedesktop.login1.Manager.Reboot
on /org/freedesktop/login1. Prints "ready" once the name is owned, then one
line per call: "Reboot interactive=<True|False>". With "deny" each call fails
as polkit's refusal would (org.freedesktop.DBus.Error.AccessDenied). Runs
until killed.
"""
import sys

import dbus
import dbus.mainloop.glib
import dbus.service
from gi.repository import GLib


class AccessDenied(dbus.exceptions.DBusException):
    _dbus_error_name = "org.freedesktop.DBus.Error.AccessDenied"


class Manager(dbus.service.Object):
    def __init__(self, bus, mode):
        super().__init__(bus, "/org/freedesktop/login1")
        self.mode = mode

    @dbus.service.method("org.freedesktop.login1.Manager", in_signature="b", out_signature="")
    def Reboot(self, interactive):
        print(f"Reboot interactive={bool(interactive)}", flush=True)
        if self.mode == "deny":
            raise AccessDenied("Interactive authentication required (fake polkit said no)")


def main():
    mode = sys.argv[1] if len(sys.argv) > 1 else "accept"
    dbus.mainloop.glib.DBusGMainLoop(set_as_default=True)
    bus = dbus.SessionBus()
    name = dbus.service.BusName("org.freedesktop.login1", bus)
    manager = Manager(bus, mode)
    print("ready", flush=True)
    GLib.MainLoop().run()
    del name, manager


if __name__ == "__main__":
    main()
