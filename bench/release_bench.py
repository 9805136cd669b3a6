"""Benchmark: release the six-repo sandbox family with simulated CI time C and index delay D.

For `--max-parallel` 1 and 3, each in a fresh in-process sandbox, it runs the release through
the CLI (so the wall time is a user's) and prints the wall time against the critical path of
the dependency graph and the serial sum, their ratios, the speedup, and the GitHub API
requests per repo from the sandbox's request log (writes, reads, polls; git separately)
against GitHub's limits. `--synthetic` releases a synthetic 50-repo, 6-tier family once at
`--max-parallel` 8 instead (see `synthetic`). It never asserts a time. Usage:

    python bench/release_bench.py [--ci 2] [--delay 2] [--repeat 1] [--keep DIR]
    python bench/release_bench.py --synthetic [--repos 50] [--tiers 6] [--ci 2] [--delay 2]
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import statistics
import sys
import tempfile
import textwrap
import time
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from graphlib import TopologicalSorter
from pathlib import Path
from typing import Any

from release_train.adapters import command
from release_train.adapters.store import local_store
from release_train.core.state import PHASES, RunState
from release_train.errors import ReleaseError
from release_train.runs import load_run
from release_train.sandbox.control import Sandbox
from release_train.sandbox.family import Hook, config_text
from release_train.sandbox.synthetic import build_synthetic_family, synthetic_specs

PARALLELISM = (1, 3)
RUN_ID = "bench-release"
CONFIG_FILE = "release-train.toml"
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# The GETs the engine repeats while it waits: CI (both APIs) and mergeability during MERGE,
# the publish workflow run during PUBLISH. Every GET to them counts, the first look included.
POLL_PATHS = re.compile(
    r"^/commits/[^/]+/(check-runs|status|statuses)$"
    r"|^/pulls/\d+$"
    r"|^/actions/runs(/\d+)?$"
    r"|^/actions/workflows/[^/]+/runs$"
)
API_REPO = re.compile(r"^/api/v3/repos/[^/]+/(?P<repo>[^/]+)(?P<rest>/.*)?$")
GIT_REPO = re.compile(r"^/[^/]+/(?P<repo>[^/]+?)(?:\.git)?/.*$")
UNATTRIBUTED = "(no repo)"
# GitHub's documented limits that a release train runs into first.
TOKEN_LIMIT_PER_HOUR = 1000  # GITHUB_TOKEN, per repository
WRITES_PER_MINUTE = 80  # secondary limit on content-creating requests
WRITES_PER_HOUR = 500
APP_LIMIT_PER_HOUR = 5000  # a GitHub App installation token (at least; more with repos/users)
SYNTHETIC_PARALLEL = 8
# Content-creating API writes by what they make (GitHub's secondary limit counts these).
WRITE_KINDS = (
    ("pull request", re.compile(r"^POST /pulls$")),
    ("merge", re.compile(r"^PUT /pulls/\d+/merge$")),
    ("branch deleted", re.compile(r"^DELETE /git/refs/heads/.*$")),
    ("tag or ref", re.compile(r"^(POST|PATCH|DELETE) /git/(refs|tags)(/.*)?$")),
    ("release", re.compile(r"^(POST|PATCH) /releases(/.*)?$")),
    ("comment", re.compile(r"^POST /issues/\d+/comments$")),
    ("dispatch", re.compile(r"^POST /actions/workflows/[^/]+/dispatches$")),
    ("state file", re.compile(r"^PUT /contents/.*$")),
)


@dataclass(frozen=True)
class Measurement:
    """One release run: its wall time, its final state and the stand-in's request log."""

    parallel: int
    wall: float
    state: RunState
    requests: list[dict[str, Any]]

    @property
    def span(self) -> float:
        """From the state's creation (plan and clones done) to the last repo's DONE."""
        return (last_done(self.state) - self.state.started_at).total_seconds()

    @property
    def run_overhead(self) -> float:
        """Process start, plan, clones, gate and summary: what no repo's work accounts for."""
        return self.wall - self.span


def last_done(state: RunState) -> datetime:
    return max(repo.phase_history[-1].at for repo in state.repos.values())


def plan_edges(config: Path, env: dict[str, str]) -> tuple[list[str], list[tuple[str, str]]]:
    """(repos, upstream -> dependent edges) from `release-train plan --format json`."""
    argv = [sys.executable, "-m", "release_train", "plan", "--all", "--format", "json"]
    out = command.run([*argv, "--config", str(config)], env=env, cwd=config.parent).stdout
    plan = json.loads(out)
    repos = sorted(entry["repo"] for entry in plan["entries"])
    edges = sorted((str(a), str(b)) for a, b in plan["edges"])
    return repos, edges


