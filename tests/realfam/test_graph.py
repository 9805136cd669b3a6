"""The real family's graph and pyprojects (issue 11): kinds, dropped extras, sources, BUMP/PIN."""

from __future__ import annotations

import io
import subprocess
import threading
import tomllib
from collections import Counter
from datetime import date
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

from release_train.adapters import workspace as ws
from release_train.adapters.clones import GitAuth
from release_train.adapters.github import GitHub
from release_train.config import Config, load_config
from release_train.console import ConsoleProgress
from release_train.context import RepoContext, Services
from release_train.core.declared import read_declared
from release_train.core.graph import EdgeKind, Graph
from release_train.core.plan import Plan
from release_train.core.problems import Severity
from release_train.core.pyproject import PinPolicy, pin_dependencies, read_project, set_version
from release_train.core.state import Gate, RepoStatus, new_state
from release_train.errors import ErrorCode, ReleaseError
from release_train.planning import PlanRequest, family_graph, plan_workspace
from release_train.steps import Bump, Pin
from tests.realfam.family import realfam_config

TAG_CONFIGS = [
    pytest.param("v{version}", ("{repo}/v{version}",), id="v-tags"),
    pytest.param("{repo}/v{version}", ("v{version}",), id="repo-tags"),
]
# Members taken from git in the real pyprojects (realfam README), on the default branches.
GIT_SOURCED = {
    ("omnibase_infra", "omnibase-core"),  # [tool.uv.sources], a git rev (dev only)
    ("omniclaude", "omninode-intelligence"),  # [tool.uv.sources], a git tag
    ("omnimemory", "omnibase-core"),  # Poetry git dependencies
    ("omnimemory", "omnibase-spi"),
}


def configure(workspace: Path, tag_format: str, legacy: tuple[str, ...], extra: str = "") -> Config:
    path = workspace / "release-train.toml"
    path.write_text(realfam_config(tag_format, legacy, extra), encoding="utf-8")
    return load_config(path)[0]


def graph_of(config: Config, workspace: Path) -> Graph:
    return family_graph(config, workspace, ws.read_manifests(config, workspace))


def plan_of(config: Config, workspace: Path) -> Plan:
    return plan_workspace(config, workspace, PlanRequest(), date(2026, 12, 2))


def assert_tiers_follow_required_edges(graph: Graph) -> None:
    tiers = graph.tiers()
    required = [e for e in graph.declared if e.kind is EdgeKind.REQUIRED]
    assert required
    for edge in required:
        assert tiers[edge.repo] > tiers[edge.upstream], edge
    for repo, ups in graph.upstreams.items():
        assert tiers[repo] == 1 + max((tiers[u] for u in ups), default=0)


def checkout(workspace: Path, branch: str) -> None:
    for clone in sorted(workspace.iterdir()):
        if (clone / ".git").exists():
            subprocess.run(
                ["git", "-C", str(clone), "checkout", "--quiet", branch],
                check=False,  # repos without that branch stay where they are
                capture_output=True,
            )


@pytest.mark.parametrize(("tag_format", "legacy"), TAG_CONFIGS)
def test_the_real_graph_has_no_cycle_and_drops_cores_upward_extras(
    realfam: Path, tag_format: str, legacy: tuple[str, ...]
) -> None:
    graph = graph_of(configure(realfam, tag_format, legacy), realfam)
    assert_tiers_follow_required_edges(graph)
    assert {(e.repo, e.upstream, e.kind, e.group) for e in graph.dropped} == {
        ("omnibase_core", "omnibase_spi", EdgeKind.OPTIONAL, "spi"),
        ("omnibase_core", "omnibase_spi", EdgeKind.OPTIONAL, "full"),
    }
    tiers = graph.tiers()
    # omnimemory's Poetry git dependencies are read: it comes after both of its upstreams.
    assert graph.upstreams["omnimemory"] == {"omnibase_core", "omnibase_spi"}
    assert tiers["omnimemory"] > max(tiers["omnibase_core"], tiers["omnibase_spi"])
    # A group edge that closes no cycle orders too (omniintelligence's `core` group names spi).
    assert "omnibase_spi" in graph.upstreams["omniintelligence"]


