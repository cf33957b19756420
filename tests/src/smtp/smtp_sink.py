"""A real SMTP server for the mail tests: aiosmtpd on loopback, writing every message it
receives to OUT/N.eml (N counting from 1), and the envelope to OUT/N.json (with whether the
session was encrypted and who logged in).

Usage: smtp_sink.py OUT PORT [OPTION...]   serve until killed; prints "ready" once listening
         --starttls CERT KEY     offer STARTTLS with this certificate chain and key, and require
                                 it before MAIL (require_starttls)
         --tls CERT KEY          TLS from the first byte (implicit TLS, "smtps")
         --auth USER PASSWORD    require AUTH (PLAIN or LOGIN) with these credentials before MAIL
                                 (offered only once encrypted: auth_require_tls, unless --tls)
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


def tls_context(cert, key):
    import ssl

    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


def serve(out, port, options):
    import logging
    import os
    import warnings
    import time
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult

    # aiosmtpd warns of AUTH without STARTTLS, which is how implicit TLS looks to it.
    warnings.simplefilter("ignore")
    logging.getLogger("mail.log").setLevel(logging.ERROR)
    settings = {}
    starttls = options.get("--starttls")
    implicit = options.get("--tls")
    if starttls:
        settings.update(tls_context=tls_context(*starttls), require_starttls=True)
    if implicit:
        settings.update(ssl_context=tls_context(*implicit))
    if "--auth" in options:
        user, password = (v.encode() for v in options["--auth"])

        def authenticator(server, session, envelope, mechanism, auth_data):
            ok = auth_data.login == user and auth_data.password == password
            return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)

        # Over implicit TLS the session is encrypted from the start, which aiosmtpd's
        # auth_require_tls (STARTTLS only) does not see.
        settings.update(authenticator=authenticator, auth_required=True, auth_require_tls=not implicit)

    class Sink:
        count = 0

        async def handle_DATA(self, server, session, envelope):
            Sink.count += 1
            n = Sink.count
            tls = server.transport.get_extra_info("ssl_object")
            with open(os.path.join(out, f"{n}.json.tmp"), "w") as f:
                json.dump({
                    "mail_from": envelope.mail_from,
                    "rcpt_tos": envelope.rcpt_tos,
                    "tls": tls.version() if tls else None,
                    "starttls": session.ssl is not None,
                    "login": session.auth_data.login.decode() if session.authenticated else None,
                }, f)
            with open(os.path.join(out, f"{n}.eml.tmp"), "wb") as f:
                f.write(envelope.original_content)
            os.rename(os.path.join(out, f"{n}.json.tmp"), os.path.join(out, f"{n}.json"))
            os.rename(os.path.join(out, f"{n}.eml.tmp"), os.path.join(out, f"{n}.eml"))
            return "250 Message accepted for delivery"

    controller = Controller(Sink(), hostname="127.0.0.1", port=port, **settings)
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
        options, rest = {}, sys.argv[3:]
        arity = {"--starttls": 2, "--tls": 2, "--auth": 2}
        while rest:
            name = rest.pop(0)
            options[name] = [rest.pop(0) for _ in range(arity[name])]
        serve(sys.argv[1], int(sys.argv[2]), options)
