"""Benchmark: plan a synthetic 6-repo family of 10,000 commits each.

Prints the plan's wall time, the time of the raw `git log` calls over the same ranges,
their ratio, and the time of commitizen (`cz bump --dry-run`) and python-semantic-release
(`semantic-release --noop version --print`) on one of those repos. Usage:

    python bench/plan_bench.py [--commits 10000] [--repeat 3] [--keep DIR]
"""

from __future__ import annotations

import argparse
import functools
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

from release_train.config import Config
from release_train.planning import PlanRequest, plan_workspace
from release_train.sandbox.builder import Change, RepoBuilder
from release_train.sandbox.family import SAMPLE_FAMILY, RepoSpec, pyproject_text

KINDS = ("fix", "docs", "chore", "refactor", "test", "feat", "perf", "ci")

TOOL_CONFIG = """
[tool.commitizen]
name = "cz_conventional_commits"
version_provider = "pep621"
tag_format = "{repo}/v$version"

[tool.semantic_release]
tag_format = "{repo}/v{{version}}"
version_toml = ["pyproject.toml:project.version"]
commit_parser = "conventional"

[tool.semantic_release.branches.main]
match = "main"
"""


def message(i: int) -> str:
    kind = KINDS[i % len(KINDS)] if i % 997 else "feat"
    body = f"\n\nDetails of change {i}.\n\nRefs: #{i}" if i % 3 == 0 else ""
    return f"{kind}: change number {i}{body}"


def build(root: Path, commits: int) -> None:
    for spec in SAMPLE_FAMILY:
        builder = RepoBuilder(root / spec.name).init()
        pyproject = pyproject_text(spec) + TOOL_CONFIG.format(repo=spec.name)
        builder.commit([Change("chore: initial commit", {"pyproject.toml": pyproject})])
        builder.tag(spec.tag_format.format(repo=spec.name, version=spec.released))
        builder.commit(message(i) for i in range(commits))
        # python-semantic-release insists on an `origin` remote, even with --noop.
        subprocess.run(
            [
                "git",
                "-C",
                str(builder.path),
                "remote",
                "add",
                "origin",
                f"https://example.invalid/bench/{spec.name}.git",
            ],
            check=True,
        )


def timed(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def raw_git(root: Path, specs: tuple[RepoSpec, ...]) -> None:
    for spec in specs:
        tag = spec.tag_format.format(repo=spec.name, version=spec.released)
        subprocess.run(
            ["git", "-C", str(root / spec.name), "log", "--format=%H%x1f%B", f"{tag}..HEAD"],
            check=True,
            capture_output=True,
        )


def run_tool(argv: list[str], cwd: Path) -> None:
    done = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed: {done.stderr[-500:]}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commits", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--keep", type=Path, help="build (or reuse) the family here")
    args = parser.parse_args()

    root = args.keep or Path(tempfile.mkdtemp(prefix="plan-bench-"))
    if not (root / SAMPLE_FAMILY[0].name).exists():
        start = time.perf_counter()
        build(root, args.commits)
        print(f"built 6 repos x {args.commits} commits in {time.perf_counter() - start:.2f} s")
    config = Config.model_validate(
        {
            "owner": "bench",
            "repos": {s.name: {} for s in SAMPLE_FAMILY},
            "legacy_tag_patterns": ["v{version}"],
        }
    )

    def plan() -> None:
        plan_workspace(config, root, PlanRequest(), date(2026, 1, 1))

    plan()  # warm the page cache and imports once
    plan_s = timed(plan, args.repeat)
    git_s = timed(lambda: raw_git(root, SAMPLE_FAMILY), args.repeat)
    config_file = root / "bench.toml"
    config_file.write_text(config_toml(config), encoding="utf-8")
    cli = [sys.executable, "-m", "release_train", "plan", "--offline", "--config", str(config_file)]
    cli_s = timed(lambda: run_tool([*cli, "--workspace", str(root)], root), args.repeat)
    target = 1.5 * git_s + 0.15
    print(f"plan (6 repos, in-process)      {plan_s:8.3f} s")
    print(f"plan (6 repos, CLI process)     {cli_s:8.3f} s")
    print(f"raw git log (6 ranges)          {git_s:8.3f} s")
    print(f"ratio plan / raw git            {plan_s / git_s:8.2f}")
    verdict = "met" if plan_s <= target else "MISSED"
    print(f"target 1.5 x git + 0.15 s       {target:8.3f} s  -> {verdict}")

    one = root / "omnibase_core"
    for name, argv in (
        ("cz bump --dry-run", ["cz", "bump", "--dry-run", "--yes"]),
        (
            "semantic-release --noop version --print",
            ["semantic-release", "--noop", "version", "--print"],
        ),
    ):
        if shutil.which(argv[0]) is None:
            print(f"{name:40} not installed (pip install 'release-train[bench]')")
            continue
        peer = timed(functools.partial(run_tool, argv, one), args.repeat)
        ratio = plan_s / peer
        print(f"{name:40} {peer:8.3f} s on ONE repo; plan of SIX / it = {ratio:.2f}")
    return 0


def config_toml(config: Config) -> str:
    lines = [f'owner = "{config.owner}"', 'legacy_tag_patterns = ["v{version}"]']
    lines += [f"[repos.{name}]" for name in sorted(config.repos)]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    raise SystemExit(main())
