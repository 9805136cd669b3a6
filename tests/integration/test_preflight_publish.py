"""The plan's publish preflight on real git repos: release workflows, tags and names."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest

from release_train.adapters.git import git
from release_train.config import Config, PublishMode, load_config, parse_config
from release_train.errors import ErrorCode
from release_train.planning import PlanRequest, plan_workspace
from tests.integration.test_plan_cli import run_cli

DAY = date(2026, 2, 25)
WORKFLOW = ".github/workflows/release.yml"


def _plan_problems(config: Config, workspace: Path) -> list[tuple[str | None, str, str]]:
    """The plan's problems but VERSION_NOT_FOUND: a tag format that hides the old tags also
    warns of that (tests/realfam/test_versions.py), which is not what these tests are about."""
    plan = plan_workspace(config, workspace, PlanRequest(), DAY)
    return [
        (p.repo, str(p.code), str(p.severity))
        for p in plan.problems
        if p.code is not ErrorCode.VERSION_NOT_FOUND
    ]


def _commit(repo: Path, path: str, text: str | None, message: str) -> None:
    target = repo / path
    if text is None:
        git(repo, "rm", "-q", path)
    else:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        git(repo, "add", path)
    git(repo, "-c", "user.name=T", "-c", "user.email=t@example.invalid", "commit", "-qm", message)


def test_the_sample_family_plans_with_no_problem(sample_family: Path) -> None:
    config, _ = load_config(sample_family / "release-train.toml")
    assert _plan_problems(config, sample_family) == []


def test_a_tag_format_the_workflows_do_not_listen_to(sample_family: Path) -> None:
    config, _ = load_config(sample_family / "release-train.toml")
    config = config.model_copy(update={"tag_format": "release-{version}"})
    found = _plan_problems(config, sample_family)
    assert found == [(r, "PUBLISH_TRIGGER_MISMATCH", "error") for r in sorted(config.repos)]


def test_a_missing_or_mistriggered_workflow_is_found_at_the_planned_rev(
    sample_family: Path,
) -> None:
    config, _ = load_config(sample_family / "release-train.toml")
    spi, core = sample_family / "omnibase_spi", sample_family / "omnibase_core"
    _commit(spi, WORKFLOW, None, "ci: drop the release workflow")
    _commit(core, WORKFLOW, "on:\n  push:\n    branches: [main]\n", "ci: branches only")
    plan = plan_workspace(config, sample_family, PlanRequest(), DAY)
    by_repo = {p.repo or "": p for p in plan.problems}
    assert sorted(by_repo) == ["omnibase_core", "omnibase_spi"]
    assert "does not exist at HEAD" in by_repo["omnibase_spi"].message
    assert "branches only" in by_repo["omnibase_core"].message
    # The working tree does not count, only what is committed at the planned rev.
    (spi / WORKFLOW).parent.mkdir(parents=True)
    (spi / WORKFLOW).write_text("on: push\n", encoding="utf-8")
    assert "omnibase_spi" in {
        p.repo for p in plan_workspace(config, sample_family, PlanRequest(), DAY).problems
    }


def test_dispatch_mode_needs_the_tag_input(sample_family: Path) -> None:
    config, _ = load_config(sample_family / "release-train.toml")
    repos = {
        **config.repos,
        "omnimemory": config.repos["omnimemory"].model_copy(
            update={"publish": PublishMode.DISPATCH}
        ),
    }
    config = config.model_copy(update={"repos": repos})
    assert _plan_problems(config, sample_family) == []
    memory = sample_family / "omnimemory"
    _commit(
        memory,
        WORKFLOW,
        "on:\n  workflow_dispatch:\n    inputs:\n      version:\n        required: true\n",
        "ci: dispatch takes a version",
    )
    plan = plan_workspace(config, sample_family, PlanRequest(), DAY)
    [problem] = plan.problems
    assert (problem.repo, problem.code) == ("omnimemory", "PUBLISH_TRIGGER_MISMATCH")
    assert "declares no input `tag`" in problem.message
    assert "required input `version` is not sent" in problem.message


def test_publish_none_and_skipped_repos_are_not_checked(sample_family: Path) -> None:
    config, _ = load_config(sample_family / "release-train.toml")
    _commit(sample_family / "omnimemory", WORKFLOW, None, "ci: no release workflow")
    request = PlanRequest(repos=("omnibase_spi",))
    assert plan_workspace(config, sample_family, request, DAY).problems == ()
    repos = {
        **config.repos,
        "omnimemory": config.repos["omnimemory"].model_copy(update={"publish": PublishMode.NONE}),
    }
    assert _plan_problems(config.model_copy(update={"repos": repos}), sample_family) == []


def test_invalid_tags_and_names(sample_family: Path, tmp_path: Path) -> None:
    config, _ = load_config(sample_family / "release-train.toml")
    bad = config.model_copy(update={"tag_format": "{repo} v{version}", "owner": "-omni-"})
    found = _plan_problems(bad, sample_family)
    assert found[0] == (None, "TAG_FORMAT_INVALID", "error")  # the owner: family-wide first
    assert found[1:] == [(r, "TAG_FORMAT_INVALID", "error") for r in sorted(config.repos)]
    workspace = tmp_path / "ws"
    workspace.mkdir()
    shutil.copytree(sample_family / "omnibase_spi", workspace / "spi core")
    spaced = parse_config({"owner": "o", "repos": {"spi core": {"publish": "none"}}}, "t")
    # The repo name, and the tag made from it (`spi core/v1.2.1`).
    assert _plan_problems(spaced, workspace) == [("spi core", "TAG_FORMAT_INVALID", "error")] * 2


def _workspace_args(family: Path) -> list[str]:
    # --offline: the sample family's index is the public one, which no test queries.
    config = str(family / "release-train.toml")
    return ["--config", config, "--workspace", str(family), "--offline"]


def test_plan_prints_the_plan_and_exits_2_on_an_error(
    sample_family: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _commit(sample_family / "omnibase_spi", WORKFLOW, None, "ci: drop the release workflow")
    args = _workspace_args(sample_family)
    code, out, err = run_cli(capsys, "plan", *args)
    assert code == 2
    assert "omniclaude" in out  # the whole plan is still printed
    assert err.startswith("error[PREFLIGHT_FAILED]: 1 problem(s) would stop this release")
    assert "omnibase_spi: [PUBLISH_TRIGGER_MISMATCH]" in err
    code, out, _ = run_cli(capsys, "plan", *args, "--format", "json")
    assert code == 2 and out.lstrip().startswith("{")


def test_release_refuses_before_any_state(
    sample_family: Path,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    state = tmp_path / "state"
    monkeypatch.setenv("RELEASE_TRAIN_STATE_DIR", str(state))
    _commit(sample_family / "omnibase_core", WORKFLOW, "on: workflow_dispatch\n", "ci: manual")
    args = _workspace_args(sample_family)
    code, _, err = run_cli(capsys, "release", "--dry-run", *args)
    assert code == 2 and "error[PREFLIGHT_FAILED]" in err
    assert "omnibase_core: [PUBLISH_TRIGGER_MISMATCH]" in err
    assert not state.exists() or not any(state.iterdir())


def test_a_workflow_that_is_not_yaml_is_named(sample_family: Path) -> None:
    config, _ = load_config(sample_family / "release-train.toml")
    _commit(sample_family / "omniclaude", WORKFLOW, "on: [push\n", "ci: broken")
    [problem] = plan_workspace(config, sample_family, PlanRequest(), DAY).problems
    assert (problem.repo, problem.code) == ("omniclaude", "PUBLISH_TRIGGER_MISMATCH")
    assert "the file is not valid YAML" in problem.message