def release(world: Sandbox, parallel: int, ci: float, delay: float) -> Measurement:
    """Set CI time and index delay, clear the log, and release the family through the CLI."""
    admin = world.github.admin()
    for repo in sorted(world.repos):
        admin.set_ci(repo, duration=ci)
    admin.set_publish_delay(delay)
    admin.clear_requests()
    config = world.root / CONFIG_FILE
    argv = [sys.executable, "-m", "release_train", "release", "--all", "--yes"]
    argv += ["--config", str(config), "--run-id", RUN_ID, "--max-parallel", str(parallel)]
    start = time.perf_counter()
    command.run(argv, env=world.env, cwd=world.root, timeout=3600.0)
    wall = time.perf_counter() - start
    requests = admin.requests()
    state, _, _ = load_run(local_store(world.root / "state"), RUN_ID)
    return Measurement(parallel, wall, state, requests)


def measure(
    root: Path, parallel: int, ci: float, delay: float
) -> tuple[Measurement, tuple[list[str], list[tuple[str, str]]]]:
    """One fresh sandbox: plan (as a user would first), then one release."""
    started = time.perf_counter()
    world = Sandbox.start(root)
    try:
        print(f"  sandbox for N={parallel} up in {time.perf_counter() - started:.1f} s", flush=True)
        (world.root / CONFIG_FILE).write_text(world.config_text(), encoding="utf-8")
        # Planned in every world alike: the plan's clones are reused by the release, so
        # skipping it in one world would change that world's git request count.
        graph = plan_edges(world.root / CONFIG_FILE, world.env)
        found = release(world, parallel, ci, delay)
        (root / "requests.json").write_text(json.dumps(found.requests, indent=1) + "\n")
    finally:
        world.stop()
    print(f"  release N={parallel}: {found.wall:.1f} s", flush=True)
    return found, graph


def longest_path(
    repos: list[str], edges: list[tuple[str, str]], weight: dict[str, float]
) -> tuple[float, list[str]]:
    """Length and repos of the heaviest dependency chain (node weights)."""
    upstreams: dict[str, set[str]] = {repo: set() for repo in repos}
    for upstream, dependent in edges:
        upstreams[dependent].add(upstream)
    best: dict[str, tuple[float, list[str]]] = {}
    for repo in TopologicalSorter(upstreams).static_order():
        # Sorted so that equal-weight chains resolve the same way on every run.
        before = max(
            (best[u] for u in sorted(upstreams[repo])), key=lambda b: b[0], default=(0.0, [])
        )
        best[repo] = (before[0] + weight[repo], [*before[1], repo])
    return max((best[r] for r in sorted(best)), key=lambda b: b[0])


def phase_means(state: RunState) -> dict[str, float]:
    """Mean seconds per phase of a strict (N=1) run, whose marks form one timeline."""
    marks = sorted(
        (mark.at, mark.phase)
        for repo in state.repos.values()
        for mark in repo.phase_history
        if mark.phase in PHASES and mark.phase != "PLANNED"
    )
    durations: dict[str, list[float]] = {}
    previous = state.started_at
    for at, phase in marks:
        durations.setdefault(phase, []).append((at - previous).total_seconds())
        previous = at
    return {p: statistics.mean(durations[p]) for p in PHASES if p in durations}


def classify(entry: dict[str, Any]) -> tuple[str, str]:
    """(repo, kind) of one logged request; kind is write, read, poll or git."""
    path = str(entry["path"])
    if entry["kind"] == "git":
        match = GIT_REPO.match(path)
        return (match["repo"] if match else UNATTRIBUTED), "git"
    match = API_REPO.match(path)
    repo = match["repo"] if match else UNATTRIBUTED
    rest = (match["rest"] or "") if match else ""
    if entry["method"] in WRITE_METHODS:
        return repo, "write"
    return repo, "poll" if POLL_PATHS.match(rest) else "read"


def tally(requests: list[dict[str, Any]]) -> dict[str, Counter[str]]:
    counts: dict[str, Counter[str]] = {}
    for entry in requests:
        repo, kind = classify(entry)
        counts.setdefault(repo, Counter())[kind] += 1
    return counts


def peak_per_minute(times: list[float]) -> int:
    """Most events inside any 60-second window."""
    ordered, peak, first = sorted(times), 0, 0
    for last, at in enumerate(ordered):
        while at - ordered[first] > 60.0:
            first += 1
        peak = max(peak, last - first + 1)
    return peak