@pytest.mark.parametrize(("tag_format", "legacy"), TAG_CONFIGS)
def test_the_plan_names_dropped_edges_and_git_sourced_members(
    realfam: Path, tag_format: str, legacy: tuple[str, ...]
) -> None:
    plan = plan_of(configure(realfam, tag_format, legacy), realfam)
    assert plan.entries  # every repo has unreleased commits on its default branch
    dropped = [p for p in plan.problems if p.code is ErrorCode.EDGE_DROPPED]
    assert [(p.repo, p.severity) for p in dropped] == [("omnibase_core", Severity.WARNING)] * 2
    assert sorted(p.message.split("'")[1] for p in dropped) == ["full", "spi"]
    assert all("PIN does not rewrite" in p.message for p in dropped)
    sources = [p for p in plan.problems if p.code is ErrorCode.UNRELEASABLE_SOURCE]
    assert all(p.severity is Severity.ERROR for p in sources)
    named = {(p.repo, pkg) for p in sources for _, pkg in GIT_SOURCED if pkg in p.message}
    assert named == GIT_SOURCED
    overrides = {p.repo for p in plan.problems if p.code is ErrorCode.FAMILY_OVERRIDE}
    assert overrides == {"omnibase_infra", "omniintelligence", "omniclaude"}


def test_on_main_the_graph_holds_and_only_mains_git_sources_are_named(realfam: Path) -> None:
    checkout(realfam, "main")
    config = configure(realfam, "v{version}", ("{repo}/v{version}",))
    assert_tiers_follow_required_edges(graph_of(config, realfam))
    plan = plan_of(config, realfam)
    infra = read_declared(
        (realfam / "omnibase_infra" / "pyproject.toml").read_text(encoding="utf-8")
    )
    assert "omnibase-core" not in {s.name for s in infra.sources}  # main pins the index
    repos = {p.repo for p in plan.problems if p.code is ErrorCode.UNRELEASABLE_SOURCE}
    assert repos == {"omniclaude", "omnimemory"}


def test_with_drop_the_sources_are_warnings_that_pin_will_remove_them(realfam: Path) -> None:
    config = configure(realfam, "v{version}", ("{repo}/v{version}",), 'family_sources = "drop"')
    plan = plan_of(config, realfam)
    sources = [p for p in plan.problems if p.code is ErrorCode.UNRELEASABLE_SOURCE]
    assert {p.repo for p in sources} == {repo for repo, _ in GIT_SOURCED}
    assert all(p.severity is Severity.WARNING for p in sources)
    assert all("PIN will remove that source entry" in p.message for p in sources)


def test_pin_and_bump_on_every_real_pyproject_change_only_what_they_own(realfam: Path) -> None:
    config = configure(realfam, "v{version}", ("{repo}/v{version}",))
    plan = plan_of(config, realfam)
    packages = {e.repo: e.package for e in plan.entries}
    for entry in plan.entries:
        text = (realfam / entry.repo / "pyproject.toml").read_text(encoding="utf-8")
        pins = {packages[u]: plan.entry(u).new for u in entry.upstreams}  # type: ignore[union-attr]
        pinned = set_version(
            pin_dependencies(text, pins, PinPolicy.EXACT, drop_sources=True), entry.new
        )
        tomllib.loads(pinned)
        assert read_project(pinned).version == entry.new
        declared = read_declared(pinned)
        family = {canonicalize_name(p) for p in pins}
        assert not family & {s.name for s in declared.sources}
        versions: dict[str, str] = {canonicalize_name(p): v for p, v in pins.items()}
        for override in declared.overrides:
            if override.name in versions:  # uv overrides of released upstreams follow the pin
                wanted = SpecifierSet(f"=={versions[override.name]}")
                assert Requirement(override.requirement).specifier == wanted
        before, after = Counter(text.splitlines()), Counter(pinned.splitlines())
        changed = list((before - after) + (after - before))
        # Every changed line is the version, a pin of a released upstream, or a dropped source.
        assert changed
        for line in changed:
            assert line.startswith("version =") or any(
                name in line.lower().replace("_", "-") for name in family
            ), (entry.repo, line)


