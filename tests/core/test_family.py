"""Preflight findings in the pyprojects: dropped edges, unreleasable sources, uv overrides."""

from __future__ import annotations

from dataclasses import dataclass

from release_train.core.commits import parse_commit
from release_train.core.declared import Declared, read_declared
from release_train.core.family import manifest_problems
from release_train.core.graph import Edge, order_graph
from release_train.core.plan import Plan, PlanOptions, RepoScan, make_plan
from release_train.core.problems import Problem, Severity
from release_train.core.pyproject import PinPolicy
from release_train.errors import ErrorCode


@dataclass(frozen=True)
class Member:
    package: str
    declared: Declared


PYPROJECTS = {
    "core": """\
[project]
name = "omnibase_core"
[project.optional-dependencies]
spi = ["omnibase-spi>=0.20.2"]
""",
    "spi": """\
[project]
name = "omnibase_spi"
dependencies = ["omnibase-core>=0.46.1,<0.47.0"]
""",
    "infra": """\
[project]
name = "omnibase_infra"
dependencies = ["omnibase-core==0.46.8", "omnibase-spi==0.23.1"]
[tool.uv]
override-dependencies = ["omnibase-core==0.46.8", "requests<3"]
[tool.uv.sources]
omnibase-core = { git = "https://github.com/o/omnibase_core.git", rev = "a256" }
requests = { git = "https://github.com/psf/requests.git" }
""",
    "memory": """\
[tool.poetry]
name = "omnimemory"
version = "0.1.0"
[tool.poetry.dependencies]
omnibase_spi = {git = "https://github.com/o/omnibase_spi.git", branch = "main"}
""",
}
PACKAGES = {"core": "omnibase_core", "spi": "omnibase_spi", "infra": "omnibase_infra"}
MEMBERS = {
    repo: Member(PACKAGES.get(repo, "omnimemory"), read_declared(text))
    for repo, text in PYPROJECTS.items()
}


def plan_of(selected: list[str], released: set[str]) -> Plan:
    by_package = {m.package.replace("_", "-"): repo for repo, m in MEMBERS.items()}
    edges = [
        Edge(repo, by_package[d.name], d.kind, d.group)
        for repo, m in MEMBERS.items()
        for d in m.declared.dependencies
        if d.name in by_package
    ]
    graph = order_graph(MEMBERS, edges)
    scans = {
        repo: RepoScan(
            repo,
            MEMBERS[repo].package,
            "1.0.0",
            None,
            "f" * 40,
            (parse_commit("feat: x", "a" * 40),) if repo in released else (),
        )
        for repo in MEMBERS
    }
    return make_plan(scans, graph, selected, PlanOptions(cascade=False), "r")


def problems(plan: Plan, *, drop: bool = False) -> list[Problem]:
    return manifest_problems(MEMBERS, plan, drop_sources=drop, policy=PinPolicy.EXACT)


def codes(found: list[Problem]) -> list[tuple[str | None, ErrorCode, Severity]]:
    return sorted((p.repo, p.code, p.severity) for p in found)


ALL = ["core", "infra", "memory", "spi"]


def test_refuse_makes_each_family_source_an_error_and_warns_of_drops_and_overrides() -> None:
    found = problems(plan_of(ALL, set(ALL)))
    assert codes(found) == [
        ("core", ErrorCode.EDGE_DROPPED, Severity.WARNING),
        ("infra", ErrorCode.FAMILY_OVERRIDE, Severity.WARNING),
        ("infra", ErrorCode.UNRELEASABLE_SOURCE, Severity.ERROR),
        ("memory", ErrorCode.UNRELEASABLE_SOURCE, Severity.ERROR),
    ]
    by_code = {(p.repo, p.code): p for p in found}
    dropped = by_code[("core", ErrorCode.EDGE_DROPPED)].message
    assert "extra 'spi'" in dropped and "omnibase_spi" in dropped
    assert "PIN does not rewrite" in dropped
    override = by_code[("infra", ErrorCode.FAMILY_OVERRIDE)].message
    assert "omnibase-core==1.1.0" in override and "requests" not in override
    source = by_code[("memory", ErrorCode.UNRELEASABLE_SOURCE)]
    assert "tool.poetry.dependencies" in source.message and "omnibase-spi" in source.message
    assert source.hint is not None and 'family_sources = "drop"' in source.hint


def test_drop_makes_a_source_of_a_released_upstream_a_warning() -> None:
    found = problems(plan_of(ALL, set(ALL)), drop=True)
    sources = [p for p in found if p.code is ErrorCode.UNRELEASABLE_SOURCE]
    assert [(p.repo, p.severity) for p in sources] == [
        ("infra", Severity.WARNING),
        ("memory", Severity.WARNING),
    ]
    assert "PIN will remove that source entry and pin the released version 1.1.0" in (
        sources[0].message
    )


def test_drop_cannot_pin_an_upstream_that_is_not_released_in_the_run() -> None:
    found = problems(plan_of(["infra", "memory"], {"infra", "memory"}), drop=True)
    sources = [p for p in found if p.code is ErrorCode.UNRELEASABLE_SOURCE]
    assert [(p.repo, p.severity) for p in sources] == [
        ("infra", Severity.ERROR),
        ("memory", Severity.ERROR),
    ]
    assert "not released before it in this run" in sources[0].message
    # Nor is an override of an upstream that is not released rewritten: no warning.
    assert ErrorCode.FAMILY_OVERRIDE not in {p.code for p in found}


def test_repos_that_release_nothing_have_no_source_problems() -> None:
    found = problems(plan_of(ALL, {"core"}))
    assert codes(found) == [("core", ErrorCode.EDGE_DROPPED, Severity.WARNING)]
    assert problems(plan_of(["spi"], set())) == []  # core (the dropped edge's repo) unselected
