"""The shared retry policy, and which git failures it retries."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from release_train.adapters.backoff import Backoff, transient_git_failure, transient_git_output
from release_train.errors import ErrorCode, ReleaseError

# What git 2.x prints for each failure, as the sandbox and GitHub make them.
TRANSIENT = [
    "fatal: unable to access 'http://127.0.0.1:4/o/r.git/': The requested URL returned error: 502",
    "error: RPC failed; HTTP 503 curl 22 The requested URL returned error: 503\n"
    "send-pack: unexpected disconnect while reading sideband packet\n"
    "fatal: the remote end hung up unexpectedly\nerror: failed to push some refs to 'x'",
    "error: RPC failed; curl 52 Empty reply from server\nfatal: expected flush after ref listing",
    "fatal: unable to access 'https://github.com/o/r.git/': Failed to connect to github.com "
    "port 443 after 2 ms: Connection refused",
    "fatal: unable to access 'https://github.com/o/r.git/': Recv failure: Connection reset by peer",
    "error: 1234 bytes of body are still expected\nfetch-pack: unexpected disconnect while "
    "reading sideband packet\nfatal: early EOF\nfatal: fetch-pack: invalid index-pack output",
]
FINAL = [
    " ! [rejected]        main -> main (fetch first)\n"
    "error: failed to push some refs to 'http://127.0.0.1:4/o/r.git'",
    " ! [remote rejected] main -> main (protected branch hook declined)\n"
    "fatal: the remote end hung up unexpectedly",
    "remote: Invalid username or password.\nfatal: Authentication failed for 'https://x/o/r.git/'",
    "fatal: unable to access 'http://127.0.0.1:4/o/r.git/': The requested URL returned error: 403",
    "remote: Repository not found.\nfatal: repository 'https://github.com/o/nope.git/' not found",
    "fatal: couldn't find remote ref refs/heads/gone",
    "fatal: a branch named 'x' already exists",
]


@pytest.mark.parametrize("output", TRANSIENT)
def test_network_and_server_failures_are_transient(output: str) -> None:
    assert transient_git_output(output)


@pytest.mark.parametrize("output", FINAL)
def test_refusals_are_final(output: str) -> None:
    assert not transient_git_output(output)


def test_only_git_failures_are_retried_never_timeouts() -> None:
    output = TRANSIENT[0]
    assert transient_git_failure(ReleaseError(ErrorCode.GIT_FAILED, "x", output=output))
    assert not transient_git_failure(ReleaseError(ErrorCode.COMMAND_TIMEOUT, "x", output=output))
    assert not transient_git_failure(ValueError(output))


def test_retrying_waits_with_backoff_then_gives_up() -> None:
    waits: list[float] = []
    calls: list[int] = []
    policy = Backoff(attempts=3, backoff=1.0, max_backoff=1.5, sleep=waits.append)

    def flaky() -> str:
        calls.append(1)
        raise OSError("blip")

    with pytest.raises(OSError, match="blip"):
        policy.retrying(flaky, lambda exc: isinstance(exc, OSError))
    assert len(calls) == 3
    assert len(waits) == 2
    assert 0.5 <= waits[0] <= 1.0 and 0.75 <= waits[1] <= 1.5  # capped at max_backoff


def test_retrying_returns_the_first_success_and_raises_final_failures_at_once() -> None:
    waits: list[float] = []
    policy = Backoff(attempts=5, sleep=waits.append)
    answers: Iterator[str | Exception] = iter([OSError("blip"), "ok"])

    def once_flaky() -> str:
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return answer

    assert policy.retrying(once_flaky, lambda exc: True) == "ok"
    assert len(waits) == 1

    def refused() -> str:
        raise KeyError("final")

    with pytest.raises(KeyError):
        policy.retrying(refused, lambda exc: not isinstance(exc, KeyError))
    assert len(waits) == 1