def context(config: Config, plan: Plan, repo: str, tmp: Path, workspace: Path) -> RepoContext:
    formats = {r: config.tag_template(r) for r in config.repos}
    state = new_state(plan, formats, Gate(kind="yes"), "fail-fast")
    for upstream in state.repos[repo].upstreams:
        state.repos[upstream].status = RepoStatus.DONE
    services = Services(
        config=config,
        github=GitHub("http://127.0.0.1:9/api/v3", "unused", config.owner),  # never called
        auth=GitAuth(None, None),
        index_url=config.index_url,
        work_dir=tmp,
        progress=ConsoleProgress(io.StringIO()),
    )
    ctx = RepoContext(services, state, state.repos[repo], workspace / repo, threading.Lock())
    ctx.worktree.mkdir(parents=True)
    source = (workspace / repo / "pyproject.toml").read_text(encoding="utf-8")
    (ctx.worktree / "pyproject.toml").write_text(source, encoding="utf-8")
    return ctx


def test_bump_and_pin_steps_release_omnimemorys_poetry_project(
    realfam: Path, tmp_path: Path
) -> None:
    config = configure(realfam, "v{version}", ("{repo}/v{version}",), 'family_sources = "drop"')
    plan = plan_of(config, realfam)
    ctx = context(config, plan, "omnimemory", tmp_path / "work", realfam)
    # Which version is planned is another rule's (the pyproject already says 0.1.0); this
    # test is about BUMP writing [tool.poetry] version, so it asks for one above it.
    ctx.repo.new_version = "0.2.0"
    for step in (Bump(), Pin()):
        assert not step.done(ctx)
        step.apply(ctx)
        assert step.done(ctx)
    text = (ctx.worktree / "pyproject.toml").read_text(encoding="utf-8")
    poetry = tomllib.loads(text)["tool"]["poetry"]
    core, spi = plan.entry("omnibase_core"), plan.entry("omnibase_spi")
    assert core is not None and spi is not None
    assert poetry["version"] == "0.2.0"
    assert poetry["dependencies"]["omnibase_core"] == f"=={core.new}"
    assert poetry["dependencies"]["omnibase_spi"] == f"=={spi.new}"
    assert ctx.repo.pins == {"omnibase_core": f"=={core.new}", "omnibase_spi": f"=={spi.new}"}


def test_pin_step_refuses_a_git_sourced_member_with_refuse(realfam: Path, tmp_path: Path) -> None:
    config = configure(realfam, "v{version}", ("{repo}/v{version}",))
    plan = plan_of(config, realfam)
    ctx = context(config, plan, "omnibase_infra", tmp_path / "work", realfam)
    with pytest.raises(ReleaseError) as caught:
        Pin().done(ctx)
    assert caught.value.code is ErrorCode.UNRELEASABLE_SOURCE
    assert "tool.uv.sources" in caught.value.message
    assert caught.value.hint is not None and "drop" in caught.value.hint


def test_an_unconfigured_poetry_dependent_in_the_workspace_is_graph_drift(realfam: Path) -> None:
    # omnimemory has no [project]: only its Poetry git dependencies say it needs the family.
    text = realfam_config().replace("[repos.omnimemory]\n", "")
    (realfam / "release-train.toml").write_text(text, encoding="utf-8")
    config = load_config(realfam / "release-train.toml")[0]
    assert (realfam / "omnimemory" / "pyproject.toml").is_file()  # its clone stays there
    with pytest.raises(ReleaseError) as caught:
        graph_of(config, realfam)
    assert caught.value.code is ErrorCode.GRAPH_DRIFT
    assert caught.value.repo == "omnimemory"
