"""Real local receivers for alert channels: an HTTP server that records what it is sent (and
can be told to be down), and an SMTP server (aiosmtpd)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from aiosmtpd.controller import Controller

from tests.processes import free_ports


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self):
        return json.loads(self.body)


@dataclass
class HttpReceiver:
    url: str
    received: list[Received] = field(default_factory=list)
    status: int = 200  # what it answers; 503 plays a channel that is down
    location: str = ""  # sent as Location when set: a redirect

    def ok(self) -> list[Received]:
        """What it took while up."""
        return [r for r in self.received if r.headers.get("x-answered") == "200"]


@contextmanager
def http_receiver() -> Iterator[HttpReceiver]:
    receiver = HttpReceiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("content-length") or 0))
            headers = {k.lower(): v for k, v in self.headers.items()}
            headers["x-answered"] = str(receiver.status)
            receiver.received.append(Received(self.path, headers, body))
            self.send_response(receiver.status)
            if receiver.location:
                self.send_header("location", receiver.location)
            self.send_header("content-type", "application/json")
            self.end_headers()
            # what the bots answer when they take a message: Slack's webhook a bare "ok",
            # Feishu, DingTalk and WeCom a JSON code 0
            slack = self.path.startswith("/services/")
            self.wfile.write(b"ok" if slack else b'{"code":0,"errcode":0,"errmsg":"ok"}')

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()


@dataclass
class SmtpReceiver:
    host: str
    port: int
    messages: list[Message] = field(default_factory=list)


@contextmanager
def smtp_receiver() -> Iterator[SmtpReceiver]:
    receiver = SmtpReceiver("127.0.0.1", free_ports(1))

    class Handler:
        async def handle_DATA(self, server, session, envelope):
            receiver.messages.append(message_from_bytes(envelope.content))
            return "250 Message accepted for delivery"

    controller = Controller(Handler(), hostname=receiver.host, port=receiver.port)
    controller.start()
    try:
        yield receiver
    finally:
        controller.stop()


@dataclass
class Tarpit:
    """A channel that takes the connection and answers one byte every `every` seconds."""

    url: str
    every: float
    connections: int = 0
    in_flight: int = 0
    most_in_flight: int = 0


@contextmanager
def tarpit(every: float = 5.0) -> Iterator[Tarpit]:
    import select
    import socket

    listener = socket.create_server(("127.0.0.1", 0))
    pit = Tarpit(url=f"http://127.0.0.1:{listener.getsockname()[1]}/hook", every=every)
    stop = threading.Event()
    lock = threading.Lock()

    def trickle(conn: socket.socket) -> None:
        with lock:
            pit.connections += 1
            pit.in_flight += 1
            pit.most_in_flight = max(pit.most_in_flight, pit.in_flight)
        try:
            conn.recv(65536)
            for byte in b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n" * 100:
                # wait out the interval, or notice at once that the sender hung up
                hung_up, _, _ = select.select([conn], [], [], every)
                if stop.is_set() or (hung_up and not conn.recv(1)):
                    break
                conn.sendall(bytes([byte]))
        except OSError:
            pass  # the sender gave up: as it should
        finally:
            conn.close()
            with lock:
                pit.in_flight -= 1

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            threading.Thread(target=trickle, args=(conn,), daemon=True).start()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield pit
    finally:
        stop.set()
        thread.join()
        listener.close()
