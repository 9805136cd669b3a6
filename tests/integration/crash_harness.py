"""The crash/resume harness: drive the CLI against a sandbox, SIGKILL it at chosen moments.

A `Cli` starts `release-train release`/`resume` as a real process in a session of its own,
reads its stdout line by line, and kills the whole session (the CLI and whatever git or uv
it was running) the way a dying machine would; a `Crasher` does that at chosen boundaries
and resumes until the run succeeds.
"""

from __future__ import annotations

import contextlib
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from release_train.core.state import PHASES
from release_train.engine import PAUSE_VARIABLE
from release_train.sandbox.control import Sandbox

# Every boundary a repo passes: each recorded phase after PLANNED, DONE included.
BOUNDARY_PHASES: tuple[str, ...] = PHASES[1:]
PAUSE_TIMEOUT = 180.0  # one attempt from start to its boundary: clones, builds, CI, index
FINISH_TIMEOUT = 300.0
# After the progress line of a boundary the pause line follows at once, or never.
PAUSE_GRACE = 10.0

Boundary = tuple[str, str]  # (repo, phase)


def boundaries(order: list[str], phases: tuple[str, ...] = BOUNDARY_PHASES) -> list[Boundary]:
    """Every (repo, phase) a run passes, in the order a one-at-a-time run passes them."""
    return [(repo, phase) for repo in order for phase in phases]


def paused_line(repo: str, phase: str) -> str:
    return f"paused after {repo} {phase} ({PAUSE_VARIABLE})"


def step_line(repo: str, phase: str) -> re.Pattern[str]:
    """The progress line the engine prints once `phase` of `repo` is recorded."""
    return re.compile(rf"^\s+{re.escape(repo)}\s+{re.escape(phase)}\s")


class Attempt:
    """One CLI process: its output as it comes, and the means to kill it like a crash."""

    def __init__(self, argv: list[str], env: dict[str, str], cwd: Path) -> None:
        self.argv = argv
        self.lines: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        # The one sanctioned direct Popen: the harness must read this process's output
        # while it runs and SIGKILL it mid-run, which adapters.command.run (run to
        # completion) cannot do. Its own session lets the kill take its children too.
        self.proc = subprocess.Popen(
            argv,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        with self.proc.stdout as output:
            for line in output:
                self._queue.put(line.rstrip("\n"))
        self._queue.put(None)

    def next_line(self, timeout: float) -> str | None:
        """The next line of output; None once the process closed its output."""
        try:
            line = self._queue.get(timeout=max(timeout, 0.0))
        except queue.Empty as exc:
            raise AssertionError(
                f"no output for {timeout:g}s from {self.describe()}\n{self.transcript()}"
            ) from exc
        if line is not None:
            self.lines.append(line)
        return line

    def until(self, wanted: Callable[[str], bool], timeout: float) -> str | None:
        """The first line that is `wanted`; None if the process ends before printing one."""
        deadline = time.monotonic() + timeout
        while True:
            line = self.next_line(deadline - time.monotonic())
            if line is None or wanted(line):
                return line

    def kill(self) -> None:
        """SIGKILL the process and everything it started, and reap it."""
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):  # it may have ended meanwhile
                os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)
        self._drain()

    def finish(self, timeout: float = FINISH_TIMEOUT) -> int:
        """Read to the end and return the exit status; killed if it outlasts `timeout`."""
        try:
            self.until(lambda _line: False, timeout)
        except AssertionError:
            self.kill()
            raise
        return self.proc.wait(timeout=30)

    def _drain(self) -> None:
        self._reader.join(timeout=30)
        while True:
            try:
                line = self._queue.get_nowait()
            except queue.Empty:
                return
            if line is not None:
                self.lines.append(line)

    @property
    def command(self) -> str:
        """The CLI command: `release` or `resume`."""
        return self.argv[3]

    def describe(self) -> str:
        return " ".join(self.argv[3:])

    def transcript(self, last: int = 60) -> str:
        return "\n".join(f"    | {line}" for line in self.lines[-last:])


