"""The benchmark's synthetic family: 50 repos that the planner reads as 6 tiers."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from release_train.adapters import workspace as ws
from release_train.config import load_config
from release_train.core.declared import read_declared
from release_train.core.graph import Graph, order_graph
from release_train.planning import family_graph
from release_train.sandbox.family import config_text, pyproject_text
from release_train.sandbox.synthetic import build_synthetic_family, synthetic_specs, tier_sizes


def assert_50_in_6_tiers(graph: Graph) -> None:
    assert len(graph.repos) == 50
    tiers = graph.tiers()
    assert sorted(Counter(tiers.values()).items()) == list(enumerate(tier_sizes(), start=1))
    assert tier_sizes() == [8, 8, 8, 8, 9, 9]
    assert {repo: tiers[repo] for repo in ("syn1_00", "syn6_08")} == {"syn1_00": 1, "syn6_08": 6}


def test_the_synthetic_pyprojects_give_50_repos_in_6_tiers() -> None:
    """The planner's own edges and layering, from the pyprojects the builder writes."""
    manifests = {
        s.name: ws.Manifest(
            s.name, Path(s.name), s.package, frozenset(), declared=read_declared(pyproject_text(s))
        )
        for s in synthetic_specs()
    }

    assert_50_in_6_tiers(order_graph(manifests, ws.family_edges(manifests)))


@pytest.mark.slow
def test_the_built_synthetic_family_plans_as_50_repos_in_6_tiers(tmp_path: Path) -> None:
    workspace = tmp_path / "family"
    built = build_synthetic_family(workspace)
    (tmp_path / "release-train.toml").write_text(config_text(synthetic_specs()), encoding="utf-8")
    config, _ = load_config(tmp_path / "release-train.toml")

    graph = family_graph(config, workspace, ws.read_manifests(config, workspace))

    assert len(built) == 50
    assert_50_in_6_tiers(graph)
