"""`release` checks the token and the branch rules before the gate, and refuses with all of them."""

from __future__ import annotations

from tests.integration.sandbox.test_preflight_access import MERGE_QUEUE

from .conftest import Rig


def test_release_names_every_problem_and_creates_no_state(rig: Rig) -> None:
    config = rig.config("cli")
    snapshot = rig.repo_snapshot("cli_core")
    if snapshot["branches"]["main"] in snapshot["tags"].values():  # released by another test
        rig.push("cli_core", "fix: something to release")  # (the lane's own fix, else)
    reader = rig.world.github.make_token(read_only=True)
    rig.admin.set_rules("cli_core", [MERGE_QUEUE])
    try:
        done = rig.cli("release", "--all", "--yes", config=config, env={"GITHUB_TOKEN": reader})
    finally:
        rig.admin.set_rules("cli_core", [])

    assert done.returncode == 2, done.stdout + done.stderr
    assert "Release Plan" in done.stdout  # the plan is shown with its problems
    err = done.stderr
    assert err.startswith("error[PREFLIGHT_FAILED]: 2 problem(s) would stop this release")
    assert "cli_app: [PERMISSION_DENIED] the token cannot push to" in err
    assert "cli_core: [PERMISSION_DENIED] the token cannot push to" in err
    assert "merge queue" not in err  # MERGE enqueues there: the plan only tells it
    assert "cli_core's main merges through a merge queue" in done.stdout
    assert not rig.state_dir.exists() or not any(rig.state_dir.iterdir())
    assert rig.pulls("cli_core") == [] or all(p["state"] != "open" for p in rig.pulls("cli_core"))


def test_plan_from_github_checks_the_token_too(rig: Rig) -> None:
    config = rig.config("cli")
    reader = rig.world.github.make_token(read_only=True)
    done = rig.cli("plan", config=config, env={"GITHUB_TOKEN": reader})
    if "Total: 0 repos" in done.stdout:  # released by another test: nothing to check
        rig.push("cli_core", "fix: something to plan")
        done = rig.cli("plan", config=config, env={"GITHUB_TOKEN": reader})
    assert done.returncode == 2, done.stdout + done.stderr
    assert "PERMISSION_DENIED" in done.stdout  # the plan's problems section
    assert "cli_core: [PERMISSION_DENIED]" in done.stderr
