from __future__ import annotations

import pytest

from release_train.core.graph import build_graph, check_depends_on, check_tiers, find_cycle
from release_train.errors import ErrorCode, ReleaseError

# The specification's DEPENDENCY_MAP (downstream -> upstream).
SPEC_DEPENDENCY_MAP = {
    "omnibase_spi": [],
    "omnibase_core": ["omnibase_spi"],
    "omnibase_infra": ["omnibase_core", "omnibase_spi"],
    "omniintelligence": ["omnibase_core", "omnibase_spi"],
    "omnimemory": ["omnibase_core", "omnibase_spi"],
    "omniclaude": ["omnibase_core", "omnibase_infra", "omniintelligence"],
}
SPEC_TIERS = [
    ["omnibase_spi"],
    ["omnibase_core"],
    ["omnibase_infra", "omniintelligence", "omnimemory"],
    ["omniclaude"],
]


def test_spec_tiers_fall_out_of_the_dependency_map() -> None:
    graph = build_graph(SPEC_DEPENDENCY_MAP)
    tiers = graph.tiers()
    assert [sorted(r for r in tiers if tiers[r] == n) for n in (1, 2, 3, 4)] == SPEC_TIERS
    assert graph.order() == [
        "omnibase_spi",
        "omnibase_core",
        "omnibase_infra",
        "omniintelligence",
        "omnimemory",
        "omniclaude",
    ]


def test_dependents_are_transitive() -> None:
    graph = build_graph(SPEC_DEPENDENCY_MAP)
    assert graph.dependents("omnibase_infra") == {"omniclaude"}
    assert graph.dependents("omnibase_spi") == set(SPEC_DEPENDENCY_MAP) - {"omnibase_spi"}
    assert graph.dependents("omniclaude") == set()


def test_cycle_is_named() -> None:
    with pytest.raises(ReleaseError) as err:
        build_graph({"a": ["b"], "b": ["c"], "c": ["a"], "d": []})
    assert err.value.code is ErrorCode.GRAPH_CYCLE
    assert "a -> b -> c -> a" in err.value.message


def test_self_dependency_is_a_cycle() -> None:
    with pytest.raises(ReleaseError) as err:
        build_graph({"a": ["a"]})
    assert err.value.code is ErrorCode.GRAPH_CYCLE


def test_find_cycle_none_on_a_dag() -> None:
    assert find_cycle(SPEC_DEPENDENCY_MAP) is None


def test_defect10_declared_edge_missing_from_pyprojects_is_drift() -> None:
    # The original only checked "repos found but not in the graph"; a stale declared edge
    # (the other direction) went unnoticed.
    graph = build_graph({"a": [], "b": []})
    with pytest.raises(ReleaseError) as err:
        check_depends_on(graph, {"b": ["a"]})
    assert err.value.code is ErrorCode.GRAPH_DRIFT
    assert (
        err.value.message == "repos.b.depends_on lists a, but b's pyproject does not depend on it"
    )


def test_defect10_pyproject_edge_missing_from_config_is_drift() -> None:
    graph = build_graph({"a": [], "b": ["a"]})
    with pytest.raises(ReleaseError) as err:
        check_depends_on(graph, {"b": []})
    assert err.value.code is ErrorCode.GRAPH_DRIFT
    assert (
        err.value.message
        == "b depends on a in its pyproject, but repos.b.depends_on does not list it"
    )


def test_matching_depends_on_passes() -> None:
    graph = build_graph(SPEC_DEPENDENCY_MAP)
    check_depends_on(graph, SPEC_DEPENDENCY_MAP)


def test_spec_tiers_pass_the_tier_check() -> None:
    check_tiers(build_graph(SPEC_DEPENDENCY_MAP), SPEC_TIERS)


def test_tiers_that_break_an_edge_name_it() -> None:
    tiers = [
        ["omnibase_spi", "omnibase_core"],
        ["omnibase_infra", "omniintelligence", "omnimemory"],
        ["omniclaude"],
    ]
    with pytest.raises(ReleaseError) as err:
        check_tiers(build_graph(SPEC_DEPENDENCY_MAP), tiers)
    assert err.value.code is ErrorCode.GRAPH_DRIFT
    assert "omnibase_core depends on omnibase_spi" in err.value.message


def test_tiers_deeper_than_derived_are_drift() -> None:
    graph = build_graph({"a": [], "b": []})
    with pytest.raises(ReleaseError) as err:
        check_tiers(graph, [["a"], ["b"]])
    assert err.value.message == (
        "b is configured in tier 2 but belongs in tier 1 (it has no family upstreams)"
    )


def test_repo_missing_from_tiers_is_drift() -> None:
    with pytest.raises(ReleaseError) as err:
        check_tiers(build_graph({"a": [], "b": []}), [["a"]])
    assert err.value.message == "b is in the family but in none of the configured tiers"
