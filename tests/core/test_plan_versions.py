"""Versions that cannot go wrong (ISSUE 11, item 2): the base, the floor and their problems."""

from __future__ import annotations

import dataclasses

from hypothesis import given
from hypothesis import strategies as st
from packaging.version import Version

from release_train.core.commits import parse_commit
from release_train.core.graph import build_graph
from release_train.core.plan import Plan, PlanOptions, RepoScan, make_plan, version_problems
from release_train.core.problems import Problem, Severity
from release_train.core.versions import Bump, Prerelease
from release_train.errors import ErrorCode

GRAPH = build_graph({"spi": []})


def scan(
    current: str = "0.21.0",
    *messages: str,
    releases: tuple[str, ...] | None = None,
    static: str | None = None,
    index: tuple[str, ...] | None = None,
    tags: frozenset[str] | None = None,
) -> RepoScan:
    """One repo `spi` whose releases default to its `current` and whose tags to theirs."""
    commits = tuple(parse_commit(m, f"{i:040x}") for i, m in enumerate(messages or ("feat: x",)))
    found = releases if releases is not None else ((current,) if current != "0.0.0" else ())
    return RepoScan(
        repo="spi",
        package="omnibase-spi",
        current=current,
        last_tag=f"v{current}" if found else None,
        head="f" * 40,
        commits=commits,
        releases=found,
        tags=tags if tags is not None else frozenset(f"v{v}" for v in found),
        tag_template="v{version}",
        static_version=static,
        index_versions=index,
    )


def plan_of(one: RepoScan, options: PlanOptions | None = None) -> Plan:
    return make_plan({"spi": one}, GRAPH, ["spi"], options or PlanOptions(), "r")


def problems_of(one: RepoScan, options: PlanOptions | None = None) -> list[Problem]:
    return version_problems(plan_of(one, options), {"spi": one})


def codes(found: list[Problem]) -> list[tuple[ErrorCode, Severity]]:
    return sorted((p.code, p.severity) for p in found)


def test_a_pyproject_ahead_of_its_tags_is_the_base() -> None:
    # omnibase_spi on dev: tags up to v0.21.0 reachable, the pyproject already says 0.23.0.
    entry = plan_of(scan("0.21.0", "feat: y", static="0.23.0")).entries[0]
    assert (entry.current, entry.new, entry.last_tag) == ("0.23.0", "0.24.0", "v0.21.0")
    assert problems_of(scan("0.21.0", "feat: y", static="0.23.0")) == []


def test_a_pyproject_behind_its_tags_does_not_lower_the_base() -> None:
    entry = plan_of(scan("0.46.7", "fix: y", static="0.46.6")).entries[0]
    assert (entry.current, entry.new) == ("0.46.7", "0.46.8")


def test_a_pyproject_dev_version_ahead_is_released_as_its_final() -> None:
    entry = plan_of(scan("0.23.0", "feat: y", static="0.24.0.dev0")).entries[0]
    assert (entry.current, entry.new) == ("0.24.0.dev0", "0.24.0")


def test_a_pyproject_version_that_is_not_pep440_is_left_to_bump() -> None:
    entry = plan_of(scan("1.0.0", "fix: y", static="one")).entries[0]
    assert (entry.current, entry.new) == ("1.0.0", "1.0.1")


def test_a_skipped_repo_shows_its_base() -> None:
    quiet = dataclasses.replace(scan("0.21.0", static="0.23.0"), commits=())
    assert plan_of(quiet).skipped[0].current == "0.23.0"
    assert version_problems(plan_of(quiet), {"spi": quiet}) == []


def test_bump_override_still_lands_above_a_pyproject_ahead() -> None:
    entry = plan_of(scan("0.21.0", "feat: y", static="0.23.0"), PlanOptions(bump=Bump.PATCH))
    assert entry.entries[0].new == "0.23.1"


def test_no_tag_and_no_static_version_starts_at_zero_with_a_warning() -> None:
    # The specification's brand-new repo: 0.0.0 -> 0.1.0, and the plan says where it came from.
    fresh = scan("0.0.0", "feat: first")
    assert plan_of(fresh).entries[0].new == "0.1.0"
    found = problems_of(fresh)
    assert codes(found) == [(ErrorCode.VERSION_NOT_FOUND, Severity.WARNING)]
    assert "planned from 0.0.0" in found[0].message


def test_a_tag_format_that_hides_old_tags_is_planned_from_the_pyproject() -> None:
    # ISSUE 11: a per-repo tag_format that matches no old tag once restarted at 0.0.0.
    hidden = scan("0.0.0", "fix: y", static="0.47.0")
    assert plan_of(hidden).entries[0].new == "0.47.1"
    found = problems_of(hidden)
    assert codes(found) == [(ErrorCode.VERSION_NOT_FOUND, Severity.WARNING)]
    assert "the pyproject's version 0.47.0" in found[0].message
    assert found[0].hint is not None and "legacy_tag_patterns" in found[0].hint


