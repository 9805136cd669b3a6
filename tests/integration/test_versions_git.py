"""Releases and unreleased ranges read from real git repos: every tag, any branch, one log."""

from __future__ import annotations

import argparse
import subprocess
from datetime import date
from pathlib import Path

import pytest

from release_train import cli, commands, runs
from release_train.adapters import git as gitx
from release_train.adapters import workspace as ws
from release_train.config import Config
from release_train.core.plan import RepoScan
from release_train.core.problems import Severity
from release_train.errors import ErrorCode
from release_train.planning import PlanRequest, plan_workspace
from release_train.sandbox.builder import Change, RepoBuilder
from release_train.sandbox.index import free_port


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), *args], check=True, capture_output=True, text=True
    ).stdout.strip()


def pyproject(version: str | None, name: str = "lib") -> dict[str, str]:
    line = f'version = "{version}"\n' if version else 'dynamic = ["version"]\n'
    return {"pyproject.toml": f'[project]\nname = "{name}"\n{line}'}


def config(**repo: object) -> Config:
    """A one-repo family; `publish = "none"`: these repos have no release workflow to check."""
    return Config.model_validate(
        {
            "owner": "o",
            "repos": {"lib": {"publish": "none", **repo}},
            "tag_format": "v{version}",
            "legacy_tag_patterns": ["{repo}/v{version}"],
        }
    )


def promoted_repo(path: Path) -> RepoBuilder:
    """dev -> main promotion: v0.2.0 and v0.3.0 are tagged on main's merges, not on dev."""
    builder = RepoBuilder(path).init()
    builder.commit([Change("chore: init", pyproject("0.1.0"))])
    builder.tag("v0.1.0")
    git(path, "branch", "dev")
    dev = RepoBuilder(path, branch="dev", commits=1, clock=builder.clock)
    for minor in (2, 3):
        dev.commit(["feat: work", Change(f"release: {minor}", pyproject(f"0.{minor}.0"))])
        git(path, "checkout", "-q", "main")
        git(path, "merge", "-q", "--no-ff", "-m", f"chore: promote v0.{minor}.0", "dev")
        git(path, "tag", f"v0.{minor}.0")
    dev.commit(["fix: after the promotion", "feat: more"])
    git(path, "checkout", "-q", "dev")
    return dev


def scan(cfg: Config, workspace: Path, rev: str = "HEAD") -> RepoScan:
    return ws.scan_repo(cfg, ws.read_manifest(cfg, workspace, "lib", rev))


def test_tags_of_no_template_are_not_releases(tmp_path: Path) -> None:
    path = tmp_path / "lib"
    builder = RepoBuilder(path).init()
    builder.commit([Change("chore: init", pyproject("1.0.0"))])
    for tag in ("v1.0.0", "lib/v1.0.0", "lab/stability/20260101-abc", "release-workflow-v1"):
        builder.tag(tag)
    builder.tag("vnext")  # matches the glob `v*`, is no PEP 440 version
    builder.commit(["fix: a"])
    builder.tag("lib/v1.0.1", annotated=False)
    found = ws.release_candidates(config(), path, "lib", "lib")
    # Best first: highest version, and of one version the tag format's tag before the legacy one.
    assert [(r.tag, r.version) for r in found] == [
        ("lib/v1.0.1", "1.0.1"),
        ("v1.0.0", "1.0.0"),
        ("lib/v1.0.0", "1.0.0"),
    ]
    assert found[0].commit == git(path, "rev-parse", "HEAD")


def test_a_newer_legacy_tag_beats_a_reachable_tag_of_the_format(tmp_path: Path) -> None:
    # omniclaude: v0.19.1 reachable, omniclaude/v0.22.0 newer: the plan must start above it.
    path = tmp_path / "lib"
    builder = RepoBuilder(path).init()
    builder.commit([Change("chore: init", pyproject("0.19.1"))])
    builder.tag("v0.19.1")
    builder.commit(["feat: x"])
    builder.tag("lib/v0.22.0")
    builder.commit(["feat: y"])
    found = scan(config(), tmp_path)
    assert (found.current, found.last_tag, len(found.commits)) == ("0.22.0", "lib/v0.22.0", 1)


def test_dev_plans_above_the_releases_tagged_on_main(tmp_path: Path) -> None:
    promoted_repo(tmp_path / "lib")
    found = scan(config(), tmp_path, "dev")
    assert (found.current, found.last_tag, found.static_version) == ("0.3.0", "v0.3.0", "0.3.0")
    # Not v0.1.0..dev (7 commits): what no release tag holds, the two after the promotion.
    assert [c.subject for c in found.commits] == ["fix: after the promotion", "feat: more"]
    assert set(found.releases) == {"0.1.0", "0.2.0", "0.3.0"}
    main = scan(config(), tmp_path, "main")
    assert (main.current, main.commits) == ("0.3.0", ())
    assert main.head == git(tmp_path / "lib", "rev-parse", "main")


def test_a_pyproject_ahead_of_every_tag_is_planned_above(tmp_path: Path) -> None:
    path = tmp_path / "lib"
    builder = RepoBuilder(path).init()
    builder.commit([Change("chore: init", pyproject("0.21.0"))])
    builder.tag("v0.21.0")
    builder.commit([Change("release: 0.23.0 (never tagged)", pyproject("0.23.0")), "fix: z"])
    plan = plan_workspace(config(), tmp_path, PlanRequest(), date(2026, 1, 1))
    entry = plan.entries[0]
    assert (entry.last_tag, entry.current, entry.new) == ("v0.21.0", "0.23.0", "0.23.1")
    assert plan.problems == ()


