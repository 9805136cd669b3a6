"""`release-train status`: the list of runs (text and JSON), and a failed run's cause and
the command that resumes it, from real runs of the status lane (one green, one red)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from release_train.core.state import RunState
from release_train.sandbox.control import Sandbox

from .conftest import CI_SECONDS, Rig


@dataclass(frozen=True)
class Runs:
    """sts-1 released both repos; sts-2 released sts_core, and sts_app's CI failed."""

    rig: Rig
    config: Path
    green: RunState
    red: RunState


@pytest.fixture(scope="module")
def runs(world: Sandbox, tmp_path_factory: pytest.TempPathFactory) -> Runs:
    rig = Rig(world, tmp_path_factory.mktemp("status"))
    config = rig.config("status")
    status, green = rig.release(config, "sts-1")
    assert status == 0
    rig.push("sts_core", "fix: a second change of the core")
    rig.push("sts_app", "fix: a second change of the app")
    rig.admin.set_ci("sts_app", conclusion="failure")
    try:
        status, red = rig.release(config, "sts-2")
    finally:
        rig.admin.set_ci("sts_app", conclusion="success", duration=CI_SECONDS)
    assert status == 1
    return Runs(rig, config, green, red)


def _started(state: RunState) -> str:
    return f"{state.started_at:%Y-%m-%d %H:%M}"


def test_status_lists_runs_newest_first_with_their_counts(runs: Runs) -> None:
    done = runs.rig.main("status", config=runs.config)

    assert done.returncode == 0, done.stderr
    red, green = runs.red, runs.green
    assert done.stdout == (
        f"Runs in local files in {runs.rig.state_dir} (newest first)\n"
        "\n"
        "  Run         Status              Started (UTC)     Repos  Done  Failed  Blocked  Plan\n"
        "  ──────────  ──────────────────  ────────────────  ─────  ────  ──────  ───────  "
        "────────────\n"
        f"  sts-2       partial             {_started(red)}  2      1     1       0        "
        f"{red.plan_hash.removeprefix('sha256:')}\n"
        f"  sts-1       success (archived)  {_started(green)}  2      2     0       0        "
        f"{green.plan_hash.removeprefix('sha256:')}\n"
        "\n"
        "  sts-2: failed: sts_app\n"
        "\n"
        "details and the resume command: release-train status RUN\n"
    )


def test_status_as_json_lists_the_runs_with_stable_keys(runs: Runs) -> None:
    done = runs.rig.main("status", "--format", "json", config=runs.config)

    assert done.returncode == 0, done.stderr
    listing = json.loads(done.stdout)
    assert list(listing) == ["schema_version", "store", "runs"]
    assert listing["store"] == f"local files in {runs.rig.state_dir}"
    first, second = listing["runs"]
    assert first == {
        "run_id": "sts-2",
        "status": "partial",
        "archived": False,
        "started_at": runs.red.started_at.isoformat().replace("+00:00", "Z"),
        "updated_at": first["updated_at"],  # written once more after the run settled
        "plan_hash": runs.red.plan_hash,
        "attempts": 1,
        "repos": 2,
        "done": 1,
        "failed": 1,
        "blocked": 0,
        "failed_repos": ["sts_app"],
        "location": str(runs.rig.state_dir / "sts-2.json"),
        "error": None,
    }
    assert (second["run_id"], second["status"], second["archived"]) == ("sts-1", "success", True)
    assert (second["done"], second["failed"]) == (2, 0)


def test_status_of_a_failed_run_shows_the_cause_and_the_resume_command(runs: Runs) -> None:
    done = runs.rig.main("status", "sts-2", config=runs.config)

    assert done.returncode == 0, done.stderr
    error = runs.red.repos["sts_app"].error
    assert error is not None and error.hint is not None
    sha = runs.red.repos["sts_app"].release_commit or ""
    # The cause as the remote said it: the check's name and its conclusion.
    assert error.message == f"check 'test' failed on {sha[:12]} (conclusion failure)"
    assert (
        f"  sts_app: MERGE failed: [CI_FAILED] {error.message}\n    hint: {error.hint}\n"
        in done.stdout
    )
    assert done.stdout.endswith(
        f"\nresume with: release-train resume sts-2 --config {runs.config}\n"
    )


def test_status_of_a_finished_run_has_no_resume_command(runs: Runs) -> None:
    done = runs.rig.main("status", "sts-1", config=runs.config)

    assert done.returncode == 0, done.stderr
    assert "resume with" not in done.stdout
    assert done.stdout.startswith("Run sts-1: success (archived)\n")


def test_a_corrupt_state_is_listed_as_unreadable(runs: Runs, rig: Rig) -> None:
    (rig.state_dir).mkdir(parents=True)
    (rig.state_dir / "sts-9.json").write_text("{not json\n", encoding="utf-8")

    done = rig.main("status", "--format", "json", config=runs.config)

    assert done.returncode == 0, done.stderr
    [entry] = json.loads(done.stdout)["runs"]
    assert (entry["run_id"], entry["status"]) == ("sts-9", "unreadable")
    assert entry["error"].startswith(
        f"state {rig.state_dir / 'sts-9.json'} is not a valid run state"
    )


def test_the_run_list_has_no_markdown_format(runs: Runs) -> None:
    done = runs.rig.main("status", "--format", "markdown", config=runs.config)

    assert done.returncode == 2, done.stdout
    assert done.stderr == (
        "error[USAGE]: the run list has text and JSON formats\n"
        "hint: use --format text or json, or give a RUN_ID for its Markdown summary\n"
    )
