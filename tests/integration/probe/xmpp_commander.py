#!/usr/bin/python3
"""A standard XMPP client (slixmpp with its xep_0030, xep_0050, xep_0004,
xep_0115, xep_0060 plugins) that drives an xiot agent the way an operator's
client would, for the integration tests: ad-hoc commands, service discovery,
caps verification, chat, PEP items, presence.

It runs a script of steps (a JSON array, from --steps FILE) in order, and
prints one JSON document per step on stdout: {"step": i, "op": ..., ...}.
The test asserts on those documents; this script asserts nothing itself.
Exit 0 when every step ran (whatever the device answered), 3 on a login
failure, 4 on a timeout.

Steps (DEVICE is the device's full JID, given with --device):
  {"op": "subscribe"}                       subscribe to the device, wait for its
                                            available presence -> {caps_ver, caps_node, show, status}
  {"op": "disco_info", "node": N|null}      -> {identities: [[cat,type,name]], features: [...]} | error
  {"op": "disco_items", "node": N|null}     -> {items: [{jid, node, name}]} | error
  {"op": "caps"}                            disco#info of the device and the ver computed
                                            from it -> {computed}
  {"op": "command", "node": N, "action": A|null, "sessionid": S|"$last"|null,
   "form": {"var": "value" | ["v1", "v2"]} | null, "form_type": "submit"}
                                            through xep_0050.send_command -> the answer
  {"op": "raw", "type": "set"|"get", "xml": "<command .../>"}
                                            an IQ with a hand-written payload -> the answer
  {"op": "chat", "body": B, "expect_reply": true|false}
                                            a chat message; with expect_reply false, waits
                                            for a ping result instead (the device answers in
                                            order, so any reply would have arrived first)
                                            -> {reply: text|null}
  {"op": "items", "node": N, "max": K}      the device's PEP items -> {items: [{id, payload}]}
  {"op": "publish", "node": N, "id": I, "xml": "<desired .../>"}
                                            publishes an item to the device's PEP node N
                                            (IQ to its bare JID) -> the answer
  {"op": "wait_presence", "want": "available"|"unavailable"}
                                            -> the presence
  {"op": "message", "type": T, "xml": "<event .../>"}
                                            a message of type T to the device with a hand-written
                                            child, then a ping (the device handles stanzas in
                                            order) -> the ping's answer
  {"op": "ping" | "version" | "time"}       -> the answer

Every document also carries "ms", the step's wall time (for tools/bench).
An answer is {"type": "result", ...payload} or {"type": "error", "condition",
"app", "text", "error_type"}. A command result carries node, status,
sessionid, actions {execute, allowed: [...]}, notes [{type, text}] and form
{type, title, instructions, fields: [{var, type, label, values, options, desc,
required}]}.
"""
import asyncio
import json
import time

import slixmpp
from slixmpp.exceptions import IqError, IqTimeout
from slixmpp.xmlstream import ET

import xmpp_client

NS_CMD = "http://jabber.org/protocol/commands"
NS_XDATA = "jabber:x:data"
NS_STANZAS = "urn:ietf:params:xml:ns:xmpp-stanzas"


def error_doc(iq):
    err = iq.xml.find("{jabber:client}error")
    doc = {"type": "error", "condition": "", "app": "", "text": "", "error_type": ""}
    if err is None:
        return doc
    doc["error_type"] = err.get("type", "")
    for child in err:
        tag = child.tag
        ns, _, name = tag[1:].partition("}") if tag.startswith("{") else ("", "", tag)
        if ns == NS_STANZAS and name == "text":
            doc["text"] = child.text or ""
        elif ns == NS_STANZAS:
            doc["condition"] = name
        elif ns == NS_CMD:
            doc["app"] = name
    return doc


def form_doc(x):
    fields = []
    for f in x.findall("{%s}field" % NS_XDATA):
        fields.append({
            "var": f.get("var", ""),
            "type": f.get("type", "text-single"),
            "label": f.get("label", ""),
            "desc": f.findtext("{%s}desc" % NS_XDATA) or "",
            "required": f.find("{%s}required" % NS_XDATA) is not None,
            "values": [v.text or "" for v in f.findall("{%s}value" % NS_XDATA)],
            "options": [{"label": o.get("label", ""), "value": o.findtext("{%s}value" % NS_XDATA) or ""}
                        for o in f.findall("{%s}option" % NS_XDATA)],
        })
    return {"type": x.get("type", ""), "title": x.findtext("{%s}title" % NS_XDATA) or "",
            "instructions": x.findtext("{%s}instructions" % NS_XDATA) or "", "fields": fields}


