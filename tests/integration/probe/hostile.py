#!/usr/bin/python3
"""Hostile stanzas against a running xiot agent, through a real server: the
kinds of input a broken or malicious client can get routed to a device.
Each case sends its stanzas as raw XML (slixmpp's send_raw, so nothing is
"fixed" on the way), waits for every IQ answer with a deadline, and prints one
JSON line: {"case", "sent", "answered", "conditions": {condition: count},
"replies"}. The test asserts on those; this script asserts nothing.

usage: hostile.py --jid J --password P --port N --ca-file F --device FULLJID CASE...
cases:
  unknown-ns     200 IQ gets of namespaces nobody handles
  huge-attr      command IQs with a 64 KiB node, a 64 KiB sessionid, a 64 KiB action;
                 disco#info and disco#items of a 64 KiB node (printed as huge-attr-disco)
  deep           a command whose form value nests 400 elements deep
  giant-form     a command with a 2000-field form, and one with a 200 KiB value
  iq-flood       2000 disco#info IQs sent back to back, then all answers awaited
  command-flood  500 `set` sessions opened back to back (the session table is bounded)
  long-chat      a chat message with a 64 KiB body
  junk-payload   IQ sets with no child, two children, text only, a bogus <command/> child
  iq-stream      300 disco#info IQs, one every 20 ms, each answer counted per id: prints
                 "duplicates" (ids answered more than once) and "missing" — for a test that
                 kills the device's connection meanwhile and checks its stream resumes
                 without losing or repeating a reply
Expat 2.6 (Debian 12's libexpat1 from 2.5.0-1+deb12u1 on, the CVE-2023-52425 fix)
defers re-parsing a token that spans several reads until the unparsed input has
doubled. Every parser on the path (Prosody's lua-expat, the agent's libstrophe,
slixmpp) then holds a stanza with a 64 KiB attribute until about as much input
again arrives: the cases with such a token follow it with a trailer (a headline
message to the device, whose long text body is no big token and which the agent
ignores), so the stanza is handled now instead of when the next traffic comes.
Invalid UTF-8 and malformed XML cannot reach the device: the server closes the
sender's stream (Prosody: not-well-formed); the parser path behind it is fuzzed.
"""
import asyncio
import json
import uuid

import slixmpp

import xmpp_client

NS_CMD = "http://jabber.org/protocol/commands"
NS_STANZAS = "urn:ietf:params:xml:ns:xmpp-stanzas"