def test_hidden_tags_with_a_dynamic_version_go_backwards_against_the_index() -> None:
    hidden = scan("0.0.0", "fix: y", index=("0.46.0", "0.47.57"))
    assert codes(problems_of(hidden)) == [
        (ErrorCode.VERSION_BACKWARDS, Severity.ERROR),
        (ErrorCode.VERSION_NOT_FOUND, Severity.WARNING),
    ]
    backwards = next(p for p in problems_of(hidden) if p.code is ErrorCode.VERSION_BACKWARDS)
    assert backwards.message == "0.0.1 would go backwards: 0.47.57 exists (on the index)"


def test_a_version_already_on_the_index_collides() -> None:
    found = problems_of(scan("0.23.0", "feat: y", index=("0.23.0", "0.24.0")))
    assert codes(found) == [(ErrorCode.VERSION_COLLISION, Severity.ERROR)]
    assert found[0].message == "omnibase-spi 0.24.0 is already on the index"
    assert found[0].hint is not None and "tag the newest (0.24.0)" in found[0].hint


def test_index_versions_compare_as_versions_not_strings() -> None:
    assert problems_of(scan("0.9.0", "feat: y", index=("0.9.0", "0.10")))[0].message == (
        "omnibase-spi 0.10.0 is already on the index"
    )
    assert problems_of(scan("0.9.0", "feat: y", index=("0.9.0", "0.9.10"))) == []


def test_an_existing_tag_collides() -> None:
    taken = scan("0.23.0", "feat: y", tags=frozenset({"v0.23.0", "v0.24.0"}))
    found = problems_of(taken)
    assert codes(found) == [(ErrorCode.VERSION_COLLISION, Severity.ERROR)]
    assert found[0].message == "tag v0.24.0 already exists"


def test_a_release_at_or_above_the_plan_is_backwards() -> None:
    # A scan whose base is not its highest release (e.g. built from a narrower tag set).
    behind = scan("0.21.0", "feat: y", releases=("0.21.0", "0.22.0", "0.23.0"))
    found = problems_of(behind)
    assert codes(found) == [
        (ErrorCode.VERSION_BACKWARDS, Severity.ERROR),
        (ErrorCode.VERSION_COLLISION, Severity.ERROR),  # v0.22.0 is one of its tags
    ]
    backwards = next(p for p in found if p.code is ErrorCode.VERSION_BACKWARDS)
    assert backwards.message == "0.22.0 would go backwards: 0.23.0 exists (a release tag)"


def test_a_prerelease_is_checked_like_any_version() -> None:
    options = PlanOptions(prerelease=Prerelease.RC)
    rc = scan("1.5.0rc1", "fix: y", index=("1.5.0rc1", "1.5.0rc2"))
    assert plan_of(rc, options).entries[0].new == "1.5.0rc2"
    assert codes(problems_of(rc, options)) == [(ErrorCode.VERSION_COLLISION, Severity.ERROR)]


def test_an_unreachable_index_is_a_warning_not_a_crash() -> None:
    down = dataclasses.replace(scan("0.23.0"), index_error="connection refused")
    found = problems_of(down)
    assert codes(found) == [(ErrorCode.INDEX_ERROR, Severity.WARNING)]
    assert "connection refused" in found[0].message


def test_offline_scans_are_not_checked_against_an_index() -> None:
    assert problems_of(scan("0.23.0", "feat: y", index=None)) == []


VERSIONS = st.builds(
    lambda major, minor, micro: f"{major}.{minor}.{micro}",
    st.integers(0, 3),
    st.integers(0, 30),
    st.integers(0, 30),
)


@given(
    releases=st.lists(VERSIONS, max_size=6),
    static=st.none() | VERSIONS,
    bump=st.none() | st.sampled_from(list(Bump)),
    message=st.sampled_from(["fix: a", "feat: b", "feat!: c", "docs: d"]),
)
def test_a_planned_version_is_above_every_release_and_the_pyproject(
    releases: list[str], static: str | None, bump: Bump | None, message: str
) -> None:
    current = str(max(map(Version, releases))) if releases else "0.0.0"
    found = scan(current, message, releases=tuple(releases), static=static)
    plan = plan_of(found, PlanOptions(bump=bump))
    new = Version(plan.entries[0].new)
    assert all(new > Version(r) for r in releases)
    assert static is None or new > Version(static)
    assert not [p for p in version_problems(plan, {"spi": found}) if p.severity is Severity.ERROR]
