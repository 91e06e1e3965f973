#!/usr/bin/python3
"""tools/perf/slix_publisher.py - the slixmpp comparison of tools/perf-suite:
a slixmpp client (Debian's python3-slixmpp, run by /usr/bin/python3) doing the
floor publisher's job the way a slixmpp user would write it: mandatory
STARTTLS against --ca, SCRAM login, initial presence, then every --interval
seconds one reading of three values as one SenML XML item published to the
account's PEP node with xep_0060.publish (publish-options on the first
publish of a session only, as the floor does).

Reconnect policy as the floor's: at once when the link is lost, then every
--retry-ms (slixmpp's own doubling back-off is replaced).
stdout: `online <unix time s>` at each session start, `done <acked>` after
--count acknowledged items, `stop published <n> acked <m>` at exit.
"""
import argparse
import asyncio
import os
import signal
import sys
import time

import slixmpp
from slixmpp.xmlstream import ET

NS_SENML = "urn:ietf:params:xml:ns:senml"
NAMES = ("env0.temperature", "env0.humidity", "env0.pressure")
UNITS = ("Cel", "%RH", "Pa")
VALUES = ("21.54", "40.1", "101325")


class Publisher(slixmpp.ClientXMPP):
    def __init__(self, args):
        super().__init__(args.jid + "/" + args.resource, args.password)
        self.args = args
        self.retry_s = args.retry_ms / 1000.0
        self.register_plugin("xep_0004")
        self.register_plugin("xep_0060")
        self.seq = 0
        self.acked = 0
        self.first = True
        self.stopping = False
        self.task = None
        self.boot = os.urandom(4).hex()
        self.bn = "".join(c if c.isalnum() or c in "-:./_" else "_" for c in args.jid) + ":"
        self.add_event_handler("session_start", self.start)
        self.add_event_handler("disconnected", self.on_disconnected)

    def reschedule_connection_attempt(self):
        # the floor's policy: a fixed short retry instead of slixmpp's doubling
        if self._current_connection_attempt is None:
            return
        self._connect_loop_wait = self.retry_s
        self._current_connection_attempt = asyncio.ensure_future(self._connect_routine(), loop=self.loop)

    def on_disconnected(self, _reason):
        if self.task:
            self.task.cancel()
            self.task = None
        if not self.stopping:
            self.connect_now()

    def connect_now(self):
        self.connect(address=(self.args.host, self.args.port), force_starttls=True, disable_starttls=False)

    async def start(self, _event):
        self.send_presence()
        self.first = True
        print("online %.6f" % time.time(), flush=True)
        self.task = asyncio.ensure_future(self.publish_loop())

    def payload(self):
        pack = ET.Element("{%s}sensml" % NS_SENML)
        bt = ("%.6f" % time.time()).rstrip("0").rstrip(".")
        for i in range(3):
            r = ET.SubElement(pack, "{%s}senml" % NS_SENML)
            if i == 0:
                r.set("bn", self.bn)
                r.set("bt", bt)
            r.set("n", NAMES[i])
            r.set("u", UNITS[i])
            r.set("v", VALUES[i])
        return pack

    def options(self):
        form = self.plugin["xep_0004"].make_form(ftype="submit")
        form.add_field(var="FORM_TYPE", ftype="hidden",
                       value="http://jabber.org/protocol/pubsub#publish-options")
        form.add_field(var="pubsub#persist_items", value="true")
        form.add_field(var="pubsub#access_model", value="presence")
        return form

    async def publish_one(self):
        self.seq += 1
        item_id = "%s-%06d" % (self.boot, self.seq)
        opts = self.options() if self.first else None
        self.first = False
        try:
            await self.plugin["xep_0060"].publish(None, self.args.node, id=item_id, payload=self.payload(),
                                                  options=opts, timeout=30)
        except Exception as e:  # an error answer or a timeout: counted as not acknowledged
            print("slix_publisher: publish failed: %s" % e, file=sys.stderr, flush=True)
            return
        self.acked += 1
        if self.args.count and self.acked >= self.args.count:
            print("done %d" % self.acked, flush=True)
            self.stop()

    async def publish_loop(self):
        nxt = time.monotonic()
        while not self.args.count or self.seq < self.args.count:
            asyncio.ensure_future(self.publish_one())
            nxt += self.args.interval
            await asyncio.sleep(max(0.0, nxt - time.monotonic()))

    def stop(self):
        self.stopping = True
        self.disconnect()


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--jid", required=True)
    p.add_argument("--password", required=True)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--ca", required=True)
    p.add_argument("--resource", default="xiot")
    p.add_argument("--node", default="urn:xiot:telemetry:0")
    p.add_argument("--interval", type=float, default=1.0)
    p.add_argument("--count", type=int, default=0)
    p.add_argument("--retry-ms", type=float, default=100)
    args = p.parse_args()
    client = Publisher(args)
    client.ca_certs = args.ca
    loop = asyncio.get_event_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, client.stop)
    client.connect_now()
    done = loop.create_future()

    def finished(_reason):
        if client.stopping and not done.done():
            done.set_result(None)
    client.add_event_handler("disconnected", finished)
    loop.run_until_complete(done)
    print("stop published %d acked %d" % (client.seq, client.acked), flush=True)


if __name__ == "__main__":
    main()
