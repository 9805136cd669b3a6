"""The family's dependency graph: derived edges, longest-path tiers, cycles, drift, dependents."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum

from release_train.errors import ErrorCode, ReleaseError


class EdgeKind(StrEnum):
    """Why a repo depends on an upstream: what installing the package pulls in, or not."""

    REQUIRED = "required"  # project.dependencies, Poetry main dependencies
    OPTIONAL = "optional"  # an extra (project.optional-dependencies, Poetry extras)
    GROUP = "group"  # PEP 735, Poetry or uv development groups: never in the wheel's metadata


@dataclass(frozen=True, order=True)
class Edge:
    """`repo` depends on `upstream` through a requirement of `kind` (in extra/group `group`)."""

    repo: str
    upstream: str
    kind: EdgeKind
    group: str | None = None  # the extra or dependency group; None for a required edge

    def describe(self) -> str:
        if self.kind is EdgeKind.REQUIRED:
            return f"{self.repo} -> {self.upstream} (required)"
        label = "extra" if self.kind is EdgeKind.OPTIONAL else "dependency group"
        return f"{self.repo} -> {self.upstream} ({label} {self.group!r})"


@dataclass(frozen=True)
class Graph:
    """`upstreams[repo]` is the set of family repos `repo` depends on directly.

    Those are the *ordering* edges: required ones, and optional/group ones that close no
    cycle. `declared` holds every family edge with its kind; `dropped` the optional/group
    edges left out of the ordering because they would close a cycle.
    """

    upstreams: Mapping[str, frozenset[str]]
    declared: tuple[Edge, ...] = ()
    dropped: tuple[Edge, ...] = ()

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
                ErrorCode.GRAPH_CYCLE,
                f"dependency cycle: {repo} -> {repo}",
                repo=repo,
                hint="a repo cannot depend on itself: fix its pyproject or depends_on",
            )
    cycle = find_cycle(graph)
    if cycle:
        raise ReleaseError(
            ErrorCode.GRAPH_CYCLE,
            "dependency cycle (a -> b: a depends on b): " + " -> ".join(cycle),
            hint="a family must be releasable in some order; break the cycle in the pyprojects",
        )
    return Graph(graph)


def _reaches(upstreams: Mapping[str, set[str]], start: str, goal: str) -> bool:
    """Whether `goal` is among `start`'s upstreams, directly or transitively."""
    seen, todo = {start}, [start]
    while todo:
        for up in upstreams[todo.pop()]:
            if up == goal:
                return True
            if up not in seen:
                seen.add(up)
                todo.append(up)
    return False


def order_graph(repos: Iterable[str], edges: Iterable[Edge]) -> Graph:
    """The ordering graph of `repos`: required edges, plus every other edge closing no cycle.

    A cycle of required edges is `GRAPH_CYCLE`. Real families have "upward" extras (an
    `omnibase_core[spi]` extra naming a package that requires omnibase_core), which pip
    and uv install fine, so such an edge is dropped from the ordering instead. Which edge
    goes is decided deterministically: extras before dependency groups (an extra is in the
    published metadata, a group is not), each in sorted (repo, upstream) order; an edge is
    kept unless its upstream already depends on its repo through the edges kept so far.
    Self-edges (an extra naming its own package, `full = ["pkg[a,b]"]`) order nothing.
    """
    declared = tuple(sorted({e for e in edges if e.repo != e.upstream}))
    required = {r: set[str]() for r in repos}
    for edge in declared:
        if edge.kind is EdgeKind.REQUIRED:
            required[edge.repo].add(edge.upstream)
    graph = build_graph(required)
    upstreams = {r: set(ups) for r, ups in graph.upstreams.items()}
    rank = {EdgeKind.OPTIONAL: 0, EdgeKind.GROUP: 1}
    pairs: dict[tuple[str, str], int] = {}
    for edge in declared:
        if edge.kind is not EdgeKind.REQUIRED and edge.upstream not in upstreams[edge.repo]:
            key = (edge.repo, edge.upstream)
            pairs[key] = min(pairs.get(key, 2), rank[edge.kind])
    refused: set[tuple[str, str]] = set()
    for repo, upstream in sorted(pairs, key=lambda pair: (pairs[pair], pair)):
        if _reaches(upstreams, upstream, repo):
            refused.add((repo, upstream))
        else:
            upstreams[repo].add(upstream)
    dropped = tuple(e for e in declared if (e.repo, e.upstream) in refused)
    ordering = {r: frozenset(ups) for r, ups in upstreams.items()}
    return replace(graph, upstreams=ordering, declared=declared, dropped=dropped)


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
            dropped = [e for e in graph.dropped if (e.repo, e.upstream) == (repo, extra[0])]
            why = (
                f"{dropped[0].describe()} would close a cycle, so it does not order the train"
                if dropped
                else f"{repo}'s pyproject does not depend on it"
            )
            raise ReleaseError(
                ErrorCode.GRAPH_DRIFT,
                f"repos.{repo}.depends_on lists {extra[0]}, but {why}",
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
