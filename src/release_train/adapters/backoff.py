"""The one retry policy: bounded attempts, exponential backoff with jitter, an injected sleep.

The GitHub API (`retry.Retry`), the state branch and git over HTTP all retry by it, so a
run under faults waits the same way everywhere. It imports nothing heavy: git's retries
sit on the plan path.
"""

from __future__ import annotations

import random
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from release_train.errors import ErrorCode, ReleaseError

T = TypeVar("T")

# What git (through curl) prints when the network or the server failed, not the request:
# a 5xx, a connection refused, reset or dropped, an answer cut short.
_GIT_TRANSIENT = re.compile(
    r"returned error: 5\d\d|HTTP 5\d\d|RPC failed|Empty reply from server"
    r"|Connection (?:reset|refused|timed out)|Failed to connect|Could not resolve host"
    r"|Operation timed out|remote end hung up unexpectedly|early EOF|unexpected disconnect"
    r"|expected flush after ref listing|transfer closed with outstanding read data"
    r"|unable to access .*: (?:Recv failure|Send failure|SSL)|curl \d+ ",
    re.IGNORECASE,
)
# What a request the server refused for good prints; these win over any transient marker
# (a rejected push may also say that the remote end hung up).
_GIT_FINAL = re.compile(
    r"\[(?:remote )?rejected\]|Authentication failed|returned error: 4\d\d|HTTP 4\d\d"
    r"|Permission.* denied|Repository not found|non-fast-forward|stale info"
    r"|couldn't find remote ref|does not appear to be a git repository",
    re.IGNORECASE,
)


@dataclass
class Backoff:
    """`attempts` tries in all; before try n+1 a wait of about `backoff * 2**(n-1)` seconds."""

    attempts: int = 5
    backoff: float = 0.5
    max_backoff: float = 30.0
    sleep: Callable[[float], None] = time.sleep
    rng: random.Random = field(default_factory=random.Random)

    def delay(self, attempt: int) -> float:
        """The wait after failed try `attempt`: "equal jitter", never below half the ceiling."""
        ceiling = min(self.max_backoff, self.backoff * 2.0 ** (attempt - 1))
        return ceiling * (0.5 + self.rng.random() / 2)

    def retrying(self, fn: Callable[[], T], transient: Callable[[Exception], bool]) -> T:
        """`fn()`, tried again after each failure `transient` accepts, while tries are left."""
        attempt = 1
        while True:
            try:
                return fn()
            except Exception as exc:
                if attempt >= self.attempts or not transient(exc):
                    raise
            self.sleep(self.delay(attempt))
            attempt += 1


def transient_git_output(output: str) -> bool:
    """Whether git's output says the network or the server failed (worth another try)."""
    return bool(_GIT_TRANSIENT.search(output)) and not _GIT_FINAL.search(output)


def transient_git_failure(exc: Exception) -> bool:
    """A GIT_FAILED whose output is transient; never a timeout (it already waited long)."""
    return (
        isinstance(exc, ReleaseError)
        and exc.code is ErrorCode.GIT_FAILED
        and transient_git_output(exc.output or "")
    )


# Git talks to the server a few times per repo and step: four tries, 0.5 s to 4 s apart,
# ride out a blip or a restarting proxy without hiding a dead server for long.
GIT_RETRY_ATTEMPTS = 4
GIT_RETRY_BACKOFF = 0.5
GIT_RETRY_MAX = 4.0


def git_backoff() -> Backoff:
    return Backoff(GIT_RETRY_ATTEMPTS, GIT_RETRY_BACKOFF, GIT_RETRY_MAX)