def print_timing(
    runs: dict[int, list[Measurement]],
    graph: tuple[list[str], list[tuple[str, str]]],
    ci: float,
    delay: float,
) -> None:
    repos, edges = graph
    strict = runs[1]
    per_repo = statistics.median(m.span / len(m.state.repos) for m in strict)
    overhead = per_repo - (ci + delay)
    weight = dict.fromkeys(repos, per_repo)
    critical, chain = longest_path(repos, edges, weight)
    bare, _ = longest_path(repos, edges, dict.fromkeys(repos, ci + delay))
    serial = per_repo * len(repos)
    print(f"\ncritical path: {' -> '.join(chain)} ({len(chain)} of {len(repos)} repos)")
    print(
        f"per-repo cost w = C + D + overhead = {ci:g} + {delay:g} + {overhead:.1f}"
        f" = {per_repo:.1f} s\n  (overhead: mean per-repo time of the N=1 run minus C+D)"
    )
    print(f"critical path of C+D alone: {bare:.1f} s\n")
    walls = {n: statistics.median(m.wall for m in runs[n]) for n in PARALLELISM}
    spans = {n: statistics.median(m.span for m in runs[n]) for n in PARALLELISM}
    fixed = {n: statistics.median(m.run_overhead for m in runs[n]) for n in PARALLELISM}
    rows = [
        ("wall time (s)", walls, ".1f"),
        ("  run overhead: start, plan, clones", fixed, ".1f"),
        ("  release span: state -> last DONE", spans, ".1f"),
        (f"critical path {len(chain)} w (s)", dict.fromkeys(PARALLELISM, critical), ".1f"),
        (f"serial sum {len(repos)} w (s)", dict.fromkeys(PARALLELISM, serial), ".1f"),
        ("wall / critical", {n: walls[n] / critical for n in PARALLELISM}, ".2f"),
        ("wall / serial", {n: walls[n] / serial for n in PARALLELISM}, ".2f"),
        ("span / critical", {n: spans[n] / critical for n in PARALLELISM}, ".2f"),
    ]
    print(f"{'':38}" + "".join(f"{f'N={n}':>10}" for n in PARALLELISM))
    for label, values, spec in rows:
        print(f"{label:38}" + "".join(f"{values[n]:>10{spec}}" for n in PARALLELISM))
    speedup = walls[1] / walls[3]
    print(f"\nspeedup N=3 vs N=1: {speedup:.2f} (wall); {spans[1] / spans[3]:.2f} (span);")
    print(f"ideal (serial / critical path): {serial / critical:.2f}")
    print_steps(strict[0].state, ci, delay)


def print_steps(strict: RunState, ci: float, delay: float) -> None:
    """Where a repo's time goes: the waits against the C and D they wait for."""
    notes = {"MERGED": f" (C={ci:g})", "PUBLISHED": f" (D={delay:g})"}
    means = phase_means(strict)
    text = "  ".join(f"{p} {s:.1f}{notes.get(p, '')}" for p, s in means.items())
    print(textwrap.fill(f"mean s per step, N=1: {text}", width=96, subsequent_indent="  "))


def api_count(row: Counter[str]) -> int:
    return row["write"] + row["read"] + row["poll"]


def table_row(label: str, row: Counter[str]) -> str:
    cells = [row["write"], row["read"], row["poll"], api_count(row), row["git"]]
    return f"{label:20}" + "".join(f"{cell:>8}" for cell in cells)


def print_requests(found: Measurement) -> None:
    counts = tally(found.requests)
    legend = "polls: CI, merge and publish-run GETs; git: smart HTTP"
    print(f"\nGitHub requests, N={found.parallel} ({legend})")
    print(f"{'repo':20}{'writes':>8}{'reads':>8}{'polls':>8}{'api':>8}{'git':>8}")
    total: Counter[str] = Counter()
    for repo in sorted(counts):
        total.update(counts[repo])
        print(table_row(repo, counts[repo]))
    print(table_row("total", total))
    api_total = api_count(total)
    attributed = [c for r, c in counts.items() if r != UNATTRIBUTED]
    most = max((api_count(c) for c in attributed), default=0)
    hourly = api_total * 3600.0 / found.wall
    writes = [float(e["time"]) for e in found.requests if classify(e)[1] == "write"]
    print(
        f"limits: busiest repo {most} API requests = {100 * most / TOKEN_LIMIT_PER_HOUR:.1f}%"
        f" of {TOKEN_LIMIT_PER_HOUR:,}/h; whole run {api_total}"
        f" = {100 * api_total / TOKEN_LIMIT_PER_HOUR:.1f}% (one token);"
        f" sustained back to back: {hourly:,.0f}/h"
    )
    print(
        f"        writes: peak {peak_per_minute(writes)} in any 60 s vs ~{WRITES_PER_MINUTE}/min;"
        f" {len(writes)} in the run vs {WRITES_PER_HOUR}/h"
    )


