"""Progress on a terminal: one line per repo and step, waits, warnings."""

from __future__ import annotations

import sys
import threading
from dataclasses import dataclass, field
from typing import TextIO


def step_line(repo: str, phase: str, outcome: str) -> str:
    return f"  {repo:<18} {phase:<11} {outcome}"


def waiting_line(repo: str, what: str) -> str:
    return f"  {repo:<18} {'...':<11} waiting for {what}"


def note_line(repo: str | None, message: str) -> str:
    return f"  {repo:<18} {message}" if repo else message


def warning_line(repo: str | None, message: str) -> str:
    return f"  {repo or '':<18} warning: {message}"


@dataclass
class ConsoleProgress:
    """Writes progress lines to `stream` (stdout), one whole line at a time across threads."""

    stream: TextIO = field(default_factory=lambda: sys.stdout)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _line(self, text: str) -> None:
        with self._lock:
            self.stream.write(text + "\n")
            self.stream.flush()

    def step(self, repo: str, phase: str, outcome: str) -> None:
        self._line(step_line(repo, phase, outcome))

    def waiting(self, repo: str, what: str) -> None:
        self._line(waiting_line(repo, what))

    def note(self, repo: str | None, message: str) -> None:
        self._line(note_line(repo, message))

    def warning(self, repo: str | None, message: str) -> None:
        self._line(warning_line(repo, message))

    def failure(self, repo: str, code: str, message: str, hint: str | None) -> None:
        self._line(note_line(repo, f"error[{code}]: {message}"))
