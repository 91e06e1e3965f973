#!/usr/bin/python3
"""An independent XMPP client (slixmpp) that integration tests use to check
what an xiot agent really puts on the wire: presence, subscription answers and
PEP items. It prints one JSON document per line on stdout and exits 0 when the
requested observation was made, 4 on timeout, 3 on a login failure.

usage: xmpp_probe.py --jid J --password P --host H --port N --ca-file F ACTION DEVICE [opts]
  presence DEVICE [--want available|unavailable] [--subscribe]
      subscribe to DEVICE if asked, print each presence from it, exit 0 at the
      first one of the wanted type
  subscribe DEVICE
      request a subscription and print the answer: subscribed / unsubscribed
  items DEVICE NODE
      fetch the items of DEVICE's PEP node NODE and print them
  watch DEVICE NODE [--count N]
      subscribe explicitly (XEP-0060 <subscribe/>, not +notify caps) to
      DEVICE's PEP node NODE, print each item notified ({"from", "node",
      "id", "payload"}), exit 0 after N distinct item ids (default 1)
  subscriptions DEVICE NODE
      our subscriptions to DEVICE's PEP node NODE (XEP-0060 §5.6; ejabberd
      answers with those of our bare JID and of this full JID, Prosody with
      those of every resource): {"subscriptions": [{"jid", "subscription",
      "subid"}]}
  --resource R  log in with resource R (default "probe")
"""
import json

import slixmpp
from slixmpp.exceptions import IqError, IqTimeout
from slixmpp.xmlstream import ET

import xmpp_client


class Probe(slixmpp.ClientXMPP):
    def __init__(self, args):
        super().__init__(args.jid + "/" + args.resource, args.password)
        self.args = args
        self.exit_code = 4
        self.ca_certs = args.ca_file
        self.register_plugin("xep_0030")
        self.register_plugin("xep_0060")
        self.register_plugin("xep_0115")
        self.register_plugin("xep_0199")
        self.add_event_handler("session_start", self.start)
        self.add_event_handler("failed_auth", self.failed_auth)
        self.add_event_handler("presence", self.on_presence)
        self.add_event_handler("presence_subscribe", self.on_subscribe)
        self.add_event_handler("pubsub_publish", self.on_publish)
        self.seen_items = set()
        self.device = args.device
        self.seen_available = False

    def emit(self, doc):
        print(json.dumps(doc), flush=True)

    def failed_auth(self, _event):
        self.emit({"error": "auth"})
        self.exit_code = 3
        self.disconnect()

    def finish(self, code):
        self.exit_code = code
        self.disconnect()

    def on_subscribe(self, pres):
        # Approve the device's subscribe-back, as an operator's client would.
        if pres["from"].bare == self.device:
            self.send_presence(pto=pres["from"].bare, ptype="subscribed")

    def on_presence(self, pres):
        if pres["from"].bare != self.device:
            return
        caps = pres.xml.find("{http://jabber.org/protocol/caps}c")
        doc = {
            "from": str(pres["from"]),
            "type": pres["type"],
            "show": pres.xml.findtext("{jabber:client}show") or "",
            "status": pres["status"],
            "caps_ver": caps.get("ver") if caps is not None else None,
            "caps_node": caps.get("node") if caps is not None else None,
            "caps_hash": caps.get("hash") if caps is not None else None,
        }
        self.emit(doc)
        if self.args.action == "subscribe" and pres["type"] in ("subscribed", "unsubscribed"):
            self.finish(0)
        elif self.args.action == "presence":
            want = self.args.want
            got = "unavailable" if pres["type"] == "unavailable" else (
                "available" if pres["type"] in ("available", "away", "dnd", "xa", "chat") else pres["type"])
            if got == "available":
                self.seen_available = True
            # "unavailable" counts only from a session of the device (a full
            # JID) seen online before: the server answers presence probes with
            # bare-JID unavailables of its own.
            if got == want and (want == "available" or
                                (self.seen_available and pres["from"].resource)):
                self.finish(0)

    def on_publish(self, msg):
        if self.args.action != "watch" or msg["from"].bare != self.device:
            return
        items = msg["pubsub_event"]["items"]
        if items["node"] != self.args.node:
            return
        for item in items["substanzas"]:
            payload = item.xml[0] if len(item.xml) else None
            self.emit({"from": str(msg["from"]), "node": items["node"], "id": item["id"],
                       "payload": ET.tostring(payload, encoding="unicode") if payload is not None else ""})
            self.seen_items.add(item["id"])
        if len(self.seen_items) >= self.args.count:
            self.finish(0)

    async def start(self, _event):
        self.send_presence()
        await self.get_roster()
        a = self.args
        if a.action in ("presence", "subscribe"):
            if a.action == "subscribe" or a.subscribe:
                self.send_presence(pto=self.device, ptype="subscribe")
            return
        if a.action == "items":
            try:
                res = await self.plugin["xep_0060"].get_items(self.device, a.node, timeout=10)
            except IqError as e:
                self.emit({"error": e.iq["error"]["condition"]})
                self.finish(1)
                return
            except IqTimeout:
                self.finish(4)
                return
            items = []
            for item in res["pubsub"]["items"]["substanzas"]:
                payload = item.xml[0] if len(item.xml) else None
                items.append({"id": item["id"],
                              "payload": ET.tostring(payload, encoding="unicode") if payload is not None else ""})
            self.emit({"node": a.node, "items": items})
            self.finish(0)
        if a.action == "subscriptions":
            try:
                res = await self.plugin["xep_0060"].get_subscriptions(self.device, a.node, timeout=10)
            except IqError as e:
                self.emit({"error": e.iq["error"]["condition"]})
                self.finish(1)
                return
            except IqTimeout:
                self.finish(4)
                return
            subs = []
            for sub in res["pubsub"]["subscriptions"]["substanzas"]:
                subs.append({"jid": str(sub["jid"]), "subscription": sub["subscription"],
                             "subid": sub["subid"]})
            self.emit({"node": a.node, "subscriptions": subs})
            self.finish(0)
        if a.action == "watch":
            try:
                res = await self.plugin["xep_0060"].subscribe(self.device, a.node, timeout=10)
            except IqError as e:
                self.emit({"error": e.iq["error"]["condition"]})
                self.finish(1)
                return
            except IqTimeout:
                self.finish(4)
                return
            self.emit({"subscribed": a.node, "subscription": res["pubsub"]["subscription"]["subscription"]})


def main():
    p = xmpp_client.login_parser()
    p.add_argument("--timeout", type=float, default=20)
    p.add_argument("--resource", default="probe")
    p.add_argument("action", choices=["presence", "subscribe", "items", "watch", "subscriptions"])
    p.add_argument("device")
    p.add_argument("node", nargs="?")
    p.add_argument("--want", default="available", choices=["available", "unavailable"])
    p.add_argument("--subscribe", action="store_true")
    p.add_argument("--count", type=int, default=1)
    args = p.parse_args()
    if args.action in ("items", "watch", "subscriptions") and not args.node:
        p.error(args.action + " needs a NODE")
    xmpp_client.run(Probe(args), args, args.timeout)

if __name__ == "__main__":
    main()
