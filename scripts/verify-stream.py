#!/usr/bin/env python3
"""Verify a trs release stream without trusting the server (Python standard library only).

Usage:
    verify-stream.py URL PROJECT          fetch every event of project PROJECT from a trs server
    verify-stream.py --file EVENTS.ndjson check events saved one JSON object per line, such as
                                          the DATA/events.ndjson of `trs serve`: its streams
                                          interleave, and each is checked on its own

Each event's hash is SHA-256 over b"trs-event-v1\\n" followed by the canonical JSON of the
event without its "hash" field: object keys sorted (by code point), no whitespace, strings
escaped as JSON requires with non-ASCII characters kept as UTF-8. Events are numbered from 1
without gaps, all of one stream, and each one's "prev" is the previous one's hash (absent on
the first). See docs/release-stream.md.

Exit status: 0 intact, 3 broken, 1 could not read the stream.
"""

import hashlib
import json
import sys
import urllib.parse
import urllib.request


def canonical(value):
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def event_hash(event):
    body = {k: v for k, v in event.items() if k != "hash"}
    return hashlib.sha256(b"trs-event-v1\n" + canonical(body).encode("utf-8")).hexdigest()


def verify(events):
    """Returns (number of events, head hash); raises ValueError naming the first fault."""
    prev, stream = None, None
    for i, event in enumerate(events, start=1):
        seq = event.get("seq")
        if seq != i:
            raise ValueError(f"event {seq}: expected sequence number {i}")
        if stream is None:
            stream = event.get("stream")
        elif event.get("stream") != stream:
            raise ValueError(f"event {seq} belongs to stream {event.get('stream')}, not {stream}")
        if event.get("prev") != prev:
            raise ValueError(f"event {seq}: 'prev' does not match the hash of event {seq - 1}")
        actual = event_hash(event)
        if event.get("hash") != actual:
            raise ValueError(f"event {seq}: its hash does not match its contents")
        prev = actual
    return len(events), prev


def fetch(base, project):
    events, after = [], 0
    while True:
        query = urllib.parse.urlencode({"project": project, "after": after, "limit": 1000})
        with urllib.request.urlopen(f"{base.rstrip('/')}/api/v1/events?{query}") as resp:
            page = json.load(resp)
        events.extend(page["events"])
        if len(page["events"]) < 1000:
            return events
        after = page["last_seq"]


def main(argv):
    try:
        if len(argv) == 3 and argv[1] == "--file":
            with open(argv[2], encoding="utf-8") as f:
                events = [json.loads(line) for line in f if line.strip()]
        elif len(argv) == 3:
            events = fetch(argv[1], argv[2])
        else:
            print(__doc__, file=sys.stderr)
            return 2
    except (OSError, ValueError) as e:
        print(f"cannot read the stream: {e}", file=sys.stderr)
        return 1
    streams = {}
    for event in events:
        streams.setdefault(event.get("stream"), []).append(event)
    broken = False
    for name, stream in streams.items():
        try:
            count, head = verify(stream)
        except ValueError as e:
            print(f"BROKEN: {name}: {e}")
            broken = True
            continue
        print(f"intact: {name}: {count} events, head {head}")
    return 3 if broken else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
