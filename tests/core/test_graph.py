from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from release_train.core.graph import (
    Edge,
    EdgeKind,
    build_graph,
    check_depends_on,
    check_tiers,
    find_cycle,
    order_graph,
)
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


# --- edges with kinds (issue 11): required edges order, the others where no cycle closes ---

REQ, OPT, GRP = EdgeKind.REQUIRED, EdgeKind.OPTIONAL, EdgeKind.GROUP


def test_an_upward_extra_that_closes_a_cycle_is_dropped_not_a_cycle() -> None:
    # The real family: spi requires core; core's extras `spi` and `full` name spi.
    edges = [
        Edge("omnibase_spi", "omnibase_core", REQ),
        Edge("omnibase_core", "omnibase_spi", OPT, "spi"),
        Edge("omnibase_core", "omnibase_spi", OPT, "full"),
        Edge("omnibase_infra", "omnibase_spi", REQ),
    ]
    graph = order_graph(["omnibase_core", "omnibase_infra", "omnibase_spi"], edges)
    assert graph.tiers() == {"omnibase_core": 1, "omnibase_spi": 2, "omnibase_infra": 3}
    assert graph.dropped == (
        Edge("omnibase_core", "omnibase_spi", OPT, "full"),
        Edge("omnibase_core", "omnibase_spi", OPT, "spi"),
    )
    assert graph.upstreams["omnibase_core"] == frozenset()
    assert set(graph.declared) == set(edges)


def test_optional_and_group_edges_order_where_they_close_no_cycle() -> None:
    edges = [Edge("b", "a", OPT, "x"), Edge("c", "b", GRP, "dev")]
    graph = order_graph(["a", "b", "c"], edges)
    assert graph.tiers() == {"a": 1, "b": 2, "c": 3}
    assert graph.dropped == ()


def test_a_cycle_of_required_edges_stays_graph_cycle() -> None:
    edges = [Edge("a", "b", REQ), Edge("b", "a", REQ), Edge("c", "a", OPT, "x")]
    with pytest.raises(ReleaseError) as caught:
        order_graph(["a", "b", "c"], edges)
    assert caught.value.code is ErrorCode.GRAPH_CYCLE


def test_which_edge_is_dropped_is_decided_deterministically() -> None:
    # Two extras naming each other: the first in sorted order orders, the other is dropped,
    # whatever order the edges come in.
    edges = [Edge("b", "a", OPT, "x"), Edge("a", "b", OPT, "y")]
    for order in (edges, edges[::-1]):
        graph = order_graph(["b", "a"], order)
        assert graph.upstreams == {"a": frozenset({"b"}), "b": frozenset()}
        assert graph.dropped == (Edge("b", "a", OPT, "x"),)


def test_an_extra_is_kept_before_a_dependency_group() -> None:
    # An extra is in the published metadata; a group is not: the group edge gives way.
    graph = order_graph(["a", "b"], [Edge("a", "b", GRP, "dev"), Edge("b", "a", OPT, "x")])
    assert graph.upstreams == {"a": frozenset(), "b": frozenset({"a"})}
    assert graph.dropped == (Edge("a", "b", GRP, "dev"),)


def test_a_cycle_through_several_repos_drops_only_the_closing_edge() -> None:
    edges = [Edge("b", "a", REQ), Edge("c", "b", REQ), Edge("a", "c", GRP, "test")]
    graph = order_graph(["a", "b", "c"], edges)
    assert graph.dropped == (Edge("a", "c", GRP, "test"),)
    assert graph.order() == ["a", "b", "c"]


def test_a_pair_with_a_required_edge_is_never_dropped() -> None:
    edges = [Edge("b", "a", REQ), Edge("b", "a", OPT, "x")]
    graph = order_graph(["a", "b"], edges)
    assert graph.dropped == ()
    assert graph.upstreams["b"] == frozenset({"a"})


def test_self_edges_order_nothing() -> None:
    # `full = ["pkg[a,b]"]`: an extra naming its own package.
    graph = order_graph(["a"], [Edge("a", "a", OPT, "full")])
    assert graph.upstreams == {"a": frozenset()}
    assert graph.dropped == graph.declared == ()


def test_drift_compares_against_the_ordering_edges() -> None:
    edges = [Edge("spi", "core", REQ), Edge("core", "spi", OPT, "spi")]
    graph = order_graph(["core", "spi"], edges)
    check_depends_on(graph, {"core": [], "spi": ["core"]})
    check_tiers(graph, [["core"], ["spi"]])
    with pytest.raises(ReleaseError) as caught:
        check_depends_on(graph, {"core": ["spi"]})
    assert caught.value.code is ErrorCode.GRAPH_DRIFT
    assert "core -> spi (extra 'spi') would close a cycle" in caught.value.message


def test_edge_describe_names_kind_and_group() -> None:
    assert Edge("a", "b", REQ).describe() == "a -> b (required)"
    assert Edge("a", "b", OPT, "spi").describe() == "a -> b (extra 'spi')"
    assert Edge("a", "b", GRP, "dev").describe() == "a -> b (dependency group 'dev')"


NAMES = ["a", "b", "c", "d", "e"]


@st.composite
def families(draw: st.DrawFn) -> tuple[list[str], list[Edge]]:
    """Random edges; required ones only "downhill" (to an earlier name), so never a cycle."""
    edges = []
    for i, repo in enumerate(NAMES):
        for up in NAMES:
            kind = draw(
                st.sampled_from([None, REQ, OPT, GRP])
                if NAMES.index(up) < i
                else st.sampled_from([None, OPT, GRP])
            )
            if kind is not None and up != repo:
                edges.append(
                    Edge(repo, up, kind, None if kind is REQ else draw(st.sampled_from(["x", "y"])))
                )
    return NAMES, edges


@given(families())
@settings(max_examples=200, deadline=None)
def test_ordering_keeps_required_edges_is_acyclic_and_drops_only_cycle_closers(
    family: tuple[list[str], list[Edge]],
) -> None:
    repos, edges = family
    graph = order_graph(repos, edges)
    assert find_cycle(graph.upstreams) is None
    for edge in edges:
        kept = edge.upstream in graph.upstreams[edge.repo]
        assert kept != (edge in graph.dropped)
        if edge.kind is REQ:
            assert kept
        if not kept:
            # Maximal: putting it back would close a cycle with the edges kept.
            back = {r: set(ups) for r, ups in graph.upstreams.items()}
            back[edge.repo].add(edge.upstream)
            assert find_cycle(back) is not None
    assert order_graph(repos, edges[::-1]) == graph
