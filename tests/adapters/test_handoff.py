"""The Action's secrets hand-over: out of the environment, through a pipe, back in memory."""

from __future__ import annotations

import os
import sys

import pytest

from release_train.adapters import handoff
from release_train.errors import ErrorCode, ReleaseError


def test_secrets_are_the_credential_variables_that_hold_something() -> None:
    environ = {
        "INPUT_TOKEN": "ghs_1",
        "INPUT_SLACK-BOT-TOKEN": "xoxb-2",
        "GITHUB_TOKEN": "",
        "ACTIONS_ID_TOKEN_REQUEST_URL": "https://token.example",
        "INPUT_REPOS": "a b",
        "PATH": "/usr/bin",
    }
    assert handoff.secrets_in(environ) == {
        "INPUT_TOKEN": "ghs_1",
        "INPUT_SLACK-BOT-TOKEN": "xoxb-2",
        "ACTIONS_ID_TOKEN_REQUEST_URL": "https://token.example",
    }


def test_the_exec_gets_an_environment_without_them_and_the_pipe_has_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("INPUT_TOKEN", "ghs_secret")
    monkeypatch.setenv("INPUT_REPOS", "alpha")
    monkeypatch.delenv(handoff.FD_VARIABLE, raising=False)
    calls: list[tuple[str, list[str], dict[str, str]]] = []

    class Execed(Exception):
        pass

    def fake_exec(path: str, argv: list[str], env: dict[str, str]) -> None:
        calls.append((path, argv, env))
        raise Execed

    with pytest.raises(Execed):
        handoff.sealed_environment(fake_exec)
    [(path, argv, env)] = calls
    assert (path, argv) == (sys.executable, list(sys.orig_argv))
    assert "INPUT_TOKEN" not in env and env["INPUT_REPOS"] == "alpha"
    assert "ghs_secret" not in "".join(env.values())

    # What the new process does with the same variable: the secrets come back, once.
    monkeypatch.delenv("INPUT_TOKEN")
    monkeypatch.setenv(handoff.FD_VARIABLE, env[handoff.FD_VARIABLE])
    sealed = handoff.sealed_environment(fake_exec)
    assert sealed["INPUT_TOKEN"] == "ghs_secret" and handoff.FD_VARIABLE not in os.environ
    assert "INPUT_TOKEN" not in os.environ  # in memory only


def test_without_secrets_nothing_is_re_executed(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in handoff.secrets_in(os.environ):
        monkeypatch.delenv(name)
    monkeypatch.delenv(handoff.FD_VARIABLE, raising=False)

    def no_exec(path: str, argv: list[str], env: dict[str, str]) -> None:
        raise AssertionError("re-executed")

    assert handoff.sealed_environment(no_exec) == dict(os.environ)


@pytest.mark.parametrize("value", ["x", "99999"])
def test_a_bad_descriptor_is_a_usage_error(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv(handoff.FD_VARIABLE, value)
    with pytest.raises(ReleaseError) as caught:
        handoff.sealed_environment()
    assert caught.value.code is ErrorCode.USAGE
