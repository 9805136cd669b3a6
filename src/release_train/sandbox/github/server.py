"""The HTTP server: a threaded stdlib server on 127.0.0.1 whose connections all close on `stop`."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from release_train.sandbox.github.hosting import Raw

MAX_BODY = 512 * 1024 * 1024


@dataclass(frozen=True)
class Exchange:
    """One request as read off the wire."""

    method: str
    target: str  # path and query, still percent-encoded
    headers: Message
    body: bytes


App = Callable[[Exchange], Raw | None]  # None: drop the connection without an answer


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 60  # an idle keep-alive connection is closed after this
    server: HttpServer

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_PUT(self) -> None:
        self._serve()

    def do_PATCH(self) -> None:
        self._serve()

    def do_DELETE(self) -> None:
        self._serve()

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            raise ValueError("request body too large")
        return self.rfile.read(length) if length else b""

    def _serve(self) -> None:
        body = self._read_body()
        raw = self.server.app(Exchange(self.command, self.path, self.headers, body))
        if raw is None:
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        self.send_response(raw.status)
        for key, value in raw.headers:
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(raw.body)))
        self.end_headers()
        self.wfile.write(raw.body)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the request log (`GET /_sandbox/requests`) records every call instead."""


class HttpServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, app: App) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.app = app
        self._open: set[socket.socket] = set()
        self._workers: set[threading.Thread] = set()
        self._guard = threading.Lock()
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        with self._guard:
            self._open.add(request)
            self._workers.add(threading.current_thread())
        try:
            super().process_request_thread(request, client_address)
        finally:
            with self._guard:
                self._open.discard(request)
                self._workers.discard(threading.current_thread())

    def start(self) -> None:
        # A short poll interval keeps `stop()` (and so every test's teardown) fast.
        self._thread = threading.Thread(
            target=self.serve_forever, args=(0.05,), name="github-stand-in", daemon=True
        )
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop accepting, close every open connection, and wait for the workers to finish."""
        self.shutdown()
        with self._guard:
            open_sockets, workers = list(self._open), list(self._workers)
        for sock in open_sockets:
            with contextlib.suppress(OSError):  # the client may have closed it already
                sock.shutdown(socket.SHUT_RDWR)
        for worker in workers:
            worker.join(timeout)
        self.server_close()
        if self._thread is not None:
            self._thread.join(timeout)
