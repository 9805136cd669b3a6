"""Long waits that say something: the backoff schedule, and the lines a wait prints.

Every wait here runs on a fake clock whose sleep only moves time: no test sleeps.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import pytest

from release_train.adapters.actions import ActionsProgress, ActionsRuntime
from release_train.adapters.clones import GitAuth
from release_train.config import Config
from release_train.console import CLEAR_LINE, ConsoleProgress, duration, wait_status_line
from release_train.context import Progress, Services, Waits, WaitStatus

PR = "https://github.com/acme/lib/pull/7"
STATES = (("test", "pending"), ("lint", "success"), ("build", "not reported"))


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def services(
    tmp_path: Path, progress: Progress, clock: FakeClock | None, waits: Waits | None = None
) -> Services:
    """Services for waits that call no GitHub; `clock` None keeps the real clock and sleep."""
    config = Config.model_validate({"owner": "acme", "repos": {"lib": {}}})
    world = Services(
        config=config,
        github=cast(Any, None),  # no wait below calls GitHub
        auth=GitAuth(None, None),
        index_url="http://127.0.0.1:1/simple/",
        work_dir=tmp_path,
        progress=progress,
        waits=waits or Waits(),
    )
    if clock is not None:
        world.clock, world.sleep = clock, clock.sleep
    return world


def green_after(clock: FakeClock, seconds: float) -> Callable[[], bool]:
    start = clock.now
    return lambda: clock.now - start >= seconds


def test_backoff_doubles_to_ten_seconds_while_young_then_to_the_longest() -> None:
    waits = Waits(first=0.5, longest=30.0, young=60.0, young_longest=10.0)
    schedule, elapsed, previous = [], 0.0, None
    while elapsed < 150:
        previous = waits.interval(previous, elapsed)
        schedule.append(previous)
        elapsed += previous
    assert schedule == [0.5, 1, 2, 4, 8, 10, 10, 10, 10, 10, 20, 30, 30, 30]


def test_a_longest_below_ten_seconds_is_kept() -> None:
    assert Waits(first=0.1, longest=0.5).interval(0.4, 1.0) == 0.5


def test_a_forty_second_ci_is_seen_green_within_ten_seconds(tmp_path: Path) -> None:
    clock = FakeClock()
    world = services(tmp_path, ConsoleProgress(io.StringIO()), clock)
    start = clock.now
    assert world.poll("lib", "checks of PR #7", start + 3600, green_after(clock, 40))
    assert clock.now - start == 45.5  # the old schedule (…, 16, 30) saw it at 61.5
    assert clock.sleeps == [0.5, 1, 2, 4, 8, 10, 10, 10]


def test_a_timeout_ends_the_wait_at_its_deadline(tmp_path: Path) -> None:
    clock = FakeClock()
    world = services(tmp_path, ConsoleProgress(io.StringIO()), clock)
    start = clock.now
    assert not world.poll("lib", "checks", start + 20, lambda: False)
    assert clock.now - start == 20  # the last sleep is cut to what is left


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [(0, "0s"), (42.9, "42s"), (60, "1m"), (65, "1m05s"), (3600, "60m"), (5999, "99m59s")],
)
def test_durations(seconds: float, shown: str) -> None:
    assert duration(seconds) == shown


def test_a_wait_line_names_checks_states_time_and_url() -> None:
    status = WaitStatus("checks of PR #7", 65.0, 3600.0, PR, STATES)
    assert wait_status_line("lib", status) == (
        "  lib                ...         checks of PR #7: 1m05s of 60m · test: pending, "
        "lint: success, build: not reported · https://github.com/acme/lib/pull/7"
    )
    bare = WaitStatus("alpha==1.0 to be installable", 5.0, 600.0)
    assert wait_status_line("lib", bare) == (
        "  lib                ...         alpha==1.0 to be installable: 5s of 10m"
    )


def test_check_names_cannot_move_the_cursor() -> None:
    status = WaitStatus("checks", 1.0, 60.0, None, (("\x1b[2Jevil\r", "pending"),))
    assert wait_status_line("lib", status).endswith("checks: 1s of 1m ·  [2Jevil : pending")


def test_a_log_gets_one_status_line_every_thirty_seconds(tmp_path: Path) -> None:
    clock, stream = FakeClock(), io.StringIO()
    world = services(tmp_path, ConsoleProgress(stream), clock)
    start = clock.now
    world.poll("lib", "checks of PR #7", start + 3600, green_after(clock, 100), url=PR)
    assert stream.getvalue().splitlines() == [
        "  lib                ...         waiting for checks of PR #7",
        f"  lib                ...         checks of PR #7: 35s of 60m · {PR}",
        f"  lib                ...         checks of PR #7: 1m05s of 60m · {PR}",
        f"  lib                ...         checks of PR #7: 1m35s of 60m · {PR}",
    ]


def test_a_terminal_gets_one_line_refreshed_in_place(tmp_path: Path) -> None:
    clock, stream = FakeClock(), Terminal()
    progress = ConsoleProgress(stream, width=80)
    world = services(tmp_path, progress, clock)
    world.poll("lib", "checks", clock.now + 3600, green_after(clock, 3), states=lambda: STATES)
    progress.step("lib", "MERGED", "done in 3.5s")
    lines = [wait_status_line("lib", WaitStatus("checks", n, 3600, None, STATES)) for n in (0, 1)]
    assert len(lines[0]) > 80
    cut = [line[:78] + "…" for line in (lines[0], lines[0], lines[1])]  # 79: no wrap at 80
    assert stream.getvalue() == (
        "  lib                ...         waiting for checks\n"
        + "".join(CLEAR_LINE + line for line in cut)
        + CLEAR_LINE
        + "  lib                MERGED      done in 3.5s\n"
    )


def test_the_actions_log_gets_a_status_line_every_thirty_seconds(tmp_path: Path) -> None:
    env = {"GITHUB_ACTIONS": "true", "GITHUB_OUTPUT": str(tmp_path / "out")}
    runtime = ActionsRuntime.from_env(env, io.StringIO())
    assert runtime is not None
    clock = FakeClock()
    world = services(tmp_path, ActionsProgress(runtime), clock, Waits(young_longest=30.0))
    world.poll("lib", "checks", clock.now + 3600, green_after(clock, 70), states=lambda: STATES)
    stream = cast(io.StringIO, runtime.stream)
    assert stream.getvalue().splitlines() == [
        "::group::lib · WORKTREE",
        "  lib                ...         waiting for checks",
        "  lib                ...         checks: 31s of 60m · test: pending, lint: success, "
        "build: not reported",
        "  lib                ...         checks: 1m01s of 60m · test: pending, lint: success, "
        "build: not reported",
    ]
