#!/usr/bin/python3
"""A person in an alert room (XEP-0045), for the integration tests: joins
--room as --nick with slixmpp (plain presence with the muc <x/>, asking for no
history, as any client does) and prints one JSON line per event on stdout:

  {"event": "joined"}                        our own presence came back
  {"event": "message", "from": "room@service/nick", "body": "...",
   "alert": {"device": ..., "state": ..., ...} | null}
                                             every groupchat message, with the
                                             attributes of its urn:xiot:alert:0
                                             element when it has one
  {"event": "error", "condition": "..."}     the join was refused

It runs until --deadline seconds passed (exit 0) or it is killed; it asserts
nothing itself. Login options as the other probes (xmpp_client.py).
"""
import json

import slixmpp

import xmpp_client

NS_MUC = "http://jabber.org/protocol/muc"
NS_ALERT = "urn:xiot:alert:0"


class Listener(slixmpp.ClientXMPP):
    def __init__(self, args):
        super().__init__(args.jid, args.password)
        self.args = args
        self.exit_code = 0
        self.occupant = f"{args.room}/{args.nick}"
        self.add_event_handler("session_start", self.start)
        self.add_event_handler("failed_auth", self.failed)
        self.add_event_handler("presence", self.on_presence)
        self.add_event_handler("message", self.on_message)

    def emit(self, doc):
        print(json.dumps(doc), flush=True)

    def failed(self, _event):
        self.exit_code = 3
        self.disconnect()

    async def start(self, _event):
        self.send_presence()
        p = self.make_presence(pto=self.occupant)
        x = slixmpp.xmlstream.ET.SubElement(p.xml, f"{{{NS_MUC}}}x")
        slixmpp.xmlstream.ET.SubElement(x, f"{{{NS_MUC}}}history", {"maxstanzas": "0"})
        p.send()
        self.loop.call_later(self.args.deadline, self.disconnect)

    def on_presence(self, pres):
        if str(pres["from"]) != self.occupant:
            return
        if pres["type"] == "error":
            self.emit({"event": "error", "condition": pres["error"]["condition"]})
        elif pres["type"] in ("available", ""):
            self.emit({"event": "joined"})

    def on_message(self, msg):
        if msg["type"] != "groupchat":
            return
        alert = msg.xml.find(f"{{{NS_ALERT}}}alert")
        self.emit({"event": "message", "from": str(msg["from"]), "body": msg["body"],
                   "alert": dict(alert.attrib) if alert is not None else None})


def main():
    p = xmpp_client.login_parser()
    p.add_argument("--room", required=True)
    p.add_argument("--nick", default="watcher")
    p.add_argument("--deadline", type=float, default=120)
    args = p.parse_args()
    client = Listener(args)
    xmpp_client.run(client, args, args.deadline + 30)


if __name__ == "__main__":
    main()
