"""The shape every sandbox server shares: start, stop, and a `with` block that stops it."""

from __future__ import annotations

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
