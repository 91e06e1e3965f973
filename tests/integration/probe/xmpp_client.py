"""What the test clients in this folder share (xmpp_probe.py,
xmpp_commander.py, hostile.py): the login options, and running a slixmpp
client to its end with an overall deadline. Each client sets `exit_code`
(0 done, 3 login refused) and has `emit(doc)` for its JSON lines."""
import argparse
import asyncio
import logging
import sys


def login_parser():
    """An ArgumentParser with --jid --password --host --port --ca-file --debug."""
    p = argparse.ArgumentParser()
    p.add_argument("--jid", required=True)
    p.add_argument("--password", required=True)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--ca-file", required=True)
    p.add_argument("--debug", action="store_true")
    return p


def run(client, args, deadline_s):
    """Connects `client` with mandatory STARTTLS against args.ca_file, runs it
    until it disconnects or `deadline_s` passes (then emits {"error": "timeout"}
    and exits 4), and exits with client.exit_code."""
    if args.debug:
        logging.basicConfig(level=logging.DEBUG)
    client.ca_certs = args.ca_file
    client.connect(address=(args.host, args.port), force_starttls=True, disable_starttls=False)
    loop = asyncio.get_event_loop()
    try:
        loop.run_until_complete(asyncio.wait_for(client.disconnected, deadline_s))
    except asyncio.TimeoutError:
        client.emit({"error": "timeout"})
        client.exit_code = 4
    sys.exit(client.exit_code)