def command_doc(iq):
    cmd = iq.xml.find("{%s}command" % NS_CMD)
    if cmd is None:
        return {"type": "result", "command": None}
    doc = {"type": "result", "node": cmd.get("node", ""), "status": cmd.get("status", ""),
           "sessionid": cmd.get("sessionid", ""), "actions": None, "notes": [], "form": None}
    actions = cmd.find("{%s}actions" % NS_CMD)
    if actions is not None:
        doc["actions"] = {"execute": actions.get("execute", ""),
                          "allowed": [a.tag.split("}")[-1] for a in actions]}
    for n in cmd.findall("{%s}note" % NS_CMD):
        doc["notes"].append({"type": n.get("type", "info"), "text": n.text or ""})
    x = cmd.find("{%s}x" % NS_XDATA)
    if x is not None:
        doc["form"] = form_doc(x)
    return doc


class Commander(slixmpp.ClientXMPP):
    def __init__(self, args, steps):
        super().__init__(args.jid + "/commander", args.password)
        self.args = args
        self.steps = steps
        self.exit_code = 0
        self.device = slixmpp.JID(args.device)
        self.last_sessionid = None
        self.presences = asyncio.Queue()
        self.chats = asyncio.Queue()
        for p in ("xep_0004", "xep_0030", "xep_0050", "xep_0060", "xep_0115", "xep_0199",
                  "xep_0092", "xep_0202"):
            self.register_plugin(p)
        self.add_event_handler("session_start", self.start)
        self.add_event_handler("failed_auth", self.failed_auth)
        self.add_event_handler("presence", self.on_presence)
        self.add_event_handler("presence_subscribe", self.on_subscribe)
        self.add_event_handler("message", self.on_message)

    def emit(self, doc):
        print(json.dumps(doc), flush=True)

    def failed_auth(self, _event):
        self.emit({"error": "auth"})
        self.exit_code = 3
        self.disconnect()

    def on_subscribe(self, pres):
        if pres["from"].bare == self.device.bare:
            self.send_presence(pto=pres["from"].bare, ptype="subscribed")

    def on_presence(self, pres):
        if pres["from"].bare != self.device.bare or pres["type"] in ("subscribe", "subscribed",
                                                                     "unsubscribe", "unsubscribed"):
            return
        caps = pres.xml.find("{http://jabber.org/protocol/caps}c")
        self.presences.put_nowait({
            "from": str(pres["from"]),
            "available": pres["type"] != "unavailable",
            "show": pres.xml.findtext("{jabber:client}show") or "",
            "status": pres["status"],
            "caps_ver": caps.get("ver") if caps is not None else None,
            "caps_node": caps.get("node") if caps is not None else None,
        })

    def on_message(self, msg):
        if msg["from"].bare == self.device.bare and msg["type"] == "chat" and msg["body"]:
            self.chats.put_nowait({"body": msg["body"], "thread": msg["thread"]})

    async def next_presence(self, want):
        while True:
            p = await asyncio.wait_for(self.presences.get(), self.args.step_timeout)
            # An unavailable counts only from a device session (a full JID):
            # the server answers probes with bare-JID unavailables of its own.
            if want == "available" and p["available"]:
                return p
            if want == "unavailable" and not p["available"] and "/" in p["from"]:
                return p

    async def iq_answer(self, coro):
        try:
            return await coro
        except IqError as e:
            return e.iq

    async def run_step(self, step):
        op = step["op"]
        t = self.args.step_timeout
        if op == "subscribe":
            self.send_presence(pto=self.device.bare, ptype="subscribe")
            return await self.next_presence("available")
        if op == "wait_presence":
            return await self.next_presence(step.get("want", "available"))
        if op == "disco_info":
            iq = await self.iq_answer(self.plugin["xep_0030"].get_info(
                jid=self.device, node=step.get("node"), cached=False, timeout=t))
            if iq["type"] == "error":
                return error_doc(iq)
            info = iq["disco_info"]
            return {"type": "result", "node": info["node"],
                    "identities": [[c, ty, n or ""] for (c, ty, _lang, n) in info["identities"]],
                    "features": sorted(info["features"])}
        if op == "disco_items":
            iq = await self.iq_answer(self.plugin["xep_0030"].get_items(
                jid=self.device, node=step.get("node"), timeout=t))
            if iq["type"] == "error":
                return error_doc(iq)
            return {"type": "result", "items": [{"jid": str(j), "node": n or "", "name": nm or ""}
                                                for (j, n, nm) in iq["disco_items"]["items"]]}
        if op == "caps":
            iq = await self.plugin["xep_0030"].get_info(jid=self.device, cached=False, timeout=t)
            return {"type": "result",
                    "computed": self.plugin["xep_0115"].generate_verstring(iq["disco_info"], "sha-1")}
        if op == "command":
            sid = step.get("sessionid")
            if sid == "$last":
                sid = self.last_sessionid
            payload = None
            if step.get("form") is not None:
                form = self.plugin["xep_0004"].make_form(ftype=step.get("form_type", "submit"))
                for var, value in step["form"].items():
                    field = form.add_field(var=var)
                    field["value"] = value
                payload = form
            iq = await self.iq_answer(self.plugin["xep_0050"].send_command(
                self.device, step["node"], action=step.get("action") or "execute",
                payload=payload, sessionid=sid, timeout=t))
            return self.answer(iq)
        if op == "raw":
            iq = self.make_iq(ito=self.device, itype=step.get("type", "set"))
            iq.append(ET.fromstring(step["xml"]))
            return self.answer(await self.iq_answer(iq.send(timeout=t)))
        if op == "chat":
            self.send_message(mto=self.device, mbody=step["body"], mtype="chat")
            if step.get("expect_reply", True):
                reply = await asyncio.wait_for(self.chats.get(), t)
                return {"type": "result", "reply": reply["body"]}
            await self.iq_answer(self.plugin["xep_0199"].send_ping(self.device, timeout=t))
            reply = None if self.chats.empty() else self.chats.get_nowait()["body"]
            return {"type": "result", "reply": reply}
        if op == "items":
            iq = await self.iq_answer(self.plugin["xep_0060"].get_items(
                self.device.bare, step["node"], max_items=step.get("max"), timeout=t))
            if iq["type"] == "error":
                return error_doc(iq)
            items = []
            for item in iq["pubsub"]["items"]["substanzas"]:
                payload = item.xml[0] if len(item.xml) else None
                items.append({"id": item["id"],
                              "payload": ET.tostring(payload, encoding="unicode") if payload is not None else ""})
            return {"type": "result", "items": items}
        if op == "publish":
            iq = self.make_iq(ito=self.device.bare, itype="set")
            pubsub = ET.Element("{http://jabber.org/protocol/pubsub}pubsub")
            publish = ET.SubElement(pubsub, "{http://jabber.org/protocol/pubsub}publish", node=step["node"])
            item = ET.SubElement(publish, "{http://jabber.org/protocol/pubsub}item", id=step.get("id", "current"))
            item.append(ET.fromstring(step["xml"]))
            iq.append(pubsub)
            return self.answer(await self.iq_answer(iq.send(timeout=t)))
        if op == "message":
            msg = self.make_message(mto=self.device, mtype=step.get("type", "headline"))
            msg.append(ET.fromstring(step["xml"]))
            msg.send()
            iq = self.make_iq_get(queryxmlns="urn:xmpp:ping", ito=self.device)
            return self.answer(await self.iq_answer(iq.send(timeout=t)))
        if op == "ping":
            iq = self.make_iq_get(queryxmlns="urn:xmpp:ping", ito=self.device)
            return self.answer(await self.iq_answer(iq.send(timeout=t)))
        if op == "version":
            iq = await self.iq_answer(self.plugin["xep_0092"].get_version(self.device, timeout=t))
            if iq["type"] == "error":
                return error_doc(iq)
            return {"type": "result", "name": iq["software_version"]["name"],
                    "version": iq["software_version"]["version"]}
        if op == "time":
            iq = await self.iq_answer(self.plugin["xep_0202"].get_entity_time(self.device, timeout=t))
            if iq["type"] == "error":
                return error_doc(iq)
            return {"type": "result", "utc": iq.xml.findtext("{urn:xmpp:time}time/{urn:xmpp:time}utc"),
                    "tzo": iq.xml.findtext("{urn:xmpp:time}time/{urn:xmpp:time}tzo")}
        raise ValueError("unknown op %r" % op)

    def answer(self, iq):
        if iq["type"] == "error":
            return error_doc(iq)
        doc = command_doc(iq)
        if doc.get("sessionid"):
            self.last_sessionid = doc["sessionid"]
        return doc

    async def start(self, _event):
        self.send_presence()
        await self.get_roster()
        try:
            for i, step in enumerate(self.steps):
                started = time.monotonic()
                doc = await self.run_step(step)
                doc = dict(doc)
                doc["ms"] = round((time.monotonic() - started) * 1000, 3)
                doc["step"] = i
                doc["op"] = step["op"]
                self.emit(doc)
        except (asyncio.TimeoutError, IqTimeout):
            self.emit({"error": "timeout", "step": i, "op": step["op"]})
            self.exit_code = 4
        self.disconnect()


def main():
    p = xmpp_client.login_parser()
    p.add_argument("--device", required=True, help="the device's full JID")
    p.add_argument("--steps", required=True, help="a JSON file: an array of steps")
    p.add_argument("--step-timeout", type=float, default=15)
    p.add_argument("--timeout", type=float, default=90)
    args = p.parse_args()
    with open(args.steps) as f:
        steps = json.load(f)
    xmpp_client.run(Commander(args, steps), args, args.timeout)

if __name__ == "__main__":
    main()
