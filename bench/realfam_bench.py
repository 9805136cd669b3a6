"""Benchmark: plan the six real OmniNode repos as a user would, against git and commitizen.

Clones the bundles of ../shared/realfam (`dev` where a repo has it, else `main`; the
builders of tests/realfam/family.py) with the issue's config (`tag_format = "v{version}"`,
`legacy_tag_patterns = ["{repo}/v{version}"]`), then times, as child processes:

- `release-train plan --workspace W --config W/release-train.toml --format json`;
- `release-train --help` (the CLI's start-up: interpreter and imports);
- `uv python find '<requires-python>'` for each distinct spec of the family: the plan's
  NO_INTERPRETER check, which it runs beside its git scan;
- the raw git work of the plan: per repo, the tag list and one `git log` of the unreleased
  range (reachable from the branch, from no release tag);
- `cz bump --dry-run` (commitizen, the `bench` extra) on the largest repo alone,
  `omnibase_infra`.

Prints wall and CPU (user + sys of the children) medians and their ratios; asserts no
time. A plan that fails is reported with its error, and the other figures still print.

    python bench/realfam_bench.py [--repeat 5] [--keep DIR] [--bundles DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the builders live with the tests

from tests.realfam.family import REALFAM, REPOS, clone_family, realfam_config  # noqa: E402

from release_train.adapters.interpreters import requires_python  # noqa: E402

LARGEST = "omnibase_infra"
# What the plan counts as a release tag with the config, as `git log --not` globs.
RELEASE_GLOBS = ("v[0-9]*", "{repo}/v[0-9]*")
CZ_CONFIG = """\
[tool.commitizen]
name = "cz_conventional_commits"
version_provider = "pep621"
major_version_zero = true
tag_format = "v$version"
legacy_tag_formats = ["{repo}/v$version"]
"""


@dataclass(frozen=True)
class Timing:
    wall: float
    cpu: float  # user + sys of the child processes

    def __str__(self) -> str:
        return f"{self.wall:7.3f} s wall {self.cpu:7.3f} s CPU"


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(fn: Callable[[], object], repeat: int) -> Timing:
    """Medians over `repeat` runs, after one untimed run that warms the page cache."""
    fn()
    walls, cpus = [], []
    for _ in range(repeat):
        cpu, start = children_cpu(), time.perf_counter()
        fn()
        walls.append(time.perf_counter() - start)
        cpus.append(children_cpu() - cpu)
    return Timing(statistics.median(walls), statistics.median(cpus))


def run(
    argv: Sequence[str], cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(argv), cwd=cwd, env=env, capture_output=True, text=True, check=False)


def without_shims() -> dict[str, str] | None:
    """The environment minus pyenv's shims on PATH, or None when PATH has none.

    uv queries every `python3.N` on PATH; a pyenv shim of a version that is not selected
    fails after ~0.1 s each (a GitHub runner or the Docker image has no such shims).
    """
    parts = os.environ.get("PATH", "").split(os.pathsep)
    kept = [p for p in parts if not p.rstrip("/").endswith("pyenv/shims")]
    return None if kept == parts else {**os.environ, "PATH": os.pathsep.join(kept)}


def checked(argv: Sequence[str], cwd: Path | None = None) -> str:
    done = run(argv, cwd)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed: {done.stderr[-500:]}")
    return done.stdout


def raw_git(workspace: Path) -> int:
    """The plan's git work done by hand; returns the number of unreleased commits."""
    commits = 0
    for repo in REPOS:
        path = str(workspace / repo)
        checked(["git", "-C", path, "for-each-ref", "--format=%(refname)", "refs/tags/"])
        globs = [f"--tags={g.format(repo=repo)}" for g in RELEASE_GLOBS]
        log = checked(["git", "-C", path, "log", "--format=%x1e%H%x1f%B", "HEAD", "--not", *globs])
        commits += log.count("\x1e")
    return commits


def plan_argv(workspace: Path) -> list[str]:
    config = workspace / "release-train.toml"
    return [
        *[sys.executable, "-m", "release_train", "plan"],
        *["--workspace", str(workspace), "--config", str(config), "--format", "json"],
    ]


def describe_plan(done: subprocess.CompletedProcess[str]) -> tuple[bool, str]:
    """(whether a plan came out, one line on it): a plan with error problems exits 1 too."""
    try:
        plan = json.loads(done.stdout)
    except ValueError:
        error = (done.stderr.strip().splitlines() or ["no output"])[0]
        return False, f"FAILED (exit {done.returncode}): {error}"
    repos = [*plan.get("entries", []), *plan.get("skipped", [])]
    problems = plan.get("problems", [])
    errors = sum(1 for p in problems if p.get("severity") == "error")
    return True, (
        f"exit {done.returncode}: {len(repos)} repos in the plan, {len(problems)} problems "
        f"({errors} errors)"
    )