# -- the synthetic family: 50 repos in 6 tiers at max_parallel 8 ----------------------------


def write_kind(entry: dict[str, Any]) -> str:
    match = API_REPO.match(str(entry["path"]))
    call = f"{entry['method']} {(match['rest'] or '') if match else entry['path']}"
    return next((kind for kind, pattern in WRITE_KINDS if pattern.match(call)), "other")


def repo_seconds(state: RunState) -> dict[str, float]:
    """Each repo's own time: its first step after PLANNED to its last mark (DONE when done)."""
    found = {}
    for name, repo in state.repos.items():
        marks = [m.at for m in repo.phase_history if m.phase != "PLANNED"]
        found[name] = (marks[-1] - marks[0]).total_seconds() if len(marks) > 1 else 0.0
    return found


def synthetic(root: Path, repos: int, tiers: int, ci: float, delay: float) -> int:
    """Seed the synthetic family, time its plan, release it once at SYNTHETIC_PARALLEL."""

    def family(
        dest: Path, *, before_tag: Hook | None = None, after_tag: Hook | None = None
    ) -> list[Path]:
        return build_synthetic_family(
            dest, before_tag=before_tag, after_tag=after_tag, repos=repos, tiers=tiers
        )

    started = time.perf_counter()
    world = Sandbox.start(root / "synthetic", family=family)
    try:
        print(
            f"  sandbox with {len(world.repos)} repos up in {time.perf_counter() - started:.1f} s"
        )
        config = world.root / CONFIG_FILE
        specs = synthetic_specs(repos, tiers)
        config.write_text(config_text(specs, owner=world.owner, index_url=world.cdn.simple_url))
        began = time.perf_counter()
        graph = plan_edges(config, world.env)
        plan_time = time.perf_counter() - began
        found = release(world, SYNTHETIC_PARALLEL, ci, delay)
        (root / "requests.json").write_text(json.dumps(found.requests, indent=1) + "\n")
    finally:
        world.stop()
    print_synthetic(found, graph, plan_time, ci, delay)
    return 0


def print_synthetic(
    found: Measurement,
    graph: tuple[list[str], list[tuple[str, str]]],
    plan_time: float,
    ci: float,
    delay: float,
) -> None:
    repos, edges = graph
    state, n = found.state, found.parallel
    done = sum(1 for r in state.repos.values() if r.status == "done")
    weight = repo_seconds(state)
    critical, chain = longest_path(repos, edges, weight)
    serial = sum(weight.values())
    bound = max(critical, serial / n)
    print(f"\nsynthetic family: {len(repos)} repos, {len(edges)} edges, {len(chain)} tiers deep;")
    print(f"released {done}/{len(state.repos)} at max_parallel {n}, CI {ci:g} s, delay {delay:g} s")
    rows = [
        ("plan (CLI, --format json)", plan_time),
        ("release wall time", found.wall),
        ("  run overhead: start, plan, clones", found.run_overhead),
        ("  release span: state -> last DONE", found.span),
        ("mean repo time (first step -> DONE)", serial / len(weight)),
        (f"critical path, {len(chain)} repos", critical),
        ("serial sum", serial),
        (f"lower bound max(critical, serial/{n})", bound),
    ]
    for label, seconds in rows:
        print(f"  {label:40}{seconds:>9.1f} s")
    print(
        f"  wall / critical {found.wall / critical:.2f}; "
        f"span / critical {found.span / critical:.2f}; "
        f"span / lower bound {found.span / bound:.2f}; "
        f"serial / span {serial / found.span:.2f} (repos at once, mean)"
    )
    print(f"  critical path: {' -> '.join(chain)}")
    print_synthetic_requests(found)


