"""The publish preflight on the six real clones: their release.yml listens to `v[0-9]*...` only."""

from __future__ import annotations

import tomllib
from datetime import date
from pathlib import Path

import pytest

from release_train.adapters import git
from release_train.adapters.workspace import read_manifest
from release_train.config import Config, PublishMode, parse_config
from release_train.core.versions import format_tag
from release_train.errors import ErrorCode
from release_train.planning import PlanRequest, plan_workspace
from release_train.preflight_publish import WORKFLOWS, trigger_problem
from tests.realfam.family import REPOS, realfam_config

DEFAULT = "{repo}/v{version}"


def _config(tag_format: str, legacy: tuple[str, ...], extra: str = "") -> Config:
    return parse_config(tomllib.loads(realfam_config(tag_format, legacy, extra)), "realfam")


def _has_workflow(workspace: Path, repo: str, rev: str) -> bool:
    return git.show_file(workspace / repo, rev, f"{WORKFLOWS}/release.yml") is not None


@pytest.mark.parametrize("rev", ["HEAD", "main"])  # `dev` where it exists, and `main`
@pytest.mark.parametrize(
    ("tag_format", "legacy", "mismatch"),
    [(DEFAULT, ("v{version}",), True), ("v{version}", (DEFAULT,), False)],
)
def test_only_v_tags_start_the_real_release_workflows(
    realfam_master: Path, rev: str, tag_format: str, legacy: tuple[str, ...], mismatch: bool
) -> None:
    config = _config(tag_format, legacy)
    with_workflow = [r for r in REPOS if _has_workflow(realfam_master, r, rev)]
    assert len(with_workflow) == 5  # all but omnimemory
    for repo in REPOS:
        manifest = read_manifest(config, realfam_master, repo, rev)
        tag = format_tag(config.tag_template(repo), repo, "0.99.0", manifest.package)
        problem = trigger_problem(config, manifest, tag)
        if repo not in with_workflow:  # tag mode with no workflow: nothing would publish
            assert problem is not None and "does not exist" in problem.message
        elif mismatch:
            assert problem is not None and problem.code is ErrorCode.PUBLISH_TRIGGER_MISMATCH
            assert "v[0-9]*.[0-9]*.[0-9]*" in problem.message and tag in problem.message
        else:
            assert problem is None, problem


def test_dispatch_sends_what_the_real_workflows_take(realfam_master: Path) -> None:
    config = _config(DEFAULT, ("v{version}",))
    repos = {
        r: c.model_copy(update={"publish": PublishMode.DISPATCH}) for r, c in config.repos.items()
    }
    config = config.model_copy(update={"repos": repos})
    for repo in REPOS:
        if not _has_workflow(realfam_master, repo, "HEAD"):
            continue
        manifest = read_manifest(config, realfam_master, repo)
        tag = format_tag(DEFAULT, repo, "0.99.0", manifest.package)
        assert trigger_problem(config, manifest, tag) is None  # `workflow_dispatch` has `tag`


@pytest.mark.parametrize(
    ("tag_format", "legacy"), [(DEFAULT, ("v{version}",)), ("v{version}", (DEFAULT,))]
)
def test_the_whole_plan_flags_the_default_tag_format_for_every_repo_with_a_release_yml(
    realfam: Path, tag_format: str, legacy: tuple[str, ...]
) -> None:
    config = _config(tag_format, legacy)
    plan = plan_workspace(config, realfam, PlanRequest(), date(2026, 10, 1))
    flagged = {p.repo for p in plan.problems if p.code is ErrorCode.PUBLISH_TRIGGER_MISMATCH}
    released = {e.repo for e in plan.entries}
    assert released == set(REPOS)
    without_workflow = {r for r in REPOS if not _has_workflow(realfam, r, "HEAD")}
    assert without_workflow == {"omnimemory"}  # tag mode with no workflow: nothing publishes
    assert flagged == (released if tag_format == DEFAULT else without_workflow)