@dataclass
class Cli:
    """`release-train` against one sandbox, with one run id, as separate processes."""

    world: Sandbox
    config: Path
    run_id: str
    attempts: list[Attempt] = field(default_factory=list)

    @classmethod
    def for_world(cls, world: Sandbox, run_id: str) -> Cli:
        config = world.root / "release-train.toml"
        config.write_text(world.config_text(), encoding="utf-8")
        return cls(world, config, run_id)

    def env(self, pause_after: str | None) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k != PAUSE_VARIABLE}
        env.update(self.world.env)
        env["PYTHONUNBUFFERED"] = "1"  # each line reaches the harness as it is printed
        if pause_after is not None:
            env[PAUSE_VARIABLE] = pause_after
        return env

    @property
    def state_dir(self) -> Path:
        return Path(self.world.env["RELEASE_TRAIN_STATE_DIR"])

    def state_exists(self) -> bool:
        name = f"{self.run_id}.json"
        return (self.state_dir / name).exists() or (self.state_dir / "archive" / name).exists()

    def start(self, pause_after: str | None = None) -> Attempt:
        """`release --all --yes` while the run has no state, `resume` once it has one."""
        if self.state_exists():
            args = ["resume", self.run_id]
        else:
            args = ["release", "--all", "--yes", "--run-id", self.run_id]
        argv = [sys.executable, "-m", "release_train", *args, "--config", str(self.config)]
        attempt = Attempt(argv, self.env(pause_after), self.world.root)
        self.attempts.append(attempt)
        return attempt

    def close(self) -> None:
        for attempt in self.attempts:
            attempt.kill()


@contextmanager
def cli_for(world: Sandbox, run_id: str) -> Iterator[Cli]:
    cli = Cli.for_world(world, run_id)
    try:
        yield cli
    finally:
        cli.close()  # a failed assertion never leaves a CLI process behind


@dataclass
class Crasher:
    """Kills runs of one `Cli` at boundaries and resumes them; remembers what it saw."""

    cli: Cli
    allowed_failures: int = 0  # attempts that may end with a transient error (faults)
    failures: list[str] = field(default_factory=list)
    missed_pauses: list[str] = field(default_factory=list)
    kills: list[str] = field(default_factory=list)

    def kill_at(self, boundary: Boundary) -> None:
        """Run until the engine pauses after `boundary`, then SIGKILL it there."""
        repo, phase = boundary
        while True:
            attempt = self.cli.start(pause_after=f"{repo}:{phase}")
            if self._reached(attempt, repo, phase):
                self.kills.append(f"{repo}:{phase}")
                return

    def kill_on(self, boundary: Boundary, marker: str) -> None:
        """Run towards `boundary` and SIGKILL as soon as a line contains `marker` (a wait)."""
        repo, phase = boundary
        attempt = self.cli.start(pause_after=f"{repo}:{phase}")
        pause = paused_line(repo, phase)
        seen = attempt.until(lambda line: marker in line or line == pause, PAUSE_TIMEOUT)
        attempt.kill()
        assert seen is not None and seen != pause, (
            f"{attempt.describe()} reached {repo}:{phase} or ended (status "
            f"{attempt.proc.returncode}) without printing {marker!r}\n{attempt.transcript()}"
        )
        self.kills.append(f"{repo}:{phase} during {marker!r}")

    def kill_before_state(self) -> None:
        """SIGKILL `release` once the plan is approved, right before its state would exist."""
        assert not self.cli.state_exists()
        attempt = self.cli.start(pause_after="*:PLANNED")
        pause = paused_line("*", "PLANNED")
        seen = attempt.until(lambda line: line == pause, PAUSE_TIMEOUT)
        attempt.kill()
        assert seen is not None, f"no pause once the plan was approved\n{attempt.transcript()}"
        assert not self.cli.state_exists(), "the state existed before the plan was approved"
        self.kills.append("before any state")

    def _reached(self, attempt: Attempt, repo: str, phase: str) -> bool:
        pause, step = paused_line(repo, phase), step_line(repo, phase)
        line = attempt.until(lambda text: text == pause or bool(step.match(text)), PAUSE_TIMEOUT)
        if line is not None and line != pause:
            # The phase is recorded; the pause line must come next, and at once.
            following = attempt.next_line(PAUSE_GRACE)
            if following != pause:
                self.missed_pauses.append(f"{repo}:{phase}")
            line = pause
        attempt.kill()
        if line == pause:
            return True
        status = attempt.proc.returncode
        self.failures.append(f"{repo}:{phase}: {attempt.describe()} exited {status}")
        assert status in (1, 6) and len(self.failures) <= self.allowed_failures, (
            f"{attempt.describe()} exited {status} before {repo}:{phase} "
            f"(failed attempts: {self.failures})\n{attempt.transcript()}"
        )
        return False

    def finish(self) -> None:
        """Resume without a pause until the run succeeds (failures within the allowance)."""
        while True:
            attempt = self.cli.start()
            status = attempt.finish()
            if status == 0:
                return
            self.failures.append(f"final: {attempt.describe()} exited {status}")
            assert status in (1, 6) and len(self.failures) <= self.allowed_failures, (
                f"{attempt.describe()} exited {status} (failed attempts: {self.failures})\n"
                f"{attempt.transcript()}"
            )