def print_synthetic_requests(found: Measurement) -> None:
    counts = tally(found.requests)
    per_repo = {r: c for r, c in counts.items() if r != UNATTRIBUTED}
    api = [api_count(c) for c in per_repo.values()]
    total: Counter[str] = Counter()
    for row in counts.values():
        total.update(row)
    api_total = api_count(total)
    busiest = sorted(per_repo, key=lambda r: (-api_count(per_repo[r]), r))[:3]
    writes = [e for e in found.requests if classify(e)[1] == "write"]
    kinds = Counter(write_kind(e) for e in writes)
    peak = peak_per_minute([float(e["time"]) for e in writes])
    peak_api = peak_per_minute(
        [float(e["time"]) for e in found.requests if classify(e)[1] != "git"]
    )
    print(f"\nGitHub requests ({len(per_repo)} repos; git smart HTTP apart)")
    print(
        f"  per repo: API mean {statistics.mean(api):.1f}, median {statistics.median(api):g}, "
        f"max {max(api)} ({', '.join(f'{r} {api_count(per_repo[r])}' for r in busiest)})"
    )
    means = ", ".join(
        f"{k} {total[k] / len(per_repo):.1f}" for k in ("write", "read", "poll", "git")
    )
    print(f"  per repo, mean: {means}")
    print(
        f"  whole run: {api_total} API requests = {100 * api_total / TOKEN_LIMIT_PER_HOUR:.0f}% of "
        f"GITHUB_TOKEN's {TOKEN_LIMIT_PER_HOUR:,}/h, {100 * api_total / APP_LIMIT_PER_HOUR:.0f}% "
        f"of an App token's {APP_LIMIT_PER_HOUR:,}/h; peak {peak_api} API requests in any 60 s"
    )
    made = ", ".join(f"{k} {v}" for k, v in sorted(kinds.items(), key=lambda kv: (-kv[1], kv[0])))
    print(f"  content-creating writes: {len(writes)} ({made})")
    per_repo_writes = len(writes) / len(per_repo)
    pace = found.parallel * per_repo_writes * 60.0 / WRITES_PER_MINUTE
    print(
        f"    at max_parallel {found.parallel}, {per_repo_writes:.1f} writes per repo stay under "
        f"{WRITES_PER_MINUTE}/min while a repo takes at least {pace:.0f} s (here: mean "
        f"{statistics.mean(repo_seconds(found.state).values()):.0f} s)"
    )
    print(
        f"    peak {peak} in any 60 s vs {WRITES_PER_MINUTE}/min = {peak / WRITES_PER_MINUTE:.2f}; "
        f"{len(writes)} in the run vs {WRITES_PER_HOUR}/h = {len(writes) / WRITES_PER_HOUR:.2f}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ci", type=float, default=2.0, help="simulated CI seconds (C)")
    parser.add_argument("--delay", type=float, default=2.0, help="index delay seconds (D)")
    parser.add_argument("--repeat", type=int, default=1, help="releases per N (median)")
    parser.add_argument("--keep", type=Path, help="leave sandboxes, states and logs here")
    parser.add_argument(
        "--synthetic", action="store_true", help="release a synthetic family at max_parallel 8"
    )
    parser.add_argument("--repos", type=int, default=50, help="--synthetic: repos")
    parser.add_argument("--tiers", type=int, default=6, help="--synthetic: tiers")
    args = parser.parse_args()
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")

    root = (args.keep or Path(tempfile.mkdtemp(prefix="release-bench-"))).resolve()
    began = time.perf_counter()
    if args.synthetic:
        print(
            f"release bench: synthetic {args.repos} repos in {args.tiers} tiers, "
            f"CI {args.ci:g} s, index delay {args.delay:g} s"
        )
        try:
            return synthetic(root, args.repos, args.tiers, args.ci, args.delay)
        except ReleaseError as error:
            print(error.render(), file=sys.stderr)
            return 1
        finally:
            print(f"\nbench took {time.perf_counter() - began:.0f} s")
            if args.keep is None:
                shutil.rmtree(root, ignore_errors=True)
    print(f"release bench: CI {args.ci:g} s, index delay {args.delay:g} s, repeat {args.repeat}")
    runs: dict[int, list[Measurement]] = {n: [] for n in PARALLELISM}
    graphs = []
    try:
        for round_ in range(args.repeat):
            for n in PARALLELISM:
                found, graph = measure(root / f"n{n}-r{round_}", n, args.ci, args.delay)
                graphs.append(graph)
                runs[n].append(found)
    except ReleaseError as error:
        print(error.render(), file=sys.stderr)
        return 1
    finally:
        if args.keep is None:
            shutil.rmtree(root, ignore_errors=True)
    if any(graph != graphs[0] for graph in graphs):
        print("warning: the plans' graphs differ between sandboxes; using the first")
    print_timing(runs, graphs[0], args.ci, args.delay)
    for n in PARALLELISM:
        print_requests(runs[n][0])
    print(f"\nbench took {time.perf_counter() - began:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
