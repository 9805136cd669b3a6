"""The shape every sandbox server shares: start, stop, and a `with` block that stops it."""

from __future__ import annotations

import threading
from http.server import ThreadingHTTPServer
from types import TracebackType
from typing import Self


class Service:
    """A part of the world that runs until stopped; `with service:` starts and stops it."""

    def start(self) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


class HttpService(Service):
    """A stdlib threaded HTTP server on 127.0.0.1:<free port>, served from a daemon thread."""

    name = "http-service"

    def __init__(self) -> None:
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def make_server(self) -> ThreadingHTTPServer:
        """The server to run, bound to ("127.0.0.1", 0)."""
        raise NotImplementedError

    @property
    def server_url(self) -> str:
        if self._server is None:
            raise RuntimeError(f"{self.name} is not started")
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> None:
        self._server = self.make_server()
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},  # how long stop() waits for the loop to notice
            name=self.name,
            daemon=True,
        )
        self._thread.start()

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
