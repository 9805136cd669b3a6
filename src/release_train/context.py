"""What the steps and the engine work with: services, waits, progress, and one repo's context."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from release_train.adapters.clones import GitAuth
from release_train.config import Config
from release_train.core.state import RepoState, RunState
from release_train.interrupts import Stop

if TYPE_CHECKING:
    from release_train.adapters.github import GitHub


class Progress(Protocol):
    """Where the engine says what it does: a terminal, a log, the Actions runtime (#6)."""

    def step(self, repo: str, phase: str, outcome: str) -> None: ...
    def waiting(self, repo: str, what: str) -> None: ...
    def wait_status(self, repo: str, status: WaitStatus) -> None: ...
    def note(self, repo: str | None, message: str) -> None: ...
    def warning(self, repo: str | None, message: str) -> None: ...
    def failure(self, repo: str, code: str, message: str, hint: str | None) -> None: ...


@dataclass(frozen=True)
class WaitStatus:
    """Where a wait stands after a poll: what it waits for, how long, and what it saw."""

    what: str
    elapsed: float
    timeout: float
    url: str | None = None
    states: tuple[tuple[str, str], ...] = ()  # (check name, its state), in the remote's order


@dataclass(frozen=True)
class Waits:
    """Bounds of every wait; each polls with backoff from `first` up to `longest` seconds.

    While a wait is young the backoff stops at `young_longest`: a CI that takes 40 s is seen
    green within seconds, not after a 30 s sleep begun at 35 s.
    """

    ci_timeout: float = 3600.0
    publish_start_timeout: float = 120.0
    index_timeout: float = 600.0
    skip_index_wait: bool = False
    first: float = 0.5
    longest: float = 30.0
    young: float = 300.0  # how long a wait counts as young
    young_longest: float = 10.0

    def interval(self, previous: float | None, elapsed: float) -> float:
        """The sleep after a poll: `first`, then doubling, capped by the wait's age."""
        cap = min(self.longest, self.young_longest) if elapsed < self.young else self.longest
        return min(self.first if previous is None else previous * 2, cap)

    @classmethod
    def from_config(
        cls, config: Config, *, skip_index_wait: bool, index_minutes: int | None
    ) -> Waits:
        minutes = config.index_timeout_minutes if index_minutes is None else index_minutes
        return cls(
            ci_timeout=config.ci_timeout_minutes * 60.0,
            publish_start_timeout=float(config.publish_start_timeout_seconds),
            index_timeout=minutes * 60.0,
            skip_index_wait=skip_index_wait,
        )


@dataclass
class Services:
    config: Config
    github: GitHub
    auth: GitAuth
    index_url: str
    work_dir: Path  # run-owned: clones, worktrees, caches
    progress: Progress
    waits: Waits = field(default_factory=Waits)
    today: date = field(default_factory=date.today)
    server_url: str = "https://github.com"  # GitHub's web address, for changelog links
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    stop: Stop = field(default_factory=Stop)
    # Git `url.<base>.insteadOf` pairs (URL prefix -> its stand-in) for the git that
    # pre-commit runs to fetch hook repositories: a rehearsal serves family hooks this way.
    git_rewrites: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.sleep is time.sleep:
            self.sleep = self.stop.sleep  # the default sleeper wakes on Ctrl-C; injected ones stay

    @property
    def cache_dir(self) -> Path:
        return self.work_dir / "uv-cache"

    def poll(
        self,
        repo: str,
        what: str,
        deadline: float,
        probe: Callable[[], bool],
        *,
        url: str | None = None,
        states: Callable[[], tuple[tuple[str, str], ...]] | None = None,
        since: float | None = None,
    ) -> bool:
        """Call `probe` with backoff until it is true (True) or `deadline` passes (False).

        After each poll that was not the end, the progress hears the wait's status: the
        elapsed time (`since` the wait began, default now) against the bound, `url`, and
        what `states` reports (checks and their states).
        A stop request (Ctrl-C) ends the wait with INTERRUPTED: what waits is never applied.
        """
        start = self.clock() if since is None else since
        wait: float | None = None
        while True:
            self.stop.check(f"the end of the wait for {what}", repo)
            if probe():
                return True
            now = self.clock()
            left = deadline - now
            if left <= 0:
                return False
            if wait is None:
                self.progress.waiting(repo, what)
            found = states() if states is not None else ()
            status = WaitStatus(what, now - start, deadline - start, url, found)
            self.progress.wait_status(repo, status)
            wait = self.waits.interval(wait, now - start)
            self.sleep(min(wait, left))


@dataclass
class RepoContext:
    """One repo's step context: the run, its state, and the clone its worktree comes from."""

    services: Services
    run: RunState
    repo: RepoState
    source: Path
    state_lock: threading.Lock

    @property
    def config(self) -> Config:
        return self.services.config

    @property
    def name(self) -> str:
        return self.repo.repo

    @property
    def worktree(self) -> Path:
        return self.services.work_dir / "runs" / self.run.run_id / self.repo.repo

    @property
    def github(self) -> GitHub:
        return self.services.github

    def upstream(self, name: str) -> RepoState:
        with self.state_lock:
            return self.run.repos[name]
