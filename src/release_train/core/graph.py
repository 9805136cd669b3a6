"""The family's dependency graph: derived edges, longest-path tiers, cycles, drift, dependents."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from release_train.errors import ErrorCode, ReleaseError


@dataclass(frozen=True)
class Graph:
    """`upstreams[repo]` is the set of family repos `repo` depends on directly."""

    upstreams: Mapping[str, frozenset[str]]

    @property
    def repos(self) -> list[str]:
        return sorted(self.upstreams)

    def downstreams(self, repo: str) -> list[str]:
        return sorted(r for r, ups in self.upstreams.items() if repo in ups)

    def dependents(self, repo: str) -> set[str]:
        """Every repo that depends on `repo`, directly or transitively."""
        found: set[str] = set()
        todo = [repo]
        while todo:
            for down in self.downstreams(todo.pop()):
                if down not in found:
                    found.add(down)
                    todo.append(down)
        return found

    def tiers(self) -> dict[str, int]:
        """Longest-path layering: a repo's tier is one more than its deepest upstream's."""
        tier: dict[str, int] = {}

        def depth(repo: str) -> int:
            if repo not in tier:
                tier[repo] = 1 + max((depth(up) for up in self.upstreams[repo]), default=0)
            return tier[repo]

        for repo in self.repos:
            depth(repo)
        return tier

    def order(self) -> list[str]:
        """Release order: by tier, then by name (the specification's plan order)."""
        tiers = self.tiers()
        return sorted(self.upstreams, key=lambda r: (tiers[r], r))

    def edges(self) -> list[tuple[str, str]]:
        """(upstream, downstream) pairs, sorted."""
        return sorted((up, down) for down, ups in self.upstreams.items() for up in ups)


def find_cycle(upstreams: Mapping[str, Iterable[str]]) -> list[str] | None:
    """A dependency cycle as a path `[a, b, ..., a]`, or None."""
    graph = {repo: sorted(ups) for repo, ups in upstreams.items()}
    state: dict[str, int] = {}  # 1: on the current path, 2: finished
    path: list[str] = []

    def visit(repo: str) -> list[str] | None:
        state[repo] = 1
        path.append(repo)
        for up in graph.get(repo, []):
            if state.get(up) == 1:
                return [*path[path.index(up) :], up]
            if up not in state and (cycle := visit(up)):
                return cycle
        path.pop()
        state[repo] = 2
        return None

    for repo in sorted(graph):
        if repo not in state and (cycle := visit(repo)):
            return cycle
    return None


def build_graph(upstreams: Mapping[str, Iterable[str]]) -> Graph:
    """A graph over exactly the keys of `upstreams`; `GRAPH_CYCLE` names a cycle if any."""
    graph = {repo: frozenset(ups) - {repo} for repo, ups in upstreams.items()}
    for repo, ups in upstreams.items():
        if repo in set(ups):
            raise ReleaseError(
                ErrorCode.GRAPH_CYCLE, f"dependency cycle: {repo} -> {repo}", repo=repo
            )
    cycle = find_cycle(graph)
    if cycle:
        raise ReleaseError(
            ErrorCode.GRAPH_CYCLE,
            "dependency cycle (a -> b: a depends on b): " + " -> ".join(cycle),
            hint="a family must be releasable in some order; break the cycle in the pyprojects",
        )
    return Graph(graph)


def check_depends_on(graph: Graph, declared: Mapping[str, Iterable[str]]) -> None:
    """`GRAPH_DRIFT` when a configured `depends_on` and the pyprojects disagree on an edge."""
    for repo in sorted(declared):
        want, have = set(declared[repo]), set(graph.upstreams[repo])
        if missing := sorted(have - want):
            raise ReleaseError(
                ErrorCode.GRAPH_DRIFT,
                f"{repo} depends on {missing[0]} in its pyproject, "
                f"but repos.{repo}.depends_on does not list it",
                repo=repo,
                hint=f"add {missing[0]!r} to repos.{repo}.depends_on (or drop depends_on)",
            )
        if extra := sorted(want - have):
            raise ReleaseError(
                ErrorCode.GRAPH_DRIFT,
                f"repos.{repo}.depends_on lists {extra[0]}, "
                f"but {repo}'s pyproject does not depend on it",
                repo=repo,
                hint=f"remove {extra[0]!r} from repos.{repo}.depends_on (or add the dependency)",
            )


def check_tiers(graph: Graph, declared: Sequence[Sequence[str]]) -> None:
    """`GRAPH_DRIFT` when configured tiers differ from the derived longest-path tiers."""
    derived = graph.tiers()
    configured = {repo: n for n, tier in enumerate(declared, start=1) for repo in tier}
    for repo in graph.repos:
        if repo not in configured:
            raise ReleaseError(
                ErrorCode.GRAPH_DRIFT,
                f"{repo} is in the family but in none of the configured tiers",
                repo=repo,
                hint=f"add it to tier {derived[repo]}",
            )
    for up, down in graph.edges():
        if configured[up] >= configured[down]:
            raise ReleaseError(
                ErrorCode.GRAPH_DRIFT,
                f"{down} depends on {up}, but the configured tiers put {down} in tier "
                f"{configured[down]} and {up} in tier {configured[up]}",
                repo=down,
                hint=f"the derived tiers put {up} in {derived[up]} and {down} in {derived[down]}",
            )
    for repo in graph.repos:
        if configured[repo] != derived[repo]:
            ups = sorted(graph.upstreams[repo])
            why = f"its upstreams are {', '.join(ups)}" if ups else "it has no family upstreams"
            raise ReleaseError(
                ErrorCode.GRAPH_DRIFT,
                f"{repo} is configured in tier {configured[repo]} but belongs in tier "
                f"{derived[repo]} ({why})",
                repo=repo,
                hint="update `tiers` in the config, or drop it: tiers are derived",
            )