class Hostile(slixmpp.ClientXMPP):
    def __init__(self, args):
        super().__init__(args.jid + "/hostile", args.password)
        self.args = args
        self.device = args.device
        self.pending = {}
        self.answers = {}
        self.chats = asyncio.Queue()
        self.exit_code = 0
        self.add_event_handler("session_start", self.start)
        self.add_event_handler("failed_auth", lambda _e: self.fail(3))
        self.add_event_handler("message", self.on_message)
        # Answers to our raw IQs: matched by id, whatever their content.
        self.register_handler(slixmpp.xmlstream.handler.Callback(
            "answers", slixmpp.xmlstream.matcher.MatchXPath("{jabber:client}iq"), self.on_iq))

    def fail(self, code):
        self.exit_code = code
        self.disconnect()

    def on_message(self, msg):
        if msg["type"] == "chat" and msg["from"].bare == slixmpp.JID(self.device).bare:
            self.chats.put_nowait(msg["body"])

    def on_iq(self, iq):
        if iq["type"] in ("result", "error"):
            self.answers[iq["id"]] = self.answers.get(iq["id"], 0) + 1
        fut = self.pending.pop(iq["id"], None)
        if fut is not None and not fut.done() and iq["type"] in ("result", "error"):
            cond = "result"
            if iq["type"] == "error":
                err = iq.xml.find("{jabber:client}error")
                cond = "error"
                if err is not None:
                    for c in err:
                        if c.tag.startswith("{%s}" % NS_STANZAS) and not c.tag.endswith("}text"):
                            cond = c.tag.split("}")[1]
            fut.set_result(cond)

    def iq(self, itype, payload):
        iq_id = uuid.uuid4().hex[:12]
        fut = asyncio.get_event_loop().create_future()
        self.pending[iq_id] = fut
        self.send_raw("<iq type='%s' to='%s' id='%s'>%s</iq>" % (itype, self.device, iq_id, payload))
        return fut

    def flush_parsers(self):
        # A token of 64 KiB is re-parsed once the input behind it has doubled
        # (the module docstring): 160 KiB of plain text is enough on every hop.
        self.send_raw("<message type='headline' to='%s'><body>%s</body></message>"
                      % (self.device, "flush " * 27000))

    async def run_case(self, name, payloads, itype="set"):
        futs = []
        for p in payloads:
            futs.append(self.iq(itype, p))
            if len(p) > 16384:
                self.flush_parsers()
        done, _ = await asyncio.wait(futs, timeout=self.args.timeout) if futs else (set(), set())
        conds = {}
        for f in done:
            conds[f.result()] = conds.get(f.result(), 0) + 1
        self.emit({"case": name, "sent": len(futs), "answered": len(done), "conditions": conds})

    def emit(self, doc):
        print(json.dumps(doc), flush=True)

    async def start(self, _event):
        self.send_presence()
        await self.get_roster()
        big = "x" * 65536
        for case in self.args.cases:
            if case == "unknown-ns":
                await self.run_case(case, ["<q xmlns='urn:hostile:%d'/>" % i for i in range(200)], "get")
            elif case == "huge-attr":
                await self.run_case(case, [
                    "<command xmlns='%s' node='%s'/>" % (NS_CMD, big),
                    "<command xmlns='%s' node='set' sessionid='%s' action='next'/>" % (NS_CMD, big),
                    "<command xmlns='%s' node='set' action='%s'/>" % (NS_CMD, big),
                ])
                await self.run_case(case + "-disco", [
                    "<query xmlns='http://jabber.org/protocol/disco#info' node='%s'/>" % big,
                    "<query xmlns='http://jabber.org/protocol/disco#items' node='%s'/>" % big,
                ], "get")
            elif case == "deep":
                nest = "<a>" * 400 + "x" + "</a>" * 400
                await self.run_case(case, [
                    "<command xmlns='%s' node='set'><x xmlns='jabber:x:data' type='submit'>"
                    "<field var='channel'><value>relay0.state</value></field>"
                    "<field var='value'><value>%s</value></field></x></command>" % (NS_CMD, nest)])
            elif case == "giant-form":
                fields = "".join("<field var='f%d'><value>v</value></field>" % i for i in range(2000))
                await self.run_case(case, [
                    "<command xmlns='%s' node='set'><x xmlns='jabber:x:data' type='submit'>%s</x></command>"
                    % (NS_CMD, fields),
                    "<command xmlns='%s' node='set'><x xmlns='jabber:x:data' type='submit'>"
                    "<field var='channel'><value>relay0.state</value></field><field var='value'><value>%s"
                    "</value></field></x></command>" % (NS_CMD, "9" * 200000)])
            elif case == "iq-flood":
                await self.run_case(case, ["<query xmlns='http://jabber.org/protocol/disco#info'/>"] * 2000, "get")
            elif case == "command-flood":
                await self.run_case(case, ["<command xmlns='%s' node='set'/>" % NS_CMD] * 500)
            elif case == "long-chat":
                self.send_raw("<message type='chat' to='%s'><body>%s</body></message>" % (self.device, big))
                # The device answers in order: once this ping is answered, a
                # reply to the chat would have arrived before it.
                await self.run_case("long-chat-ping", ["<ping xmlns='urn:xmpp:ping'/>"], "get")
                replies = []
                while not self.chats.empty():
                    replies.append(self.chats.get_nowait())
                self.emit({"case": case, "replies": replies})
            elif case == "iq-stream":
                futs = []
                ids = []
                for _ in range(300):
                    f = self.iq("get", "<query xmlns='http://jabber.org/protocol/disco#info'/>")
                    ids.append(next(k for k, v in self.pending.items() if v is f))
                    futs.append(f)
                    await asyncio.sleep(0.02)
                await asyncio.wait(futs, timeout=self.args.timeout)
                # The device answers in order and a resumed stream resends first:
                # once this ping is answered, any duplicate would have arrived.
                await asyncio.wait([self.iq("get", "<ping xmlns='urn:xmpp:ping'/>")], timeout=self.args.timeout)
                self.emit({"case": case, "sent": len(ids),
                           "answered": sum(1 for i in ids if self.answers.get(i, 0) >= 1),
                           "duplicates": sum(1 for i in ids if self.answers.get(i, 0) > 1),
                           "missing": sum(1 for i in ids if self.answers.get(i, 0) == 0)})
            elif case == "junk-payload":
                await self.run_case(case, [
                    "",
                    "<a xmlns='urn:x'/><b xmlns='urn:y'/>",
                    "just text",
                    "<command xmlns='%s'><command xmlns='%s' node='read'/></command>" % (NS_CMD, NS_CMD),
                    "<command xmlns='urn:not-commands' node='read'/>",
                ])
            else:
                self.emit({"case": case, "error": "unknown case"})
        self.disconnect()


def main():
    p = xmpp_client.login_parser()
    p.add_argument("--device", required=True)
    p.add_argument("--timeout", type=float, default=60)
    p.add_argument("cases", nargs="+")
    args = p.parse_args()
    xmpp_client.run(Hostile(args), args, args.timeout * 4)

if __name__ == "__main__":
    main()
