#!/usr/bin/python3
"""A scriptable stand-in for a device, for the integration tests (slixmpp).

It logs in (STARTTLS, certificate verified against the CA file), approves every
presence subscription request and subscribes back (as the agent does for ACL'd
JIDs), then reads commands, one per line, from stdin:

    publish NODE ITEM_ID XML            publish to its own PEP node with
                                        publish-options persist_items=true,
                                        access_model=presence
    publish-to SERVICE NODE ITEM_ID XML publish to a pubsub service (creates the
                                        node first if it is missing;
                                        publish-options persist_items=true)
    subscribe JID                       ask for JID's presence
    quit                                disconnect and exit 0

and reports on stdout, one line per event (flushed):

    ready                               logged in, roster fetched, presence sent
    sm-enabled                          the server enabled XEP-0198 stream management
    approved JID                        a subscription request from JID was approved
    published ITEM_ID                   the publish IQ came back as a result
    error ITEM_ID CONDITION             the publish IQ came back as an error
    bad-command TEXT

Run it with Debian's /usr/bin/python3 (python3-slixmpp):
    fake_device.py --env DIR/env.json --account dev1
"""

import argparse
import asyncio
import json
import logging
import os
import sys
import xml.etree.ElementTree as ET

import slixmpp
from slixmpp.exceptions import IqError, IqTimeout

PUBLISH_OPTIONS = {
    "persist_items": True,
    "access_model": "presence",
}


def say(*words):
    print(" ".join(str(w) for w in words), flush=True)


class FakeDevice(slixmpp.ClientXMPP):
    def __init__(self, jid, password, ca_file):
        super().__init__(jid, password)
        self.ca_certs = ca_file
        # Only SCRAM is offered by the dev server anyway; never allow plaintext.
        self.register_plugin("xep_0004")
        self.register_plugin("xep_0030")
        self.register_plugin("xep_0060")
        self.register_plugin("xep_0163")
        self.register_plugin("xep_0198")
        self.register_plugin("xep_0199")
        self.roster.auto_authorize = True
        self.roster.auto_subscribe = True
        self.add_event_handler("session_start", self.on_session_start)
        self.add_event_handler("presence_subscribe", self.on_subscribe)
        self.add_event_handler("sm_enabled", lambda _e: say("sm-enabled"))
        self.add_event_handler("failed_auth", lambda _e: (say("auth-failed"), self.disconnect()))
        self.add_event_handler("disconnected", lambda _e: self.done.set_result(None)
                               if not self.done.done() else None)
        self.done = asyncio.get_event_loop().create_future()
        self.commands = asyncio.Queue()
        self.pending = b""

    async def on_session_start(self, _event):
        await self.get_roster()
        self.send_presence()
        loop = asyncio.get_event_loop()
        loop.add_reader(sys.stdin.fileno(), self.on_stdin)
        asyncio.ensure_future(self.command_loop())
        say("ready")

    async def command_loop(self):
        # One command at a time, in the order the test wrote them.
        while True:
            line = await self.commands.get()
            if line is None:
                self.disconnect()
                return
            try:
                await self.run_command(line)
            except Exception as exc:  # report, never die silently
                say("bad-command", line.split(" ", 1)[0], type(exc).__name__, exc)

    def on_subscribe(self, presence):
        # slixmpp's roster answers 'subscribed' and subscribes back (auto_*).
        say("approved", presence["from"].bare)

    def on_stdin(self):
        # Raw reads: sys.stdin.readline() would buffer a second line that then
        # never wakes the reader again.
        data = os.read(sys.stdin.fileno(), 65536)
        if not data:  # EOF: the test is gone
            asyncio.get_event_loop().remove_reader(sys.stdin.fileno())
            self.commands.put_nowait(None)
            return
        self.pending += data
        *lines, self.pending = self.pending.split(b"\n")
        for raw in lines:
            line = raw.decode("utf-8", "replace").rstrip("\r")
            if line.strip():
                self.commands.put_nowait(line)

    def options_form(self, pep):
        form = self["xep_0004"].make_form(ftype="submit")
        form.add_field(var="FORM_TYPE", ftype="hidden",
                       value="http://jabber.org/protocol/pubsub#publish-options")
        for key, value in PUBLISH_OPTIONS.items():
            # access_model=presence only means something on PEP; a pubsub
            # component answers <conflict/> (precondition-not-met) to it.
            if pep or key != "access_model":
                form.add_field(var="pubsub#" + key, value=value)
        return form

    async def run_command(self, line):
        parts = line.split(" ", 3)
        cmd = parts[0]
        try:
            if cmd == "publish" and len(parts) == 4:
                _, node, item_id, xml = parts
                await self.publish(None, node, item_id, xml)
            elif cmd == "publish-to" and len(parts) == 4:
                service, rest = parts[1], " ".join(parts[2:])
                node, item_id, xml = rest.split(" ", 2)
                if await self.ensure_node(service, node, item_id):
                    await self.publish(service, node, item_id, xml)
            elif cmd == "subscribe" and len(parts) == 2:
                self.send_presence(pto=parts[1], ptype="subscribe")
                say("subscribe-sent", parts[1])
            elif cmd == "quit":
                self.commands.put_nowait(None)
            else:
                say("bad-command", line)
        except ET.ParseError as exc:
            say("bad-command", "xml:", exc)

    async def ensure_node(self, service, node, item_id):
        try:
            await self["xep_0060"].get_node_config(service, node)
            return True
        except IqError:
            pass
        try:
            await self["xep_0060"].create_node(service, node)
            return True
        except IqError as exc:
            say("error", item_id, exc.iq["error"]["condition"])
            return False

    async def publish(self, service, node, item_id, xml):
        payload = ET.fromstring(xml)
        try:
            await self["xep_0060"].publish(service, node, id=item_id, payload=payload,
                                           options=self.options_form(service is None), timeout=10)
            say("published", item_id)
        except IqError as exc:
            say("error", item_id, exc.iq["error"]["condition"])
        except IqTimeout:
            say("error", item_id, "timeout")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--env", help="devserver env.json")
    ap.add_argument("--account", default="dev1", help="account name in env.json")
    ap.add_argument("--jid")
    ap.add_argument("--password")
    ap.add_argument("--host")
    ap.add_argument("--port", type=int)
    ap.add_argument("--ca-file")
    ap.add_argument("--resource", default="fake")
    ap.add_argument("--debug", action="store_true")
    args = ap.parse_args()

    jid, password, host, port, ca_file = args.jid, args.password, args.host, args.port, args.ca_file
    if args.env:
        with open(args.env, encoding="utf-8") as f:
            env = json.load(f)
        acct = env["accounts"][args.account]
        jid = jid or acct["jid"]
        password = password or acct["password"]
        host = host or env["host"]
        port = port or env["port"]
        ca_file = ca_file or env["ca_file"]
    if not (jid and password and host and port and ca_file):
        ap.error("need --env/--account or --jid, --password, --host, --port, --ca-file")

    logging.basicConfig(level=logging.DEBUG if args.debug else logging.ERROR,
                        format="%(levelname)s %(message)s", stream=sys.stderr)
    dev = FakeDevice(f"{jid}/{args.resource}", password, ca_file)
    dev.connect(address=(host, port))
    asyncio.get_event_loop().run_until_complete(dev.done)
    return 0


if __name__ == "__main__":
    sys.exit(main())