def test_a_repo_tag_format_that_hides_old_tags_never_goes_below_them(tmp_path: Path) -> None:
    path = tmp_path / "lib"
    builder = RepoBuilder(path).init()
    builder.commit([Change("chore: init", pyproject("0.47.0"))])
    builder.tag("v0.47.0")
    builder.commit(["feat: x"])
    hiding = Config.model_validate(
        {"owner": "o", "repos": {"lib": {"tag_format": "lib-{version}", "publish": "none"}}}
    )
    plan = plan_workspace(hiding, tmp_path, PlanRequest(), date(2026, 1, 1))
    assert (plan.entries[0].current, plan.entries[0].new) == ("0.47.0", "0.48.0")
    assert [(p.code, p.severity) for p in plan.problems] == [
        (ErrorCode.VERSION_NOT_FOUND, Severity.WARNING)
    ]


def test_a_dynamic_version_without_any_tag_starts_at_zero_and_says_so(tmp_path: Path) -> None:
    RepoBuilder(tmp_path / "lib").init().commit([Change("feat: first", pyproject(None))])
    plan = plan_workspace(config(), tmp_path, PlanRequest(), date(2026, 1, 1))
    assert (plan.entries[0].current, plan.entries[0].new, plan.entries[0].commits) == (
        "0.0.0",
        "0.1.0",
        1,
    )
    assert [p.code for p in plan.problems] == [ErrorCode.VERSION_NOT_FOUND]


def test_hundreds_of_release_tags_go_through_one_log(tmp_path: Path) -> None:
    path = tmp_path / "lib"
    builder = RepoBuilder(path).init()
    builder.commit([Change("chore: init", pyproject("0.0.1"))])
    shas = [builder.commit([f"fix: {i}"]) for i in range(3)]
    # 600 lightweight tags in one `update-ref --stdin`: the argv limit is not what stops us.
    refs = "".join(f"create refs/tags/v0.{i}.0 {shas[i % 3]}\n" for i in range(600))
    gitx.git(path, "update-ref", "--stdin", input_text=refs)
    builder.commit(["feat: new"])
    exclude = [r.commit for r in ws.release_candidates(config(), path, "lib", "lib") if r.commit]
    assert len(exclude) == 600
    commits = gitx.log_excluding(path, "HEAD", exclude)
    assert [c.message for c in commits] == ["feat: new"]
    assert scan(config(), tmp_path).current == "0.599.0"


def test_a_repo_branch_overrides_the_family_branch(tmp_path: Path) -> None:
    for name in ("lib", "app"):
        RepoBuilder(tmp_path / "origin" / name).init().commit(
            [Change("chore: init", pyproject("1.0.0", name))]
        )
        git(tmp_path / "origin" / name, "branch", "dev")
        git(tmp_path, "clone", "-q", str(tmp_path / "origin" / name), str(tmp_path / "ws" / name))
    cfg = Config.model_validate(
        {"owner": "o", "branch": "main", "repos": {"lib": {"branch": "dev"}, "app": {}}}
    )
    assert (cfg.branch_of("lib"), cfg.branch_of("app")) == ("dev", "main")
    sources = {name: tmp_path / "ws" / name for name in ("lib", "app")}
    revs = runs.workspace_revs(cfg, {}, sources, fetch=False)
    assert revs == {"app": "origin/main", "lib": "origin/dev"}


def test_plan_and_release_take_offline() -> None:
    parser = cli.build_parser()
    for command in ("plan", "release"):
        args: argparse.Namespace = parser.parse_args([command, "--offline"])
        assert commands.options_of(args).offline is True
        assert commands.options_of(parser.parse_args([command])).offline is False


def test_an_unreachable_index_warns_and_offline_does_not_ask(tmp_path: Path) -> None:
    path = tmp_path / "ws" / "lib"
    RepoBuilder(path).init().commit([Change("chore: init", pyproject("1.0.0"))])
    RepoBuilder(path).tag("v1.0.0")
    RepoBuilder(path, commits=1, clock=1800000000).commit(["fix: a"])
    dead = config().model_copy(update={"index_url": f"http://127.0.0.1:{free_port()}/simple/"})
    online = runs.Options(workspace=tmp_path / "ws", env={})
    plan, _ = runs.plan_release(dead, online)
    assert plan.entries[0].new == "1.0.1"
    assert [(p.code, p.severity) for p in plan.problems] == [
        (ErrorCode.INDEX_ERROR, Severity.WARNING)
    ]
    offline = runs.Options(workspace=tmp_path / "ws", env={}, offline=True)
    assert runs.plan_release(dead, offline)[0].problems == ()


@pytest.mark.parametrize("annotated", [True, False])
def test_annotated_and_lightweight_tags_bound_the_range_alike(
    tmp_path: Path, annotated: bool
) -> None:
    path = tmp_path / "lib"
    builder = RepoBuilder(path).init()
    builder.commit([Change("chore: init", pyproject("1.0.0")), "fix: a"])
    builder.tag("v1.0.0", annotated=annotated)
    builder.commit(["fix: b"])
    assert [c.subject for c in scan(config(), tmp_path).commits] == ["fix: b"]
