"""Progress on a terminal: one line per repo and step, waits, warnings."""

from __future__ import annotations

import shutil
import sys
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from release_train.context import WaitStatus

# A wait's status as a log line, at most this often (seconds of the wait) per repo.
LOG_EVERY = 30.0
CLEAR_LINE = "\r\x1b[K"  # carriage return, then erase to the end of the line


def step_line(repo: str, phase: str, outcome: str) -> str:
    return f"  {repo:<18} {phase:<11} {outcome}"


def waiting_line(repo: str, what: str) -> str:
    return f"  {repo:<18} {'...':<11} waiting for {what}"


def duration(seconds: float) -> str:
    """`42s`, `1m05s`, `60m`: whole seconds, minutes past the first one."""
    minutes, rest = divmod(int(seconds), 60)
    if not minutes:
        return f"{rest}s"
    return f"{minutes}m{rest:02d}s" if rest else f"{minutes}m"


def _shown(text: str) -> str:
    """Remote text (check names) fit for one terminal line: no control characters."""
    return "".join(c if c.isprintable() else " " for c in text)


def wait_status_line(repo: str, status: WaitStatus) -> str:
    """`<repo> ... <what>: 1m05s of 60m · test: pending, lint: success · <url>`."""
    # A bound computed from a clock read a moment before the wait began: 599.99 s is 10m.
    parts = [f"{status.what}: {duration(status.elapsed)} of {duration(round(status.timeout))}"]
    if status.states:
        parts.append(", ".join(f"{_shown(name)}: {state}" for name, state in status.states))
    if status.url:
        parts.append(_shown(status.url))
    return f"  {repo:<18} {'...':<11} " + " · ".join(parts)


def due(last: dict[str, float], repo: str, elapsed: float) -> bool:
    """Whether a log line of `repo`'s wait is due: LOG_EVERY seconds after its last one."""
    if elapsed - last.get(repo, 0.0) < LOG_EVERY:
        return False
    last[repo] = elapsed
    return True


def note_line(repo: str | None, message: str) -> str:
    return f"  {repo:<18} {message}" if repo else message


def warning_line(repo: str | None, message: str) -> str:
    return f"  {repo or '':<18} warning: {message}"


@dataclass
class ConsoleProgress:
    """Writes progress lines to `stream` (stdout), one whole line at a time across threads."""

    stream: TextIO = field(default_factory=lambda: sys.stdout)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    width: int | None = None  # of the terminal; None: ask it (a wrapped line cannot be redrawn)
    _live: bool = False  # a wait's status line is on the screen, to be overwritten
    _logged: dict[str, float] = field(default_factory=dict)  # repo -> elapsed at last line

    def _line(self, text: str) -> None:
        with self._lock:
            self.stream.write((CLEAR_LINE if self._live else "") + text + "\n")
            self._live = False
            self.stream.flush()

    def wait_status(self, repo: str, status: WaitStatus) -> None:
        """On a terminal, one line refreshed in place; elsewhere a line every LOG_EVERY s."""
        line = wait_status_line(repo, status)
        if not self.stream.isatty():
            if due(self._logged, repo, status.elapsed):
                self._line(line)
            return
        width = self.width or shutil.get_terminal_size().columns
        if len(line) >= width:
            line = line[: max(width - 2, 0)] + "…"
        with self._lock:
            self.stream.write(CLEAR_LINE + line)
            self._live = True
            self.stream.flush()

    def step(self, repo: str, phase: str, outcome: str) -> None:
        self._line(step_line(repo, phase, outcome))

    def waiting(self, repo: str, what: str) -> None:
        self._logged.pop(repo, None)  # a new wait: its first status line is LOG_EVERY away
        self._line(waiting_line(repo, what))

    def note(self, repo: str | None, message: str) -> None:
        self._line(note_line(repo, message))

    def warning(self, repo: str | None, message: str) -> None:
        self._line(warning_line(repo, message))

    def failure(self, repo: str, code: str, message: str, hint: str | None) -> None:
        self._line(note_line(repo, f"error[{code}]: {message}"))
