"""The GitHub Action's inputs: `INPUT_<NAME>` variables, checked before anything runs."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from release_train.config import GateKind
from release_train.core.versions import Bump
from release_train.errors import ErrorCode, ReleaseError
from release_train.preflight import validate_run_id

COMMANDS = ("plan", "release", "status")


def _input(env: Mapping[str, str], name: str) -> str:
    return env.get(f"INPUT_{name.upper()}", "").strip()


def _flag(env: Mapping[str, str], name: str) -> bool:
    value = _input(env, name).lower()
    if value in ("", "false"):
        return False
    if value == "true":
        return True
    raise ReleaseError(
        ErrorCode.USAGE, f"input `{name}` is {value!r}", hint="give `true` or `false`"
    )


def _number(env: Mapping[str, str], name: str) -> int | None:
    value = _input(env, name)
    if not value:
        return None
    if not value.isdigit() or int(value) < 1:
        raise ReleaseError(
            ErrorCode.USAGE, f"input `{name}` is {value!r}", hint="give a positive whole number"
        )
    return int(value)


def _choice(env: Mapping[str, str], name: str, choices: tuple[str, ...]) -> str:
    value = _input(env, name)
    if value and value not in choices:
        raise ReleaseError(
            ErrorCode.USAGE, f"input `{name}` is {value!r}", hint=f"one of: {', '.join(choices)}"
        )
    return value


@dataclass(frozen=True)
class Inputs:
    """The action's inputs, checked: a bad one is a USAGE error before anything runs."""

    command: str
    repos: tuple[str, ...]
    bump: Bump | None
    dry_run: bool
    resume: str | None
    run_id: str | None
    gate: GateKind | None
    gate_attestation: str | None
    plan_hash: str | None
    environment: str
    skip_pypi_wait: bool
    pypi_timeout_minutes: int | None
    max_parallel: int | None
    config: Path
    token: str
    slack_bot_token: str | None
    slack_channel: str | None

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Inputs:
        bump = _choice(env, "bump", ("auto", *(b.value for b in Bump)))
        gate = _choice(env, "gate", tuple(g.value for g in GateKind))
        resume, run_id = _input(env, "resume"), _input(env, "run-id")
        token = _input(env, "token")
        if not token:
            raise ReleaseError(
                ErrorCode.USAGE,
                "input `token` is empty",
                hint="pass a GitHub App token or fine-grained PAT (docs/tokens.md)",
            )
        return cls(
            command=_choice(env, "command", COMMANDS) or "plan",
            repos=tuple(r for r in re.split(r"[\s,]+", _input(env, "repos")) if r),
            bump=Bump(bump) if bump and bump != "auto" else None,
            dry_run=_flag(env, "dry-run"),
            resume=validate_run_id(resume) if resume else None,
            run_id=validate_run_id(run_id) if run_id else None,
            gate=GateKind(gate) if gate else None,
            gate_attestation=_input(env, "gate-attestation") or None,
            plan_hash=_input(env, "plan-hash") or None,
            environment=_input(env, "environment") or "release",
            skip_pypi_wait=_flag(env, "skip-pypi-wait"),
            pypi_timeout_minutes=_number(env, "pypi-timeout-minutes"),
            max_parallel=_number(env, "max-parallel"),
            config=Path(_input(env, "config") or "release-train.toml"),
            token=token,
            slack_bot_token=_input(env, "slack-bot-token") or None,
            slack_channel=_input(env, "slack-channel") or None,
        )
