#!/usr/bin/python3
"""A device whose ad-hoc commands (XEP-0050) are slixmpp's, not xiot's: the
xiotctl integration tests drive it to check the parts of `xiotctl run` the
xiot agent does not exercise (a stage whose default action is next, multi-valued
fields, a plain error without an application condition) against an independent
XEP-0050 implementation.

It logs in (STARTTLS verified against the CA file), approves every presence
subscription request and subscribes back, and offers:

    two-stage   stage 1: `channel` (list-single a.state | b.state, required),
                actions <next/> only, no 'execute' attribute (so next is the
                default, XEP-0050 §3.4); stage 2: a fixed line and `value`
                (boolean, required), actions <complete/>; completes with the
                note "<channel> set to <value>" and a result form.
    echo        one stage: `tags` (list-multi x|y|z), `lines` (text-multi),
                `peer` (jid-single), `count` (text-single, XEP-0122 xs:integer
                1..10); completes with a result form echoing what came.
    fail        answers internal-server-error with the text "sensor on fire".

It prints "ready" on stdout once online, and "canceled <node>" when a session
is canceled. Run it with Debian's /usr/bin/python3 (python3-slixmpp):
    adhoc_device.py --jid dev5@localhost --password P --host 127.0.0.1 --port N --ca-file F
"""

import argparse
import asyncio
import logging
import sys

import slixmpp
from slixmpp.exceptions import XMPPError


def say(*words):
    print(" ".join(str(w) for w in words), flush=True)


class AdhocDevice(slixmpp.ClientXMPP):
    def __init__(self, jid, password, ca_file):
        super().__init__(jid, password)
        self.ca_certs = ca_file
        self.register_plugin("xep_0004")
        self.register_plugin("xep_0030")
        self.register_plugin("xep_0050")
        self.register_plugin("xep_0122")
        self.register_plugin("xep_0199")
        self.roster.auto_authorize = True
        self.roster.auto_subscribe = True
        self.add_event_handler("session_start", self.on_session_start)
        self.add_event_handler("disconnected", lambda _e: self.done.set_result(None)
                               if not self.done.done() else None)
        self.done = asyncio.get_event_loop().create_future()

    async def on_session_start(self, _event):
        await self.get_roster()
        self.send_presence()
        adhoc = self["xep_0050"]
        adhoc.add_command(node="two-stage", name="Two stages", handler=self.two_stage_start)
        adhoc.add_command(node="echo", name="Echo fields", handler=self.echo_start)
        adhoc.add_command(node="fail", name="Always fails", handler=self.fail_start)
        say("ready")

    def canceled(self, node):
        def handler(_iq, session):
            say("canceled", node)
            return session
        return handler

    # --- two-stage ---------------------------------------------------------
    def two_stage_start(self, _iq, session):
        form = self["xep_0004"].make_form(ftype="form", title="Choose")
        form.add_field(var="channel", ftype="list-single", label="Channel", required=True,
                       options=[{"label": "A", "value": "a.state"}, {"label": "B", "value": "b.state"}])
        session["payload"] = form
        session["has_next"] = True
        session["allow_complete"] = False
        session["next"] = self.two_stage_value
        session["cancel"] = self.canceled("two-stage")
        return session

    def two_stage_value(self, payload, session):
        channel = payload.get_values().get("channel")
        session["channel"] = channel
        form = self["xep_0004"].make_form(ftype="form", title="Set " + str(channel))
        form.add_field(ftype="fixed", value=f"{channel} is now false")
        form.add_field(var="value", ftype="boolean", label=str(channel), required=True, value=False)
        session["payload"] = form
        session["has_next"] = False
        session["next"] = self.two_stage_done
        return session

    def two_stage_done(self, payload, session):
        value = payload.get_values().get("value")
        result = self["xep_0004"].make_form(ftype="result", title="Done")
        result.add_field(var="channel", ftype="text-single", value=session["channel"])
        result.add_field(var="value", ftype="boolean", value=value)
        session["payload"] = result
        session["notes"] = [("info", f"{session['channel']} set to {str(bool(value)).lower()}")]
        session["next"] = None
        return session

    # --- echo --------------------------------------------------------------
    def echo_start(self, _iq, session):
        form = self["xep_0004"].make_form(ftype="form", title="Echo")
        form.add_field(var="tags", ftype="list-multi", label="Tags",
                       options=[{"value": "x"}, {"value": "y"}, {"value": "z"}])
        form.add_field(var="lines", ftype="text-multi", label="Lines")
        form.add_field(var="peer", ftype="jid-single", label="Peer")
        count = form.add_field(var="count", ftype="text-single", label="Count", value="1")
        count["validate"]["datatype"] = "xs:integer"
        count["validate"].set_range(True, minimum=1, maximum=10)
        session["payload"] = form
        session["has_next"] = False
        session["next"] = self.echo_done
        session["cancel"] = self.canceled("echo")
        return session

    def echo_done(self, payload, session):
        got = payload.get_values()
        result = self["xep_0004"].make_form(ftype="result", title="Echoed")
        result.add_field(var="tags", ftype="list-multi", value=got.get("tags") or [])
        result.add_field(var="lines", ftype="text-multi", value=got.get("lines") or [])
        result.add_field(var="peer", ftype="jid-single", value=str(got.get("peer") or ""))
        result.add_field(var="count", ftype="text-single", value=str(got.get("count") or ""))
        session["payload"] = result
        session["next"] = None
        return session

    # --- fail --------------------------------------------------------------
    def fail_start(self, _iq, _session):
        raise XMPPError("internal-server-error", text="sensor on fire", etype="cancel")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--jid", required=True)
    ap.add_argument("--password", required=True)
    ap.add_argument("--host", required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--ca-file", required=True)
    ap.add_argument("--resource", default="adhoc")
    ap.add_argument("--debug", action="store_true")
    args = ap.parse_args()
    logging.basicConfig(level=logging.DEBUG if args.debug else logging.ERROR,
                        format="%(levelname)s %(message)s", stream=sys.stderr)
    dev = AdhocDevice(f"{args.jid}/{args.resource}", args.password, args.ca_file)
    dev.connect(address=(args.host, args.port))
    asyncio.get_event_loop().run_until_complete(dev.done)
    return 0


if __name__ == "__main__":
    sys.exit(main())
