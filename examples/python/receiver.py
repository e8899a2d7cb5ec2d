"""A department system's webhook receiver for yiciban's case events (Python).

For a system that cannot run a NATS client: yiciban's webhook service POSTs
each of the department's events (docs/DEPARTMENTS.md, "Webhooks"). This
receiver checks every request before anything else — the HMAC-SHA256
signature over the timestamp and the raw body, and the timestamp within a
tolerance of its clock (a captured request cannot be sent again later) —
answers 401 to one that fails, decodes the EventEnvelope and its payload,
skips an event it has handled before (delivery is at least once: retries,
restarts, replays), prints one JSON line per new event and only then answers
204. The ids handled are kept in --seen-file, so a restart deduplicates too.

    python receiver.py --port 8443 --secret-file whsec.txt --seen-file seen.txt

Standard library only, besides the message classes generated from proto/
(gen/, as for subscriber.py). Put it behind your https:// endpoint.
"""

import argparse
import hashlib
import hmac
import http.server
import json
import os
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "gen"))
from yiciban.events.v1 import envelope_pb2, intake_pb2, issuance_pb2, routing_pb2, tasks_pb2  # noqa: E402,F401

from subscriber import describe  # noqa: E402  (one JSON line per event, as the NATS subscriber prints)


def arguments():
    p = argparse.ArgumentParser(description="Receive a department's yiciban webhooks, one JSON line per new event.")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8443)
    p.add_argument("--secret-file", required=True, help="the subscription's signing secret (the file's first line)")
    p.add_argument("--seen-file", help="ids of the events handled, one a line, kept across runs")
    p.add_argument("--tolerance-seconds", type=int, default=300, help="how far a request's timestamp may be from now")
    p.add_argument("--idle-seconds", type=float, help="stop after this long without a request")
    return p.parse_args()


def verify(secret: bytes, timestamp: str, signatures: str, body: bytes, tolerance: int) -> bool:
    """`Yiciban-Signature: v1=<hex>[,v1=<hex>]` over b"<timestamp>." + body, within `tolerance` of now."""
    try:
        if abs(time.time() - int(timestamp)) > tolerance:
            return False
    except ValueError:
        return False
    expected = hmac.new(secret, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    # during a rotation two entries come, the new secret's first: any may match
    return any(
        hmac.compare_digest(expected, entry.strip().removeprefix("v1="))
        for entry in signatures.split(",")
        if entry.strip().startswith("v1=")
    )


OUTPUT = threading.Lock()


class Seen:
    """The ids handled, in memory and (with a file) across runs."""

    def __init__(self, path):
        self.path, self.ids, self.lock = path, set(), threading.Lock()
        if path and os.path.exists(path):
            with open(path, encoding="utf-8") as f:
                self.ids = {line.strip() for line in f if line.strip()}

    def add(self, event_id: str) -> bool:
        """True if the id is new (and now recorded)."""
        with self.lock:
            if event_id in self.ids:
                return False
            if self.path:
                with open(self.path, "a", encoding="utf-8") as f:
                    f.write(event_id + "\n")
            self.ids.add(event_id)
            return True


def handler(secret: bytes, seen: Seen, tolerance: int, activity):
    class Receiver(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            activity()
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)  # the raw bytes: verify before decoding
            timestamp = self.headers.get("Yiciban-Timestamp", "")
            signatures = self.headers.get("Yiciban-Signature", "")
            if not verify(secret, timestamp, signatures, body, tolerance):
                print(f"refused a request: bad signature or timestamp {timestamp!r}", file=sys.stderr, flush=True)
                return self.answer(401)
            envelope = envelope_pb2.EventEnvelope.FromString(body)
            # Requests of different cases come concurrently (one thread
            # each): one at a time past here, so each line is whole.
            with OUTPUT:
                if seen.add(envelope.event_id):
                    print(describe(envelope), flush=True)  # handle it (here: print it) ...
            return self.answer(204)  # ... then answer: it is delivered

        def answer(self, status):
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):  # the JSON lines are the output
            pass

    return Receiver


def main():
    a = arguments()
    with open(a.secret_file, encoding="utf-8") as f:
        secret = f.readline().strip().encode()
    last = [time.monotonic()]
    server = http.server.ThreadingHTTPServer(
        (a.host, a.port), handler(secret, Seen(a.seen_file), a.tolerance_seconds, lambda: last.__setitem__(0, time.monotonic()))
    )
    print(f"listening on http://{a.host}:{server.server_address[1]}/", file=sys.stderr, flush=True)
    if a.idle_seconds:
        def stop_when_idle():
            while time.monotonic() - last[0] < a.idle_seconds:
                time.sleep(0.2)
            server.shutdown()

        threading.Thread(target=stop_when_idle, daemon=True).start()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
