"""A real SMTP server for the mail tests: aiosmtpd on loopback, writing every message it
receives to OUT/N.eml (N counting from 1), and the envelope to OUT/N.json.

Usage: smtp_sink.py OUT PORT          serve until killed; prints "ready" once listening
       smtp_sink.py --parse FILE      print the message's headers, decoded by Python's
                                      email package (policy.default), and its body, as JSON
"""
import json
import sys


def parse(path):
    from email import policy
    from email.parser import BytesParser

    with open(path, "rb") as f:
        msg = BytesParser(policy=policy.default).parse(f)
    headers = {}
    for name, value in msg.items():
        headers.setdefault(name.lower(), []).append(str(value))
    raw_headers = {}
    with open(path, "rb") as f:
        raw = BytesParser(policy=policy.compat32).parse(f)
    for name, value in raw.items():
        raw_headers.setdefault(name.lower(), []).append(str(value))
    from_ = msg["from"]
    print(json.dumps({
        "headers": headers,
        "raw_headers": raw_headers,
        "from_display_name": from_.addresses[0].display_name if from_ else None,
        "from_address": from_.addresses[0].addr_spec if from_ else None,
        "to_addresses": [a.addr_spec for a in msg["to"].addresses] if msg["to"] else [],
        "content_type": msg.get_content_type(),
        "charset": msg.get_content_charset(),
        "body": msg.get_content(),
    }))


def serve(out, port):
    import asyncio
    import os
    import time
    from aiosmtpd.controller import Controller

    class Sink:
        count = 0

        async def handle_DATA(self, server, session, envelope):
            Sink.count += 1
            n = Sink.count
            with open(os.path.join(out, f"{n}.json.tmp"), "w") as f:
                json.dump({"mail_from": envelope.mail_from, "rcpt_tos": envelope.rcpt_tos}, f)
            with open(os.path.join(out, f"{n}.eml.tmp"), "wb") as f:
                f.write(envelope.original_content)
            os.rename(os.path.join(out, f"{n}.json.tmp"), os.path.join(out, f"{n}.json"))
            os.rename(os.path.join(out, f"{n}.eml.tmp"), os.path.join(out, f"{n}.eml"))
            return "250 Message accepted for delivery"

    controller = Controller(Sink(), hostname="127.0.0.1", port=port)
    controller.start()
    print("ready", flush=True)
    try:
        while True:
            time.sleep(3600)
    finally:
        controller.stop()


if __name__ == "__main__":
    if sys.argv[1] == "--parse":
        parse(sys.argv[2])
    else:
        serve(sys.argv[1], int(sys.argv[2]))
