from __future__ import annotations

import hashlib
import json
import re
from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from release_train.core.commits import parse_commit
from release_train.core.graph import build_graph
from release_train.core.plan import (
    PlanOptions,
    RepoScan,
    compute_plan_hash,
    make_plan,
    make_run_id,
)
from release_train.core.versions import Bump

GRAPH = build_graph({"spi": [], "core": ["spi"], "infra": ["core"], "claude": ["infra"]})


def scan(repo: str, current: str, *messages: str) -> RepoScan:
    commits = tuple(parse_commit(m, f"{i:040x}") for i, m in enumerate(messages, start=1))
    return RepoScan(repo, repo, current, f"{repo}/v{current}", "f" * 40, commits)


def spec_compute_plan_hash(plan: list[dict[str, object]]) -> str:
    """Verbatim from the specification (Step 2.1)."""
    plan_json = json.dumps(plan, sort_keys=True, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(plan_json.encode()).hexdigest()[:12]


SCANS = {
    "spi": scan("spi", "1.2.0", "fix: a", "docs: b"),
    "core": scan("core", "1.4.0", "feat: c"),
    "infra": scan("infra", "2.0.0"),
    "claude": scan("claude", "0.3.0"),
}


def test_plan_in_release_order_with_reasons() -> None:
    plan = make_plan(SCANS, GRAPH, ["spi", "core", "infra", "claude"], PlanOptions(), "r")
    assert [(e.repo, e.tier, e.current, e.new, e.bump, e.commits) for e in plan.entries] == [
        ("spi", 1, "1.2.0", "1.2.1", Bump.PATCH, 2),
        ("core", 2, "1.4.0", "1.5.0", Bump.MINOR, 1),
        ("infra", 3, "2.0.0", "2.0.1", Bump.PATCH, 0),
        ("claude", 4, "0.3.0", "0.3.1", Bump.PATCH, 0),
    ]
    core = plan.entry("core")
    assert core is not None and core.drivers == ("0000000 feat: c",)
    infra = plan.entry("infra")
    assert infra is not None and infra.cascade_from == ("core",)
    assert "cascade" in infra.reason
    claude = plan.entry("claude")
    assert claude is not None and claude.cascade_from == ("infra",)


def test_without_cascade_repos_without_commits_are_skipped() -> None:
    plan = make_plan(SCANS, GRAPH, list(SCANS), PlanOptions(cascade=False), "r")
    assert [e.repo for e in plan.entries] == ["spi", "core"]
    assert [(s.repo, s.reason) for s in plan.skipped] == [
        ("infra", "NOTHING_TO_RELEASE"),
        ("claude", "NOTHING_TO_RELEASE"),
    ]


def test_cascade_stays_inside_the_selection() -> None:
    plan = make_plan(SCANS, GRAPH, ["core", "claude"], PlanOptions(), "r")
    # claude's upstream infra is not in this run, so nothing cascades to claude.
    assert [e.repo for e in plan.entries] == ["core"]
    assert [s.repo for s in plan.skipped] == ["claude"]


def test_release_commits_are_not_changes() -> None:
    scans = {**SCANS, "spi": scan("spi", "1.2.1", "release: spi v1.2.1")}
    plan = make_plan(scans, GRAPH, ["spi"], PlanOptions(), "r")
    assert plan.entries == ()
    assert [s.repo for s in plan.skipped] == ["spi"]


def test_bump_override_applies_and_says_so() -> None:
    plan = make_plan(SCANS, GRAPH, ["spi", "core"], PlanOptions(bump=Bump.MINOR), "r")
    assert [(e.repo, e.new, e.bump) for e in plan.entries] == [
        ("spi", "1.3.0", Bump.MINOR),
        ("core", "1.5.0", Bump.MINOR),
    ]
    spi = plan.entry("spi")
    assert spi is not None and spi.reason.startswith("--bump minor (inferred patch")


def test_zero_major_breaking_bumps_minor() -> None:
    scans = {**SCANS, "claude": scan("claude", "0.3.0", "feat!: drop py3.10")}
    plan = make_plan(scans, GRAPH, ["claude"], PlanOptions(), "r")
    assert [(e.new, e.bump) for e in plan.entries] == [("0.4.0", Bump.MAJOR)]
    plan = make_plan(scans, GRAPH, ["claude"], PlanOptions(zero_major=False), "r")
    assert [e.new for e in plan.entries] == ["1.0.0"]


def test_plan_hash_is_exactly_the_specifications() -> None:
    plan = make_plan(SCANS, GRAPH, list(SCANS), PlanOptions(), "r")
    expected = spec_compute_plan_hash([e.hash_fields() for e in plan.entries])
    assert plan.plan_hash == expected == compute_plan_hash(plan.entries)
    assert re.fullmatch(r"sha256:[0-9a-f]{12}", plan.plan_hash)
    assert plan.entries[0].hash_fields() == {
        "repo": "spi",
        "tier": 1,
        "current": "1.2.0",
        "new": "1.2.1",
        "bump": "patch",
        "commits": 2,
    }


def test_plan_is_deterministic_whatever_the_selection_order() -> None:
    one = make_plan(SCANS, GRAPH, ["claude", "spi", "core"], PlanOptions(), "r")
    two = make_plan(SCANS, GRAPH, ["core", "claude", "spi"], PlanOptions(), "r")
    assert one == two


def test_run_id_format_and_stability() -> None:
    run_id = make_run_id(["b", "a"], date(2026, 2, 25))
    assert re.fullmatch(r"release-20260225-[0-9a-f]{6}", run_id)
    digest = hashlib.sha256(b"a,b20260225").hexdigest()[:6]
    assert run_id == f"release-20260225-{digest}"
    assert run_id == make_run_id(["a", "b"], date(2026, 2, 25))
    assert run_id != make_run_id(["a", "b"], date(2026, 2, 26))
    assert run_id != make_run_id(["a"], date(2026, 2, 25))


@given(st.lists(st.sampled_from(["spi", "core", "infra", "claude"]), unique=True, min_size=1))
def test_every_selection_plans_each_selected_repo_exactly_once(selected: list[str]) -> None:
    plan = make_plan(SCANS, GRAPH, selected, PlanOptions(), "r")
    planned = [e.repo for e in plan.entries] + [s.repo for s in plan.skipped]
    assert sorted(planned) == sorted(selected)
    tiers = [e.tier for e in plan.entries]
    assert tiers == sorted(tiers)