def python_specs(workspace: Path) -> list[str]:
    """The distinct `requires-python` of the family's pyprojects, as the plan asks uv."""
    texts = ((workspace / repo / "pyproject.toml").read_text(encoding="utf-8") for repo in REPOS)
    return sorted({spec for text in texts if (spec := requires_python(text)) is not None})


def find_pythons(specs: Sequence[str]) -> None:
    for spec in specs:
        run(["uv", "python", "find", spec])


def prepare(args: argparse.Namespace) -> Path:
    workspace: Path = args.keep or Path(tempfile.mkdtemp(prefix="realfam-bench-")) / "family"
    if not (workspace / REPOS[0]).exists():
        if not args.bundles.is_dir():
            raise SystemExit(f"the real family's bundles are not at {args.bundles}")
        start = time.perf_counter()
        clone_family(args.bundles, workspace)
        print(f"cloned {len(REPOS)} bundles in {time.perf_counter() - start:.2f} s")
    (workspace / "release-train.toml").write_text(realfam_config(), encoding="utf-8")
    return workspace


def commitizen(workspace: Path, repeat: int) -> Timing | None:
    """`cz bump --dry-run` on a copy of the largest repo, given the same two tag formats."""
    if shutil.which("cz") is None:
        print(f"{'cz bump --dry-run':34} not installed (pip install 'release-train[bench]')")
        return None
    copy = workspace.parent / f"cz-{LARGEST}"
    if not copy.exists():
        checked(["git", "clone", "--quiet", "--shared", str(workspace / LARGEST), str(copy)])
        branch = checked(["git", "-C", str(workspace / LARGEST), "branch", "--show-current"])
        checked(["git", "-C", str(copy), "checkout", "--quiet", branch.strip()])
        checked(["git", "-C", str(copy), "fetch", "--quiet", "--tags", "origin"])
        (copy / ".cz.toml").write_text(CZ_CONFIG.format(repo=LARGEST), encoding="utf-8")
    return timed(lambda: checked(["cz", "bump", "--dry-run", "--yes"], copy), repeat)


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--keep", type=Path, help="clone (or reuse) the family here")
    parser.add_argument("--bundles", type=Path, default=REALFAM)
    args = parser.parse_args()
    workspace = prepare(args)
    env_note = os.environ.get("PYTHONPATH", "")
    print(f"workspace {workspace}" + (f" (PYTHONPATH={env_note})" if env_note else ""))

    planned, outcome = describe_plan(run(plan_argv(workspace)))
    plan = timed(lambda: run(plan_argv(workspace)), args.repeat)
    bare = without_shims()
    unshimmed = timed(lambda: run(plan_argv(workspace), env=bare), args.repeat) if bare else None
    start_up = timed(lambda: run([sys.executable, "-m", "release_train", "--help"]), args.repeat)
    specs = python_specs(workspace)
    finds = timed(lambda: find_pythons(specs), args.repeat)
    commits = raw_git(workspace)
    git = timed(lambda: raw_git(workspace), args.repeat)
    cz = commitizen(workspace, args.repeat)

    print(f"plan, 6 repos (CLI process)        {plan}   {outcome}")
    print(f"  of which start-up (--help)       {start_up}")
    if unshimmed is not None:
        print(f"plan, PATH without pyenv shims     {unshimmed}")
    print(f"  uv python find x {len(specs)} (sequential) {finds}   {', '.join(specs)}")
    print(f"raw git, 6 repos ({commits} commits)  {git}")
    if cz is not None:
        print(f"cz bump --dry-run, {LARGEST}   {cz}")
    target = Timing(1.5 * git.wall + 0.3, 1.5 * git.cpu + 0.3)
    print(f"target 1.5 x raw git + 0.3 s       {target}")
    print(f"ratio plan / raw git               {_ratios(plan, git)}")
    if cz is not None:
        print(f"ratio plan of six / cz on one      {_ratios(plan, cz)}")
    plans = [("plan", plan)] + ([("plan without shims", unshimmed)] if unshimmed else [])
    for label, timing in plans:
        verdicts = [("1.5 x git + 0.3 s", timing.wall <= target.wall, timing.cpu <= target.cpu)]
        if cz is not None:
            verdicts.append(("below cz on one", timing.wall < cz.wall, timing.cpu < cz.cpu))
        for name, wall_ok, cpu_ok in verdicts:
            print(f"{label:19} {name:18} wall {_met(wall_ok)}, CPU {_met(cpu_ok)}")
    if not planned:
        print("note: the plan failed, so its times are those of a failing run")
    return 0


def _ratios(a: Timing, b: Timing) -> str:
    return f"{a.wall / b.wall:7.2f} x wall {a.cpu / b.cpu:7.2f} x CPU"


def _met(ok: bool) -> str:
    return "met" if ok else "MISSED"


if __name__ == "__main__":
    raise SystemExit(main())
