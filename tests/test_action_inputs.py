"""The action's inputs as the runner passes them (`INPUT_<NAME>`, hyphens kept)."""

from __future__ import annotations

from pathlib import Path

import pytest

from release_train.action_inputs import Inputs
from release_train.config import GateKind
from release_train.core.versions import Bump
from release_train.errors import ErrorCode, ReleaseError


def env(**inputs: str) -> dict[str, str]:
    given = {"token": "t0k3n", **inputs}
    return {f"INPUT_{k.upper().replace('_', '-')}": v for k, v in given.items()}


def test_defaults_are_a_plan_of_every_repo() -> None:
    inputs = Inputs.from_env(env())
    assert (inputs.command, inputs.repos, inputs.bump, inputs.dry_run) == ("plan", (), None, False)
    assert (inputs.gate, inputs.resume, inputs.run_id, inputs.plan_hash) == (None, None, None, None)
    assert (inputs.config, inputs.environment) == (Path("release-train.toml"), "release")


def test_values_are_parsed_and_trimmed() -> None:
    inputs = Inputs.from_env(
        env(
            command="release",
            repos=" omnibase_core, omniclaude\nomnimemory ",
            bump="minor",
            dry_run="TRUE",
            gate="slack",
            max_parallel="3",
            pypi_timeout_minutes="15",
            run_id="release-20261125-abc123",
        )
    )
    assert inputs.repos == ("omnibase_core", "omniclaude", "omnimemory")
    assert (inputs.bump, inputs.dry_run, inputs.gate) == (Bump.MINOR, True, GateKind.SLACK)
    assert (inputs.max_parallel, inputs.pypi_timeout_minutes) == (3, 15)
    assert inputs.run_id == "release-20261125-abc123"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("command", "deploy"),
        ("bump", "huge"),
        ("gate", "email"),
        ("dry_run", "yes"),
        ("skip_pypi_wait", "1"),
        ("max_parallel", "0"),
        ("pypi_timeout_minutes", "ten"),
        ("token", ""),
    ],
)
def test_a_bad_input_is_a_usage_error_naming_it(name: str, value: str) -> None:
    with pytest.raises(ReleaseError) as caught:
        Inputs.from_env(env(**{name: value}))
    assert caught.value.code is ErrorCode.USAGE
    assert name.replace("_", "-") in caught.value.message
    assert caught.value.hint


def test_a_bad_run_id_is_refused_before_anything_runs() -> None:
    with pytest.raises(ReleaseError) as caught:
        Inputs.from_env(env(resume="../../etc/passwd"))
    assert caught.value.code is ErrorCode.USAGE
    assert "invalid run id" in caught.value.message
