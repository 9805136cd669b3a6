"""Ctrl-C stops a train: the first SIGINT/SIGTERM asks every step boundary and wait to stop.

Signals reach only the main thread, while steps run in the engine's worker threads; so the
handler only sets an event, which each step boundary and each wait checks (and waits on,
so a sleeping poll wakes at once). No new external effect starts after it; the call in
flight finishes, the state is recorded, and the run exits 130 with its resume command. A
second signal exits at once: every state write is atomic, so the state on disk is still
the last complete one.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Callable, Iterator
from types import FrameType

from release_train.errors import ErrorCode, ExitStatus, ReleaseError

SIGNALS = (signal.SIGINT, signal.SIGTERM)
# What must not outlive this process even when a second signal exits at once (the demo's
# servers): `exit_now` runs these, newest first, before `os._exit` skips every `finally`.
_AT_EXIT_NOW: list[Callable[[], None]] = []


class Stop:
    """Whether this process was asked to stop, and a sleep that wakes when it is."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self.signal_name: str | None = None

    @property
    def requested(self) -> bool:
        return self._event.is_set()

    def request(self, name: str = "a stop request") -> None:
        self.signal_name = self.signal_name or name
        self._event.set()

    def sleep(self, seconds: float) -> None:
        self._event.wait(seconds)

    def check(self, before: str, repo: str | None = None) -> None:
        """At a boundary: INTERRUPTED instead of starting `before`, once a stop was asked."""
        if self.requested:
            raise ReleaseError(
                ErrorCode.INTERRUPTED,
                f"interrupted by {self.signal_name} before {before}",
                repo=repo,
                hint="the state is recorded; resume the run to continue from here",
            )


@contextlib.contextmanager
def handled(
    stop: Stop, *, on_second: Callable[[int], None] | None = None, resume_hint: str = ""
) -> Iterator[Stop]:
    """SIGINT/SIGTERM set `stop` while the block runs (main thread only; elsewhere a no-op)."""
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return

    def handler(number: int, _frame: FrameType | None) -> None:
        name = signal.Signals(number).name
        if stop.requested:
            _say(f"\n{name} again: exiting now; the state is as last recorded. {resume_hint}\n")
            (on_second or exit_now)(int(ExitStatus.INTERRUPTED))
            return
        stop.request(name)
        _say(
            f"\n{name}: stopping the train; the call in flight finishes, no new step starts "
            "(send it again to exit at once)\n"
        )

    previous = {number: signal.signal(number, handler) for number in SIGNALS}
    try:
        yield stop
    finally:
        for number, old in previous.items():
            signal.signal(number, old)


def _say(text: str) -> None:
    # os.write, not print: a handler may run while the main thread is inside print.
    with contextlib.suppress(OSError):
        os.write(2, text.encode())


def exit_now(status: int) -> None:
    """Exit at once (no `finally` runs), after the cleanups registered with `at_exit_now`."""
    for cleanup in reversed(_AT_EXIT_NOW):
        with contextlib.suppress(Exception):
            cleanup()
    os._exit(status)


@contextlib.contextmanager
def at_exit_now(cleanup: Callable[[], None]) -> Iterator[None]:
    """While the block runs, `exit_now` calls `cleanup` first."""
    _AT_EXIT_NOW.append(cleanup)
    try:
        yield
    finally:
        _AT_EXIT_NOW.remove(cleanup)


def _interrupt(_number: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt


@contextlib.contextmanager
def unwinding() -> Iterator[None]:
    """SIGTERM as well as SIGINT raise KeyboardInterrupt in the block, so `finally` runs.

    Python's default SIGTERM ends the process on the spot: a `finally` that stops servers
    would never run. `handled` blocks nested inside take over while they run.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {number: signal.signal(number, _interrupt) for number in SIGNALS}
    try:
        yield
    finally:
        for number, old in previous.items():
            signal.signal(number, old)


@contextlib.contextmanager
def deferred() -> Iterator[None]:
    """SIGINT/SIGTERM arriving in the block are held, then raised once it has ended.

    For the few lines between starting something and registering its cleanup (a
    KeyboardInterrupt between the two would lose it), and for the cleanup itself. Only the
    Python-level handlers change, so child processes started in the block see no difference.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    held: list[int] = []

    def hold(number: int, _frame: FrameType | None) -> None:
        held.append(number)

    previous = {number: signal.signal(number, hold) for number in SIGNALS}
    try:
        yield
    finally:
        for number, old in previous.items():
            signal.signal(number, old)
        if held:
            signal.raise_signal(held[0])  # now handled as it would have been
