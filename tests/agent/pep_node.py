#!/usr/bin/python3
"""The device's own PEP telemetry node, seen from another resource of the
device's account (slixmpp), for the journal integration tests.

Prosody 0.12 keeps 1 item per PEP node unless the node says otherwise
(mod_pep: node default max_items = 1, at most pep_max_items = 256), so a test
that counts what arrived creates the node first with more room. The agent's
publish-options (persist_items, access_model=presence) match what is created
here, so its publishes are accepted into it.

usage: pep_node.py --jid J --password P --host H --port N --ca-file F ACTION NODE
  create NODE [--max-items N]   create NODE (persist_items, access_model=presence,
                                max_items N, default 256); prints {"created": NODE}
  items NODE                    prints {"items": [id, ...]} in the server's order
  config NODE                   prints {"config": {var: value, ...}}, the node's
                                configuration as its owner reads it
Exit 0 on success, 1 on an error answer ({"error": condition} printed), 3 on a
login failure, 4 on a timeout.
"""
import argparse
import asyncio
import json
import logging
import sys

import slixmpp
from slixmpp.exceptions import IqError, IqTimeout


class PepNode(slixmpp.ClientXMPP):
    def __init__(self, args):
        super().__init__(args.jid + "/pep-node", args.password)
        self.args = args
        self.exit_code = 4
        self.ca_certs = args.ca_file
        self.register_plugin("xep_0004")
        self.register_plugin("xep_0060")
        self.add_event_handler("session_start", self.start)
        self.add_event_handler("failed_auth", self.failed_auth)

    def emit(self, doc):
        print(json.dumps(doc), flush=True)

    def failed_auth(self, _event):
        self.emit({"error": "auth"})
        self.exit_code = 3
        self.disconnect()

    async def start(self, _event):
        a = self.args
        pubsub = self.plugin["xep_0060"]
        try:
            if a.action == "create":
                form = self.plugin["xep_0004"].make_form(ftype="submit")
                form.add_field(var="FORM_TYPE", ftype="hidden",
                               value="http://jabber.org/protocol/pubsub#node_config")
                form.add_field(var="pubsub#persist_items", value="1")
                form.add_field(var="pubsub#access_model", value="presence")
                form.add_field(var="pubsub#max_items", value=str(a.max_items))
                await pubsub.create_node(self.boundjid.bare, a.node, config=form, timeout=10)
                self.emit({"created": a.node})
            elif a.action == "config":
                res = await pubsub.get_node_config(self.boundjid.bare, a.node, timeout=10)
                values = res["pubsub_owner"]["configure"]["form"].get_values()
                self.emit({"config": {k: (v if isinstance(v, (str, bool, int)) else str(v))
                                      for k, v in values.items()}})
            else:
                res = await pubsub.get_items(self.boundjid.bare, a.node, timeout=10)
                self.emit({"items": [it["id"] for it in res["pubsub"]["items"]["substanzas"]]})
            self.exit_code = 0
        except IqError as e:
            self.emit({"error": e.iq["error"]["condition"]})
            self.exit_code = 1
        except IqTimeout:
            self.exit_code = 4
        self.disconnect()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--jid", required=True)
    p.add_argument("--password", required=True)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=5222)
    p.add_argument("--ca-file", required=True)
    p.add_argument("--timeout", type=float, default=30)
    p.add_argument("--max-items", type=int, default=256)
    p.add_argument("action", choices=["create", "items", "config"])
    p.add_argument("node")
    args = p.parse_args()
    logging.basicConfig(level=logging.ERROR)
    client = PepNode(args)
    client.connect(address=(args.host, args.port), force_starttls=True, disable_starttls=False)
    loop = asyncio.get_event_loop()
    try:
        loop.run_until_complete(asyncio.wait_for(client.disconnected, args.timeout))
    except asyncio.TimeoutError:
        client.emit({"error": "timeout"})
        sys.exit(4)
    sys.exit(client.exit_code)


if __name__ == "__main__":
    main()
