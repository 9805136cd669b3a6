"""Ctrl-C reaches the steps (issue 12, item 5): the handler sets a flag, waits wake on it.

Real signals sent to this very process; the waits are real `threading.Event` waits that a
signal (or another thread) ends early, so nothing here sleeps out a timeout.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import pytest

from release_train.console import ConsoleProgress
from release_train.context import Services, Waits
from release_train.errors import ErrorCode, ReleaseError
from release_train.interrupts import Stop, deferred, handled, unwinding
from tests.test_waits import services as waits_services


def services(tmp_path: Path) -> Services:
    waits = Waits(ci_timeout=600.0, first=300.0, longest=300.0)
    return waits_services(tmp_path, ConsoleProgress(), None, waits)  # the real clock


def test_a_stop_request_wakes_a_wait_at_once_and_ends_it_interrupted(tmp_path: Path) -> None:
    world = services(tmp_path)
    probes: list[float] = []

    def probe() -> bool:
        probes.append(time.monotonic())
        return False

    threading.Timer(0.2, world.stop.request, args=("SIGINT",)).start()
    started = time.monotonic()
    with pytest.raises(ReleaseError) as caught:
        world.poll("lib", "checks of PR #1", world.clock() + 600.0, probe)

    assert time.monotonic() - started < 5.0  # the backoff sleep was 300 s
    assert len(probes) == 1  # no probe (no call) after the stop
    assert caught.value.code is ErrorCode.INTERRUPTED
    assert (
        caught.value.message
        == "interrupted by SIGINT before the end of the wait for checks of PR #1"
    )


def test_the_first_signal_sets_the_flag_and_the_second_exits(
    capfd: pytest.CaptureFixture[str],
) -> None:
    stop, exits = Stop(), list[int]()
    before = signal.getsignal(signal.SIGINT)
    with handled(stop, on_second=exits.append, resume_hint="resume with: release-train resume r"):
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.01)  # the handler runs in this thread between bytecodes
        assert stop.requested and stop.signal_name == "SIGINT" and exits == []
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(0.01)

    assert exits == [130]
    assert signal.getsignal(signal.SIGINT) is before
    err = capfd.readouterr().err
    assert "SIGINT: stopping the train; the call in flight finishes, no new step starts" in err
    assert "SIGTERM again: exiting now; the state is as last recorded. resume with: " in err


def test_a_check_passes_until_a_stop_is_asked() -> None:
    stop = Stop()
    stop.check("MERGE", "lib")
    stop.request("SIGTERM")
    with pytest.raises(ReleaseError) as caught:
        stop.check("MERGE", "lib")
    assert (caught.value.code, caught.value.repo) == (ErrorCode.INTERRUPTED, "lib")


def test_a_signal_in_a_deferred_block_is_raised_once_the_block_has_ended() -> None:
    steps = []
    with unwinding():
        try:
            with deferred():
                signal.raise_signal(signal.SIGTERM)
                steps.append("end of the block")  # reached: the signal was held
        except KeyboardInterrupt:
            steps.append("raised after it")
    assert steps == ["end of the block", "raised after it"]


def test_unwinding_turns_sigterm_into_keyboard_interrupt_and_restores_the_handler() -> None:
    before = signal.getsignal(signal.SIGTERM)
    with unwinding(), pytest.raises(KeyboardInterrupt):
        signal.raise_signal(signal.SIGTERM)
    assert signal.getsignal(signal.SIGTERM) is before
