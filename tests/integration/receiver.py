"""A local HTTP receiver standing in for a team's webhook endpoint.

A threaded `http.server` on 127.0.0.1 that records every request (path, headers,
body, arrival time, what it answered) and answers as scripted, one `Reply` per
request in order and 200 once the script runs out: an error, a 429 with
Retry-After, a redirect, or a hang (past the client's timeout, or until the test
releases it) that ends with the connection closed and no answer.
"""

from __future__ import annotations

import collections
import json
import ssl
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Reply:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b"ok"
    # Hang this many seconds (or until `release` is set), then close without answering.
    hang: float = 0.0
    release: threading.Event | None = None


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    at: float
    # The status written back to a client that was still there, or None.
    answered: int | None = None

    @property
    def webhook_id(self) -> str:
        return self.headers.get("webhook-id", "")

    def json(self) -> dict:
        return json.loads(self.body)


class Receiver:
    """`tls`: (certificate file, key file) to speak HTTPS; `server_names` then records
    the name each client asked for (SNI)."""

    def __init__(self, tls: tuple[str, str] | None = None) -> None:
        self.requests: list[Request] = []
        self.replies: list[Reply] = []
        self.server_names: list[str | None] = []
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        if tls is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*tls)
            context.sni_callback = lambda sock, name, ctx: self.server_names.append(name)
            self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return self.server.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def script(self, *replies: Reply) -> None:
        with self.lock:
            self.replies.extend(replies)

    def start(self) -> Receiver:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        self.server.shutdown()
        self.server.server_close()

    def seen(self) -> list[Request]:
        with self.lock:
            return list(self.requests)

    def delivered(self) -> collections.Counter:
        """How many times each webhook-id was answered 2xx."""
        return collections.Counter(
            r.webhook_id for r in self.seen() if r.answered and 200 <= r.answered < 300
        )

    def _handler(self):
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # noqa: N802 - http.server's API
                self._handle()

            def do_GET(self) -> None:  # noqa: N802 - http.server's API
                self._handle()

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                request = Request(
                    method=self.command,
                    path=self.path,
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=self.rfile.read(length),
                    at=time.time(),
                )
                with receiver.lock:
                    receiver.requests.append(request)
                    reply = receiver.replies.pop(0) if receiver.replies else Reply()
                if reply.release is not None or reply.hang:
                    if reply.release is not None:
                        reply.release.wait(reply.hang or 60)
                    else:
                        receiver.stopping.wait(reply.hang)
                    self.close_connection = True
                    return
                try:
                    self.send_response(reply.status)
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(reply.body)))
                    self.end_headers()
                    self.wfile.write(reply.body)
                    self.wfile.flush()
                except OSError:
                    return
                with receiver.lock:
                    request.answered = reply.status

            def log_message(self, format, *args) -> None:  # noqa: A002 - http.server's API
                pass

        return Handler
