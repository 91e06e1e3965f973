#!/usr/bin/python3
"""send-alarm.py ENV_JSON ACCOUNT ROOM DEVICE CHANNEL STATE VALUE: joins the
room as ACCOUNT (nick = DEVICE, as the agent does) and sends one alarm/clear
message in the format of /work/shared/DESIGN.md, for trying the console's
alarm panel without the alerts engine."""
import asyncio, datetime, json, ssl, sys
import slixmpp

env_path, account, room, device, channel, state, value = sys.argv[1:8]
env = json.load(open(env_path))
acc = env["accounts"][account]

class Bot(slixmpp.ClientXMPP):
    def __init__(self):
        super().__init__(acc["jid"], acc["password"])
        self.register_plugin("xep_0045")
        self.ssl_context = ssl.create_default_context(cafile=env["ca_file"])
        self.add_event_handler("session_start", self.start)

    async def start(self, _):
        self.send_presence()
        await self.plugin["xep_0045"].join_muc_wait(room, device, maxstanzas=0, timeout=10)
        at = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        word = "ALARM" if state == "alarm" else "CLEAR"
        m = self.make_message(mto=room, mtype="groupchat",
                              mbody=f"{word} {device} {channel} {value} Cel above 30 for 10 s")
        alert = slixmpp.xmlstream.ET.Element("{urn:xiot:alert:0}alert", {
            "device": device, "channel": channel, "state": state, "comparison": "above",
            "threshold": "30", "value": value, "unit": "Cel", "at": at})
        m.append(alert)
        m.send()
        await asyncio.sleep(0.5)
        self.disconnect()

b = Bot()
b.connect((env["host"], env["port"]))
try:
    asyncio.get_event_loop().run_until_complete(asyncio.wait_for(b.disconnected, 30))
except asyncio.TimeoutError:
    sys.exit("send-alarm: no answer within 30 s")
