#!/usr/bin/python3
"""A RAUC that dies mid-install, for the one case the real `rauc service`
cannot show safely (killing it while it has a bundle loop-mounted leaves the
mount behind): tests/agent/rauc_installer_test.cpp.

    fake_rauc.py

Owns de.pengutronix.rauc on the bus named by $DBUS_SESSION_BUS_ADDRESS and
answers de.pengutronix.rauc.Installer.InstallBundle(s, a{sv}) on /, prints
"InstallBundle <source>", then exits 100 ms later without Completed.
Prints "ready" once the name is owned.
"""
import sys

import dbus
import dbus.mainloop.glib
import dbus.service
from gi.repository import GLib


class Installer(dbus.service.Object):
    def __init__(self, bus, loop):
        super().__init__(bus, "/")
        self.loop = loop

    @dbus.service.method("de.pengutronix.rauc.Installer", in_signature="sa{sv}", out_signature="")
    def InstallBundle(self, source, args):
        print(f"InstallBundle {source}", flush=True)
        GLib.timeout_add(100, lambda: sys.exit(0))


def main():
    dbus.mainloop.glib.DBusGMainLoop(set_as_default=True)
    bus = dbus.SessionBus()
    name = dbus.service.BusName("de.pengutronix.rauc", bus)
    loop = GLib.MainLoop()
    installer = Installer(bus, loop)
    print("ready", flush=True)
    loop.run()
    del name, installer


if __name__ == "__main__":
    main()
